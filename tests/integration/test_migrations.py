"""Alembic: empty → head → base → head on each backend, and head matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

import app.model_registry  # noqa: F401  (every table in SQLModel.metadata)
from app.assessments.models import Assessment
from app.cli.db import downgrade_database, upgrade_database
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
