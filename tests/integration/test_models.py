"""Tables on each backend: JSON, aware datetimes, constraints, cascades, SQLite pragmas."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments.models import (
    ALLOWED_TRANSITIONS,
    Assessment,
    AssessmentDomainScore,
    AssessmentStatus,
)
from app.audit import AuditEvent
from app.config import Settings
from app.db import begin_write, make_engine
from app.deps import SessionDep, SettingsDep
from app.structures.models import Structure
from tests.factories import make_assessment, make_structure, make_user


def _reload(session: Session, model: type, key: object) -> object:
    session.expire_all()
    return session.get(model, key)


def test_json_answers_round_trip(session: Session) -> None:
    structure = make_structure(session)
    answers = {
        "internet": "fibre",
        "postes": 12,
        "ratio": 0.75,
        "blocs": ["admin", "soins"],
        "referent": True,
        "commentaire": "Réseau « très » lent à l'étage — 2ᵉ bâtiment",
        "vide": None,
    }
    assessment = make_assessment(session, structure, answers=answers)
    loaded = _reload(session, Assessment, assessment.id)
    assert isinstance(loaded, Assessment)
    assert loaded.answers == answers
    assert loaded.answer_meta["postes"]["revision"] == 1
    assert loaded.result is None


def test_top_level_answer_changes_are_saved(session: Session) -> None:
    assessment = make_assessment(session, make_structure(session), answers={"a": 1})
    assessment.answers["b"] = ["x"]
    assessment.answer_meta["b"] = {"by": None, "at": "2026-01-01T00:00:00+00:00", "revision": 1}
    assessment.version += 1
    session.commit()
    loaded = _reload(session, Assessment, assessment.id)
    assert isinstance(loaded, Assessment)
    assert loaded.answers == {"a": 1, "b": ["x"]}
    assert set(loaded.answer_meta) == {"a", "b"}
    assert loaded.version == 2


def test_result_none_is_sql_null_and_dict_round_trips(session: Session) -> None:
    structure = make_structure(session)
    draft = make_assessment(session, structure)
    done = make_assessment(
        session, structure, "submitted", result={"tier": {"level": 2}, "scores": [1.5, None]}
    )
    ids = session.exec(select(Assessment.id).where(col(Assessment.result).is_(None))).all()
    assert ids == [draft.id]
    loaded = _reload(session, Assessment, done.id)
    assert isinstance(loaded, Assessment)
    assert loaded.result == {"tier": {"level": 2}, "scores": [1.5, None]}


def test_datetimes_are_aware_utc(session: Session) -> None:
    paris_summer = timezone(timedelta(hours=2))
    submitted = datetime(2026, 6, 30, 23, 30, 15, 123456, tzinfo=paris_summer)
    assessment = make_assessment(
        session, make_structure(session), "submitted", submitted_at=submitted
    )
    loaded = _reload(session, Assessment, assessment.id)
    assert isinstance(loaded, Assessment)
    assert loaded.submitted_at == datetime(2026, 6, 30, 21, 30, 15, 123456, tzinfo=UTC)
    assert loaded.submitted_at.utcoffset() == timedelta(0)
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == timedelta(0)
    # Comparisons in SQL use the same conversion.
    later = session.exec(
        select(Assessment.id).where(
            col(Assessment.submitted_at) > datetime(2026, 6, 30, 21, 0, tzinfo=UTC)
        )
    ).all()
    assert later == [assessment.id]


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(AuditEvent(action="login", at=datetime(2026, 1, 1, 12, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
    session.rollback()


def test_domain_scores_cascade_with_their_assessment(session: Session) -> None:
    structure = make_structure(session)
    assessment = make_assessment(
        session, structure, "submitted", domain_scores={"dui": (6, 8), "securite": (0, 0)}
    )
    other = make_assessment(session, structure, "submitted", domain_scores={"dui": (2, 8)})
    scores = session.exec(
        select(AssessmentDomainScore).order_by(col(AssessmentDomainScore.domain_id))
    ).all()
    assert [(s.assessment_id, s.domain_id, s.score) for s in scores] == [
        (assessment.id, "dui", 75.0),
        (other.id, "dui", 25.0),
        (assessment.id, "securite", None),
    ]
    session.delete(assessment)
    session.commit()
    session.expire_all()
    remaining = session.exec(select(AssessmentDomainScore)).all()
    assert [(s.assessment_id, s.domain_id) for s in remaining] == [(other.id, "dui")]


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Assessment(structure_id=999_999, questionnaire_id="q", questionnaire_version="1"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_one_draft_per_structure(session: Session) -> None:
    structure = make_structure(session)
    other = make_structure(session)
    make_assessment(session, structure, "submitted")
    make_assessment(session, structure, "submitted")
    make_assessment(session, structure, "draft")
    make_assessment(session, other, "draft")
    with pytest.raises(IntegrityError):
        make_assessment(session, structure, "draft")
    session.rollback()
    statuses = session.exec(
        select(Assessment.status).where(Assessment.structure_id == structure.id)
    ).all()
    assert sorted(statuses) == ["draft", "submitted", "submitted"]


def test_status_and_role_are_checked(session: Session) -> None:
    structure = make_structure(session)
    session.add(
        Assessment(
            structure_id=structure.id,
            questionnaire_id="q",
            questionnaire_version="1",
            status="archived",
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    session.add(User(email="x@example.fr", password_hash="h", role="boss"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_transitions() -> None:
    transitions = dict(ALLOWED_TRANSITIONS)
    assert transitions == {
        AssessmentStatus.draft: {AssessmentStatus.submitted},
        AssessmentStatus.submitted: set(),
    }


def test_emails_are_stored_lower_case_and_unique(session: Session) -> None:
    user = make_user(session, email="  Marie.Dupont@EHPAD.fr ")
    assert _reload(session, User, user.id).email == "marie.dupont@ehpad.fr"  # type: ignore[union-attr]
    with pytest.raises(IntegrityError):
        make_user(session, email="MARIE.DUPONT@ehpad.fr")
    session.rollback()


def test_finess_is_unique(session: Session) -> None:
    make_structure(session, finess="970302287")
    with pytest.raises(IntegrityError):
        make_structure(session, finess="970302287")
    session.rollback()


def test_director_links(session: Session) -> None:
    a, b = make_structure(session), make_structure(session)
    director = make_user(session, "director", [a, b])
    from app.accounts.models import DirectorStructure

    links = session.exec(
        select(DirectorStructure.structure_id).where(DirectorStructure.user_id == director.id)
    ).all()
    assert sorted(links) == sorted([a.id, b.id])


def test_each_test_starts_empty(session: Session) -> None:
    assert session.exec(select(Structure)).all() == []
    assert session.exec(select(User)).all() == []


def test_sqlite_connection_settings(backend: str, engine: Engine) -> None:
    if backend != "sqlite":
        assert engine.dialect.driver == "psycopg"
        return
    with engine.connect() as conn:
        values = [
            conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        ]
    assert values == ["wal", 2, 1, 5000]


def test_begin_write_takes_the_sqlite_write_lock_up_front(backend: str, fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    try:
        with Session(engine) as session:
            make_structure(session)
            assert session.exec(select(Structure)).first() is not None  # a read transaction
            begin_write(session)
            if backend == "sqlite":
                other = sqlite3.connect(engine.url.database or "", isolation_level=None)
                other.execute("PRAGMA busy_timeout=0")
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            session.commit()
            if backend == "sqlite":
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                other.close()
            with session.begin():
                assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_app_client_uses_the_test_session_and_settings(
    app_client: TestClient, session: Session, settings: Settings
) -> None:
    structure = make_structure(session, name="EHPAD Les Mimosas")

    def probe(db: SessionDep, current: SettingsDep) -> dict[str, object]:
        names = db.exec(select(Structure.name)).all()
        return {"names": names, "env": current.env, "same": db is session}

    app_client.app.add_api_route("/_probe", probe)  # type: ignore[attr-defined]
    assert app_client.get("/healthz").json() == {"status": "ok"}
    assert app_client.get("/_probe").json() == {
        "names": [structure.name],
        "env": "test",
        "same": True,
    }
    assert settings.database_url == str(session.get_bind().engine.url.render_as_string(False))
