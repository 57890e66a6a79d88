"""Review of submitted self-assessments by the ARS, and evidence attached to answers.

    models    AssessmentReview (every review kept; the latest is the status), Evidence
    service   review_status(), record_review(), history; evidence add/list/delete
    storage   safe file storage under settings.evidence_dir (random names, type checks)
"""
