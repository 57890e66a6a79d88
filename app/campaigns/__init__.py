"""ARS campaigns: a region's call to fill in the self-assessment by a deadline, the
structures it targets, and the reminders sent to their directors."""
