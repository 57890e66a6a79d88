"""The assessment lifecycle: draft → submitted, nothing else (`ALLOWED_TRANSITIONS`).

`transition()` is the only way a status changes: it refuses a move the table does not allow
and writes the new status as a compare-and-swap on the row's version and current status, so
two concurrent requests can never both move the same assessment. `ensure_editable()` is the
one check before answers or evidence change: only a draft (a status that can still move) is
editable.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from app.assessments.models import ALLOWED_TRANSITIONS, Assessment, AssessmentStatus
from app.errors import NotEditable


def editable(a: Assessment) -> bool:
    """A draft: its answers and evidence may still change (a final status never moves)."""
    return editable_status(a.status)


def editable_status(status: str) -> bool:
    """`editable` for an assessment read as plain columns."""
    return bool(ALLOWED_TRANSITIONS[AssessmentStatus(status)])


def ensure_editable(a: Assessment, message: str | None = None) -> None:
    """Raise NotEditable (409) unless the assessment is still a draft."""
    if not editable(a):
        raise NotEditable(message)


def transition(session: Session, a: Assessment, target: AssessmentStatus,
               **values: Any) -> bool:
    """Move `a` to `target`, writing `values` too, if its row still has the version and
    status read into `a`. Raises NotEditable for a move ALLOWED_TRANSITIONS refuses; False
    when the row changed in between (the caller re-reads and retries). The caller commits."""
    current = AssessmentStatus(a.status)
    if target not in ALLOWED_TRANSITIONS[current]:
        raise NotEditable()
    result = session.exec(
        update(Assessment)
        .where(col(Assessment.id) == a.id, col(Assessment.version) == a.version,
               col(Assessment.status) == current.value)
        .values(status=target.value, version=a.version + 1, **values)
    )
    return result.rowcount == 1
