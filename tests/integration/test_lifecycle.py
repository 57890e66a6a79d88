"""The assessment lifecycle: `transition()` is the only way a status changes."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from app.assessments.lifecycle import editable, ensure_editable, transition
from app.assessments.models import Assessment, AssessmentStatus
from app.errors import NotEditable
from tests.factories import make_assessment, make_structure


def _status(session: Session, a: Assessment) -> str:
    session.expire(a)
    return session.get_one(Assessment, a.id).status


def test_a_draft_moves_to_submitted_once(session: Session) -> None:
    a = make_assessment(session, make_structure(session))
    version = a.version
    assert transition(session, a, AssessmentStatus.submitted) is True
    assert _status(session, a) == "submitted"
    assert a.version == version + 1


def test_a_stale_copy_does_not_move(session: Session) -> None:
    """The write is a compare-and-swap: a copy read before another change moves nothing."""
    a = make_assessment(session, make_structure(session))
    session.execute(update(Assessment).where(col(Assessment.id) == a.id)  # another save
                    .values(version=a.version + 1)
                    .execution_options(synchronize_session=False))
    assert transition(session, a, AssessmentStatus.submitted) is False
    assert _status(session, a) == "draft"


@pytest.mark.parametrize("target", [AssessmentStatus.draft, AssessmentStatus.submitted])
def test_a_submitted_assessment_never_moves(session: Session,
                                            target: AssessmentStatus) -> None:
    a = make_assessment(session, make_structure(session), AssessmentStatus.submitted)
    with pytest.raises(NotEditable):
        transition(session, a, target)
    assert _status(session, a) == "submitted"


def test_only_a_draft_is_editable(session: Session) -> None:
    structure = make_structure(session)
    draft = make_assessment(session, structure)
    assert editable(draft)
    ensure_editable(draft)
    submitted = make_assessment(session, structure, AssessmentStatus.submitted)
    assert not editable(submitted)
    with pytest.raises(NotEditable, match="preuves"):
        ensure_editable(submitted, "Ses preuves ne peuvent plus être modifiées.")
