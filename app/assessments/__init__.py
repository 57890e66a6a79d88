"""Assessments: the director's draft, autosave, submission, results and the declaration PDF."""
