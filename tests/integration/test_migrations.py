"""Alembic: empty → head → base → head on each backend, and head matches the models."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

import app.model_registry  # noqa: F401  (every table in SQLModel.metadata)
from app.assessments.models import Assessment, AssessmentDomainScore
from app.cli.db import downgrade_database, upgrade_database
from app.dashboard.models import LatestResult
from app.db import make_engine
from app.structures.models import Structure

TABLES = {
    "alembic_version",
    "api_token",
    "assessment",
    "assessment_domain_score",
    "assessment_message",
    "assessment_next_step",
    "assessment_review",
    "audit_event",
    "auth_session",
    "campaign",
    "campaign_reminder",
    "dashboard_state",
    "dashboard_submission",
    "director_structure",
    "evidence",
    "export_job",
    "external_identity",
    "import_job",
    "invitation",
    "invitation_structure",
    "latest_domain_score",
    "latest_result",
    "login_attempt",
    "login_challenge",
    "next_step_text",
    "oidc_link_token",
    "oidc_login_request",
    "oidc_session",
    "password_reset_token",
    "recovery_code",
    "shortlist",
    "shortlist_assessment_facts",
    "shortlist_candidate",
    "stored_file",
    "structure",
    "structure_correction",
    "trusted_device",
    "user_account",
    "user_totp",
}


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


# procrastinate's schema, on PostgreSQL only (migration 0011): the job queue.
QUEUE_TABLES = {"procrastinate_events", "procrastinate_jobs", "procrastinate_periodic_defers",
                "procrastinate_workers"}


def _include(name: str | None, type_: str, _parents: object) -> bool:
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def _check_head(engine: Engine) -> None:
    queue = QUEUE_TABLES if engine.dialect.name == "postgresql" else set()
    assert _tables(engine) == TABLES | queue
    indexes = {i["name"]: i for i in inspect(engine).get_indexes("assessment")}
    assert indexes["uq_assessment_one_draft"]["unique"]
    assert indexes["uq_assessment_one_draft"]["column_names"] == ["structure_id"]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                       "include_name": _include})
        assert compare_metadata(context, SQLModel.metadata) == []


def _check_draft_index(engine: Engine) -> None:
    with Session(engine) as session:
        structure = Structure(
            finess="970302287",
            name="EHPAD de Cayenne",
            category_code="500",
            category_label="EHPAD",
            department="973",
            region="03",
        )
        session.add(structure)
        session.commit()

        def assessment(status: str) -> Assessment:
            return Assessment(
                structure_id=structure.id,
                questionnaire_id="esms-maturite-numerique",
                questionnaire_version="2026.1",
                status=status,
            )

        session.add_all([assessment("submitted"), assessment("draft")])
        session.commit()
        session.add(assessment("submitted"))
        session.commit()
        session.add(assessment("draft"))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()


def test_upgrade_downgrade_upgrade(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert _tables(engine) == set()
        upgrade_database(empty_db_url)
        _check_head(engine)
        _check_draft_index(engine)

        downgrade_database("base", empty_db_url)
        assert _tables(engine) <= {"alembic_version"}

        upgrade_database(empty_db_url)
        _check_head(engine)
        _check_draft_index(engine)  # the downgrade dropped the data too
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(empty_db_url: str) -> None:
    upgrade_database(empty_db_url)
    upgrade_database(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        _check_head(engine)
    finally:
        engine.dispose()


def test_history_is_linear() -> None:
    """One head, and every revision revises exactly one other (no branches, no merges)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config("alembic.ini"))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    for rev in revisions:
        assert not isinstance(rev.down_revision, tuple | list), rev.revision
    chain = [rev.revision for rev in reversed(revisions)]
    assert chain[:6] == ["0001", "0002", "0003", "0004", "0005", "0006"]


def _lz4_code(conn: Connection) -> str:
    """`attcompression` of a column compressed with lz4 here: "l" where PostgreSQL is built
    with lz4, else "" (the default)."""
    methods = conn.execute(text("SELECT enumvals FROM pg_settings "
                                "WHERE name = 'default_toast_compression'")).scalar() or []
    return "l" if "lz4" in methods else ""


def _rows_compression(conn: Connection) -> str:
    return str(conn.execute(text(
        "SELECT attcompression FROM pg_attribute WHERE attname = 'rows' "
        "AND attrelid = 'shortlist'::regclass")).scalar() or "")


def test_0014_fills_the_domain_scores_of_the_shortlists_read_model(empty_db_url: str) -> None:
    """Rows of `shortlist_candidate` written before 0014 get their result's domain scores as
    canonical JSON text (keys sorted, no spaces, null kept); rows without scores get {}."""
    upgrade_database(empty_db_url, "0013")
    engine = make_engine(empty_db_url)
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    try:
        with Session(engine) as session:
            ids = []
            for finess in ("690000001", "690000002"):
                s = Structure(finess=finess, name="EHPAD", category_code="500",
                              category_label="EHPAD", department="69", region="84")
                session.add(s)
                session.flush()
                a = Assessment(structure_id=s.id, questionnaire_id="q", questionnaire_version="1",
                               status="submitted", submitted_at=when)
                session.add(a)
                session.flush()
                session.add(LatestResult(structure_id=s.id, assessment_id=a.id,
                                         questionnaire_id="q", questionnaire_version="1",
                                         submitted_at=when, category_code="500",
                                         department="69", region="84"))
                ids.append((s.id, a.id))
            (s1, a1), (s2, _) = ids
            session.add_all([
                AssessmentDomainScore(assessment_id=a1, domain_id="securite", score=None,
                                      earned=0, max=0),
                AssessmentDomainScore(assessment_id=a1, domain_id="dui", score=62.5,
                                      earned=5, max=8)])
            session.flush()
            for sid, aid in ids:
                session.execute(text("INSERT INTO shortlist_candidate (structure_id, "
                                     "assessment_id, readiness, funding) VALUES (:s, :a, 1, '|')"),
                                {"s": sid, "a": aid})
            session.commit()
        upgrade_database(empty_db_url)
        with engine.connect() as conn:
            stored = dict(conn.execute(text(
                "SELECT structure_id, domain_scores FROM shortlist_candidate")).all())
            assert stored == {s1: '{"dui":62.5,"securite":null}', s2: "{}"}
            if engine.dialect.name == "postgresql":  # lz4 for new shortlists' rows, if built
                assert _rows_compression(conn) == _lz4_code(conn)
    finally:
        engine.dispose()


def test_0015_compresses_drafts_documents_with_lz4(empty_db_url: str) -> None:
    """On PostgreSQL built with lz4, 0015 compresses `assessment`'s two documents with it;
    its downgrade puts the default back. Elsewhere it changes nothing."""
    upgrade_database(empty_db_url, "0015")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
                == "0015"
        if engine.dialect.name != "postgresql":
            downgrade_database("0014", empty_db_url)
            return

        def compression() -> dict[str, str]:
            with engine.connect() as conn:
                return dict(conn.execute(text(
                    "SELECT attname, attcompression FROM pg_attribute "
                    "WHERE attrelid = 'assessment'::regclass "
                    "AND attname IN ('answers', 'answer_meta')")).all())

        with engine.connect() as conn:
            lz4 = _lz4_code(conn)
        assert compression() == {"answers": lz4, "answer_meta": lz4}
        downgrade_database("0014", empty_db_url)
        assert compression() == {"answers": "", "answer_meta": ""}
    finally:
        engine.dispose()


def test_0016_counts_shortlist_rows_and_keeps_them_as_json_text(empty_db_url: str) -> None:
    """0016 fills `shortlist.row_count` from the stored rows (2 and 0 here, counted by hand)
    and, on PostgreSQL, turns `rows` from jsonb into json with the same rows; its downgrade
    gives jsonb back and drops the count."""
    upgrade_database(empty_db_url, "0015")
    engine = make_engine(empty_db_url)
    pg = engine.dialect.name == "postgresql"
    try:
        with engine.begin() as conn:
            for name, rows in (("deux", '[{"rank": 1, "finess": "690000001"}, '
                                        '{"rank": 2, "finess": "690000002"}]'),
                               ("vide", "[]")):
                conn.execute(text(
                    "INSERT INTO shortlist (name, created_at, criteria, "
                    "questionnaire_versions, rows, excluded, hash) VALUES (:n, :at, '{}', "
                    f"'[]', {'CAST(:r AS jsonb)' if pg else ':r'}, '{{}}', 'h')"),
                    {"n": name, "r": rows, "at": datetime(2026, 3, 1, tzinfo=UTC)})
        upgrade_database(empty_db_url, "0016")
        with engine.connect() as conn:
            assert dict(conn.execute(text("SELECT name, row_count FROM shortlist")).all()) \
                == {"deux": 2, "vide": 0}
            stored = conn.execute(text(
                "SELECT rows FROM shortlist WHERE name = 'deux'")).scalar()
            stored = json.loads(stored) if isinstance(stored, str) else stored
            assert stored == [{"rank": 1, "finess": "690000001"},
                              {"rank": 2, "finess": "690000002"}]
            if pg:  # json now, still compressed as 0014 set it (lz4 where built with it)
                assert conn.execute(text(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_name = 'shortlist' AND column_name = 'rows'")).scalar() \
                    == "json"
                assert _rows_compression(conn) == _lz4_code(conn)
        downgrade_database("0015", empty_db_url)
        columns = {c["name"]: c for c in inspect(engine).get_columns("shortlist")}
        assert "row_count" not in columns
        if pg:
            with engine.connect() as conn:
                assert conn.execute(text(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_name = 'shortlist' AND column_name = 'rows'")).scalar() \
                    == "jsonb"
    finally:
        engine.dispose()
