"""assessments.page_read.read_page (issue 14): the section page's one statement reads the
cookie's session as `resolve_session` judges it, and the assessment with what its page needs.
Expected values are written by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from app.accounts import auth
from app.accounts.models import AuthSession
from app.assessments.page_read import read_page
from app.audit import record
from app.config import Settings
from app.db import utcnow
from app.permissions import Role
from app.reviews.models import AssessmentReview, Evidence
from tests.factories import make_assessment, make_structure, make_user


def _open(session: Session, settings: Settings, user: object) -> tuple[str, AuthSession]:
    raw, row = auth.open_session(session, settings, user)  # type: ignore[arg-type]
    return raw, row


def test_a_live_session_and_its_draft(session: Session, settings: Settings) -> None:
    s1 = make_structure(session, name="EHPAD Les Tilleuls", department="69")
    s2 = make_structure(session, name="SSIAD du Rhône", department="69")
    user = make_user(session, Role.director, [s1, s2], name="Claire Martin")
    draft = make_assessment(session, s1, answers={"wifi": "complet"}, version=3)
    raw, auth_session = _open(session, settings, user)
    conn = session.connection()

    live, found = read_page(conn, settings, raw, draft.id or 0)
    assert live is not None and found is not None
    assert live.csrf_token == auth_session.csrf_token
    assert live.structure_ids == {s1.id, s2.id}
    assert live.needs_touch is False
    assert (live.user.id, live.user.name, live.user.role) == (user.id, "Claire Martin",
                                                              "director")
    a = found.assessment
    assert (a.id, a.structure_id, a.status, a.version, a.answers) == (
        draft.id, s1.id, "draft", 3, {"wifi": "complet"})
    assert a.questionnaire_id == "esms-maturite-numerique"
    assert a.submitted_at is None and a.updated_at.tzinfo is not None
    assert (found.structure.name, found.structure.finess, found.structure.region) == (
        "EHPAD Les Tilleuls", s1.finess, "84")
    assert (found.has_evidence, found.carried, found.latest_review) == (False, None, None)

    # an unknown assessment: the session still read
    live, found = read_page(conn, settings, raw, (draft.id or 0) + 1000)
    assert live is not None and found is None
    # an unknown cookie
    assert read_page(conn, settings, "not-a-session", draft.id or 0) == (None, None)


def test_evidence_carry_over_and_the_latest_review(session: Session,
                                                   settings: Settings) -> None:
    s = make_structure(session, department="69")
    user = make_user(session, Role.director, [s])
    old = make_assessment(session, s, "submitted",
                          submitted_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    last = make_assessment(session, s, "submitted",
                           submitted_at=datetime(2026, 2, 5, 10, 0, tzinfo=UTC))
    session.add(AssessmentReview(assessment_id=old.id, status="a_revoir", comment="old"))
    session.add(AssessmentReview(assessment_id=last.id, status="a_revoir", comment="1"))
    session.add(AssessmentReview(assessment_id=last.id, status="validee", comment="2"))
    draft = make_assessment(session, s, questionnaire_version="2026.2")
    session.add(Evidence(assessment_id=draft.id, question_id="wifi", kind="note", note="n",
                         uploaded_by=user.id))
    record(session, user.id, "draft_carried_over", "assessment", str(draft.id),
           {"from": "2026.1", "to": "2026.1", "added": []})  # an older carry-over
    record(session, user.id, "draft_carried_over", "assessment", str(draft.id),
           {"from": "2026.1", "to": "2026.2", "added": ["x"]})
    session.commit()
    raw, _ = _open(session, settings, user)

    live, found = read_page(session.connection(), settings, raw, draft.id or 0)
    assert live is not None and found is not None
    assert found.has_evidence is True
    assert found.carried is not None
    assert {k: found.carried[k] for k in ("from", "to", "added")} == {
        "from": "2026.1", "to": "2026.2", "added": ["x"]}
    assert found.carried["at"].tzinfo is not None
    assert found.latest_review == "validee"  # the latest review of the latest submission

    session.add(AssessmentReview(assessment_id=last.id, status="a_revoir", comment="3"))
    session.commit()
    _, found = read_page(session.connection(), settings, raw, draft.id or 0)
    assert found is not None and found.latest_review == "a_revoir"


def test_sessions_the_route_refuses_or_touches(session: Session, settings: Settings) -> None:
    s = make_structure(session, department="69")
    user = make_user(session, Role.ars, region="84")
    a = make_assessment(session, s)
    raw, row = _open(session, settings, user)
    conn = session.connection()
    live, _ = read_page(conn, settings, raw, a.id or 0)
    assert live is not None and live.structure_ids == frozenset()  # not a director

    row.last_seen_at = utcnow() - timedelta(minutes=2)  # activity due to be recorded
    session.add(row)
    session.commit()
    live, _ = read_page(session.connection(), settings, raw, a.id or 0)
    assert live is not None and live.needs_touch is True

    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    session.add(row)
    session.commit()
    assert read_page(session.connection(), settings, raw, a.id or 0)[0] is None  # idle

    row.last_seen_at = utcnow()
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    assert read_page(session.connection(), settings, raw, a.id or 0)[0] is None  # revoked

    raw2, _ = _open(session, settings, user)
    user.active = False
    session.add(user)
    session.commit()
    assert read_page(session.connection(), settings, raw2, a.id or 0)[0] is None  # inactive
