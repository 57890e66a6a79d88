"""`palier demo`: the demo dataset on a fresh database (real commits), and the CLI.

Every submitted assessment is re-scored here through the engine and compared with what was
stored; expected proportions and accounts are written by hand from the issue.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.accounts.models import DirectorStructure, User
from app.accounts.passwords import verify_password
from app.assessments.models import Assessment, AssessmentDomainScore
from app.audit import AuditEvent
from app.cli import cli
from app.config import get_settings
from app.db import make_engine
from app.demo.dataset import DEMO_PASSWORD, DatabaseNotEmpty, load_demo
from app.demo.profile_answers import CATEGORIE
from app.reference import departments
from app.structures.finess import department_of, validate
from app.structures.models import Structure
from scoring import Questionnaire, load_questionnaire, score, validate_answers

PATH = (
    Path(__file__).resolve().parents[2] / "questionnaires" / "esms-maturite-numerique-2026.2.yaml"
)
PATH_HISTORY = PATH.with_name("esms-maturite-numerique-2026.1.yaml")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
# Plausible capacity ranges per category, from the issue: EHPAD 30–150, SSIAD 20–120,
# IME 20–90, MAS 20-70, FAM 15-60.
CAPACITY = {"500": (30, 150), "354": (20, 120), "183": (20, 90), "255": (20, 70),
            "437": (15, 60)}


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_questionnaire(PATH)


@pytest.fixture(scope="module")
def history() -> Questionnaire:
    return load_questionnaire(PATH_HISTORY)


@pytest.fixture
def demo_engine(fresh_db_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_db_url)
    yield engine
    engine.dispose()


def test_demo_dataset(demo_engine: Engine, q: Questionnaire, history: Questionnaire) -> None:
    with Session(demo_engine) as session:
        report = load_demo(session, q, history=history, now=NOW)
    assert report.structures == 320
    assert report.password == DEMO_PASSWORD

    with Session(demo_engine) as session:
        structures = session.exec(select(Structure)).all()
        assessments = session.exec(select(Assessment)).all()
        domain_rows = session.exec(select(AssessmentDomainScore)).all()
        users = {u.email: u for u in session.exec(select(User)).all()}
        links = session.exec(select(DirectorStructure)).all()
        audit = Counter(e.action for e in session.exec(select(AuditEvent)).all())

    # Structures: count, regions, FINESS, groups, capacities.
    assert len(structures) >= 300
    regions = {s.region for s in structures}
    assert len(regions) >= 3
    assert {"84", "11", "76", "03", "94"} <= regions
    for s in structures:
        for number in (s.finess, s.finess_ej):
            assert number is not None
            check = validate(number)
            assert check.ok and not check.warnings, (number, check.errors, check.warnings)
        assert department_of(s.finess) == s.department
        assert departments()[s.department].region_code == s.region
        assert s.name and s.city and s.capacity and s.capacity > 0
        # The search column, written by the demo's Core inserts: "name | commune", folded.
        assert re.fullmatch(r"[a-z0-9]+( [a-z0-9]+)* \| [a-z0-9]+( [a-z0-9]+)*", s.search), \
            s.search
        if s.category_code in CAPACITY:
            low, high = CAPACITY[s.category_code]
            assert low <= s.capacity <= high, (s.name, s.capacity)
    assert len({s.finess for s in structures}) == len(structures)
    guyane = [s for s in structures if s.department == "973"]
    assert guyane and all(s.finess.startswith("9703") for s in guyane)
    assert {s.department for s in structures if s.region == "94"} <= {"2A", "2B"}
    assert any(s.finess[:2] in ("2A", "2B") for s in structures)
    per_ej = Counter(s.finess_ej for s in structures)
    assert max(per_ej.values()) <= 15
    assert sum(1 for n in per_ej.values() if n >= 2) >= 10
    categories = Counter(s.category_code for s in structures)
    assert categories.most_common(1)[0][0] == "500"  # EHPAD first
    assert {"354", "460", "183", "255", "437", "246", "382"} <= set(categories)

    # Submitted assessments: stored result = the engine's result for the stored answers.
    by_structure: dict[int, list[Assessment]] = defaultdict(list)
    scores_of: dict[int, dict[str, AssessmentDomainScore]] = defaultdict(dict)
    for row in domain_rows:
        scores_of[row.assessment_id][row.domain_id] = row
    drafts = [a for a in assessments if a.status == "draft"]
    submitted = [a for a in assessments if a.status == "submitted"]
    assert len(submitted) >= 250
    version_of = {q.version: q, history.version: history}
    for a in submitted:
        assert a.questionnaire_id == q.id and a.questionnaire_version in version_of
        used = version_of[a.questionnaire_version]
        assert validate_answers(used, a.answers) == []
        result = score(used, a.answers)
        assert a.result == result.to_dict()
        assert a.complete is True
        assert a.tier_level == result.tier_level == a.result["tier"]["level"]
        assert a.tier_id == a.result["tier"]["id"]
        assert a.global_score == a.result["global_score"]
        assert a.submitted_at is not None and a.submitted_by is not None
        assert datetime(2024, 1, 1, tzinfo=UTC) <= a.submitted_at <= NOW
        assert a.created_at <= a.submitted_at
        stored = scores_of[a.id or 0]
        assert set(stored) == {d["id"] for d in result.domains}
        for d in result.domains:
            assert stored[d["id"]].score == d["score"]
            assert stored[d["id"]].earned == d["earned"]
            assert stored[d["id"]].max == d["max"]
        by_structure[a.structure_id].append(a)
    assert not any(scores_of[a.id or 0] for a in drafts)

    # Drafts: valid partial answers, at most one per structure.
    assert len(drafts) >= 10
    assert len({a.structure_id for a in drafts}) == len(drafts)
    for a in drafts:
        assert a.questionnaire_version == q.version  # current drafts: the newest version
        assert validate_answers(q, a.answers) == []
        assert a.result is None and a.tier_level is None and a.submitted_at is None
    assert sum(1 for a in drafts if a.structure_id not in by_structure) >= 5  # first ones
    assert sum(1 for a in drafts if a.structure_id in by_structure) >= 5  # new ones

    # History: successive submissions, never a lower palier.
    histories = [sorted(v, key=lambda a: a.submitted_at or NOW) for v in by_structure.values()]
    assert sum(1 for h in histories if len(h) >= 2) >= 30
    assert any(len(h) == 3 for h in histories)
    for h in histories:
        levels = [a.tier_level or 0 for a in h]
        assert levels == sorted(levels)
        # The latest submission on 2026.2, the older ones on 2026.1.
        assert [a.questionnaire_version for a in h] == ["2026.1"] * (len(h) - 1) + ["2026.2"]

    # Profiles follow the FINESS category, in both versions, the same over time.
    category = {s.id: s.category_code for s in structures}
    for h in histories:
        code = category[h[-1].structure_id]
        new = h[-1].answers
        assert new["categorie"] == CATEGORIE[code]
        if code == "500":
            assert new["medicalisation"] == "equipe_medicale"
        if code in ("246", "214", "460"):  # ESAT, CHRS, SAA: no care
            assert new["medicalisation"] == "non"
        for older in h[:-1]:
            assert "categorie" not in older.answers
            assert (older.answers["medicalise"] == "non") == (new["medicalisation"] == "non")
            assert older.answers["public_accueilli"] == new["public_accueilli"]
    # "Je ne sais pas" now and then on 2026.2 (not on most assessments).
    with_unknown = sum(1 for h in histories if h[-1].result and h[-1].result["unknown"])
    assert 0.1 <= with_unknown / len(histories) <= 0.6, with_unknown
    untouched = {s.id for s in structures} - set(by_structure) - {a.structure_id for a in drafts}
    assert len(untouched) >= 5

    # Paliers of each structure's latest submission: every palier >= 5 %, 1 and 2 > 50 %.
    latest = Counter(h[-1].tier_level for h in histories)
    total = sum(latest.values())
    assert total == len(by_structure)
    for level in range(5):
        assert latest[level] / total >= 0.05, latest
    assert (latest[1] + latest[2]) / total > 0.5, latest
    assert report.tiers == dict(latest)

    # Accounts.
    assert users["directeur@demo.palier.fr"].role == "director"
    assert users["ars@demo.palier.fr"].role == "ars"
    assert users["ars@demo.palier.fr"].region == "84"
    assert users["comite@demo.palier.fr"].role == "committee"
    assert users["comite@demo.palier.fr"].region is None  # national
    assert users["admin@demo.palier.fr"].role == "admin"
    for email in ("directeur@demo.palier.fr", "ars@demo.palier.fr", "comite@demo.palier.fr",
                  "admin@demo.palier.fr"):
        assert users[email].active
    assert verify_password(DEMO_PASSWORD, users["admin@demo.palier.fr"].password_hash)
    assert not verify_password("autre-mot-de-passe", users["admin@demo.palier.fr"].password_hash)
    director = users["directeur@demo.palier.fr"]
    mine = {link.structure_id for link in links if link.user_id == director.id}
    assert len(mine) >= 3
    assert {s.region for s in structures if s.id in mine} == {"84"}
    assert any(a.structure_id in mine for a in drafts)
    assert any(len(by_structure[sid]) >= 2 for sid in mine)
    assert any(sid not in by_structure for sid in mine)
    # Every structure has a director account.
    assert {link.structure_id for link in links} == {s.id for s in structures}

    assert audit["submit"] == len(submitted)
    assert audit["draft_created"] == len(drafts)
    assert audit["demo_loaded"] == 1

    # A second run refuses, and changes nothing.
    with Session(demo_engine) as session, pytest.raises(DatabaseNotEmpty):
        load_demo(session, q, history=history, now=NOW)
    with Session(demo_engine) as session:
        assert len(session.exec(select(Structure)).all()) == len(structures)
        assert len(session.exec(select(col(Assessment.id))).all()) == len(assessments)


def test_demo_refuses_when_only_accounts_exist(demo_engine: Engine, q: Questionnaire) -> None:
    with Session(demo_engine) as session:
        session.add(User(email="someone@example.fr", password_hash="x", role="admin"))
        session.commit()
    with Session(demo_engine) as session, pytest.raises(DatabaseNotEmpty):
        load_demo(session, q)
    with Session(demo_engine) as session:
        assert session.exec(select(Structure)).first() is None


@pytest.fixture
def cli_db(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PALIER_DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    yield fresh_db_url
    get_settings.cache_clear()


def _count(url: str, model: type[Structure] | type[User]) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return len(session.exec(select(model)).all())
    finally:
        engine.dispose()


def test_cli_demo(cli_db: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--password", "trop-court"])
    assert result.exit_code == 1
    assert "12 caractères" in result.output
    assert _count(cli_db, Structure) == 0

    result = runner.invoke(cli, ["demo", "--structures", "40", "--password",
                                 "un-mot-de-passe-de-demo"])
    assert result.exit_code == 0, result.output
    assert "40 structures" in result.output
    for email in ("directeur@demo.palier.fr", "ars@demo.palier.fr", "comite@demo.palier.fr",
                  "admin@demo.palier.fr"):
        assert email in result.output
    assert "un-mot-de-passe-de-demo" in result.output
    assert _count(cli_db, Structure) == 40
    engine = make_engine(cli_db)
    try:
        with Session(engine) as session:
            versions = Counter(a.questionnaire_version
                               for a in session.exec(select(Assessment)).all())
    finally:
        engine.dispose()
    assert set(versions) == {"2026.1", "2026.2"}  # the history on the older version
    assert versions["2026.2"] > versions["2026.1"]

    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 1
    assert "base vide" in result.output

    result = runner.invoke(cli, ["demo", "--if-empty"])
    assert result.exit_code == 0
    assert result.output == ""
    assert _count(cli_db, Structure) == 40


def test_cli_demo_if_empty_loads_an_empty_database(cli_db: str) -> None:
    # 7 structures: the director's 6 and one more (the smallest datasets keep their size).
    result = CliRunner().invoke(cli, ["demo", "--if-empty", "--structures", "7"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    assert _count(cli_db, Structure) == 7
    assert _count(cli_db, User) >= 5


def test_cli_demo_needs_a_migrated_database(empty_db_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALIER_DATABASE_URL", empty_db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["demo"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "palier db upgrade" in result.output
