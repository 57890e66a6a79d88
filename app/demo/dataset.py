"""Synthetic demo dataset: structures, accounts and assessments scored by the real engine.

`load_demo(session, ...)` fills an EMPTY database (it refuses otherwise) with:

- structures (FINESS ET) across several regions (or, above `NATIONAL_THRESHOLD`, all 18
  regions weighted by population), grouped under organismes gestionnaires (FINESS EJ with
  1 to 15 ET), with a category mix dominated by EHPAD, plausible names, cities and
  capacities; every FINESS number is well-formed with a valid Luhn check digit;
- one director account per organisme gestionnaire, plus the four demo accounts
  (`DEMO_ACCOUNTS`), all with the same password (hashed once);
- assessments: most structures have a submitted one (some 2 or 3 successive submissions
  showing progress), some a draft in progress, some nothing. Drafts and each structure's
  latest submission use the current questionnaire version; older submissions the previous
  version when one is given (`history`), with the same structure profile.

Answers are built per target palier (`AnswerBuilder`): a random answer set biased by a
maturity level, then every requirement of the target palier and of the lower ones is made
true and some requirements of the palier above are made false, by reading the tier
conditions of the questionnaire (no question id is hard-coded there). The answers pass
`validate_answers`, are scored once with `score`, and a set whose placed palier is not the
target is regenerated. Submitted rows hold exactly what `assessments.service.submit`
stores (Result snapshot, tier, global and per-domain scores).

Inserts go through SQLAlchemy Core in batches, so 40,000 structures load in minutes.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.accounts.models import DirectorStructure, User
from app.accounts.passwords import hash_password
from app.audit import AuditEvent
from app.dashboard.read_model import refresh_structures
from app.db import begin_write, utcnow
from app.demo.answers import AnswerBuilder
from app.demo.plan import (
    DEMO_GROUP,
    DemoReport,
    _Group,
    _Site,
    campaign_quarters,
    database_is_empty,
    plan_sites,
    plan_states,
    tier_quotas,
)
from app.demo.profile_answers import fit_profile, profile_answers
from app.demo.profiles import (
    DEFAULT_SEED,
    DEFAULT_STRUCTURES,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    IMPORTED_AT,
    NATIONAL_THRESHOLD,
    DatabaseNotEmpty,
    finess_number,
)
from app.demo.writer import AssessmentWriter, insert_rows, write_site
from app.permissions import Role
from app.reference import finess_categories, regions
from app.structures.models import Structure
from scoring import Questionnaire

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_STRUCTURES",
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "AnswerBuilder",
    "DatabaseNotEmpty",
    "DemoReport",
    "database_is_empty",
    "finess_number",
    "fit_profile",
    "load_demo",
    "profile_answers",
    "tier_quotas",
]


# ---- loading -----------------------------------------------------------------------------


def load_demo(
    session: Session,
    q: Questionnaire,
    *,
    history: Questionnaire | None = None,
    password: str = DEMO_PASSWORD,
    structures: int = DEFAULT_STRUCTURES,
    seed: int = DEFAULT_SEED,
    national: bool | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Fill an empty database with the demo dataset (one transaction); raise
    DatabaseNotEmpty if it holds structures or accounts.

    `q` is the current version: drafts and each structure's latest submission use it; the
    older submissions use `history` (an older version, e.g. 2026.1) when given."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    if structures < len(DEMO_GROUP):
        raise ValueError(f"at least {len(DEMO_GROUP)} structures are needed")
    begin_write(session)
    if not database_is_empty(session):
        session.rollback()
        raise DatabaseNotEmpty()
    rng = random.Random(seed)
    now = now or utcnow()
    national = structures > NATIONAL_THRESHOLD if national is None else national

    sites, groups = plan_sites(structures, rng, national)
    plan_states(sites, rng)
    say(f"{len(sites)} structures prévues, génération des évaluations…")

    builder = AnswerBuilder(q)
    old_builder = AnswerBuilder(history) if history is not None else builder
    quarters = campaign_quarters(now)
    conn = session.connection()
    _insert_accounts(conn, groups, password)
    _insert_structures(conn, sites, groups)

    # Assessments, structure by structure, written in batches (bounded memory at 40,000).
    writer = AssessmentWriter(conn, say)
    for s in sites:
        write_site(writer, s, groups[s.group].user_id, builder, old_builder, quarters, now,
                   rng)
        writer.maybe_flush()
    writer.flush()

    insert_rows(conn, AuditEvent, [{
        "at": now, "user_id": None, "action": "demo_loaded", "object_type": None,
        "object_id": None, "ip": None,
        "details": {"structures": len(sites), "regions": len({s.region for s in sites}),
                    "submitted": writer.n_submitted, "drafts": writer.n_drafts,
                    "seed": seed},
    }])
    refresh_structures(session)  # the dashboards' read model (latest results)
    say("Validation de la transaction…")
    session.commit()
    return _report(sites, groups, writer, password, time.perf_counter() - started)


def _insert_accounts(conn: Connection, groups: list[_Group], password: str) -> None:
    """The demo accounts and one director per group (one argon2 hash for all)."""
    password_hash = hash_password(password)
    user_rows: list[dict[str, Any]] = []
    for email, role, region, name in DEMO_ACCOUNTS[1:]:
        user_rows.append(_user_row(email, name, role, region, password_hash))
    for grp in groups:
        user_rows.append(_user_row(grp.director_email, grp.director_name, Role.director, None,
                                   password_hash))
    user_ids = insert_rows(conn, User, user_rows, returning=True)
    email_to_id = {row["email"]: uid for row, uid in zip(user_rows, user_ids, strict=True)}
    for grp in groups:
        grp.user_id = email_to_id[grp.director_email]


def _insert_structures(conn: Connection, sites: list[_Site], groups: list[_Group]) -> None:
    """The structures and their directors."""
    structure_rows = [{
        "finess": s.finess, "finess_ej": s.finess_ej, "name": s.name,
        "category_code": s.kind.code, "category_label": finess_categories()[s.kind.code].label,
        "department": s.department, "region": s.region, "city": s.city,
        "capacity": s.capacity, "closed": False, "created_at": IMPORTED_AT,
        "updated_at": IMPORTED_AT,
    } for s in sites]
    for s, sid in zip(sites, insert_rows(conn, Structure, structure_rows, returning=True),
                      strict=True):
        s.id = sid
    insert_rows(conn, DirectorStructure, [
        {"user_id": groups[s.group].user_id, "structure_id": s.id, "created_at": IMPORTED_AT}
        for s in sites
    ])


def _report(sites: list[_Site], groups: list[_Group], writer: AssessmentWriter,
            password: str, seconds: float) -> DemoReport:
    region_counts = Counter(s.region for s in sites)
    tier_counts = Counter(s.targets[-1] for s in sites if s.targets)
    demo_sites = [s for s in sites if s.group == 0]
    region_name = regions()[demo_sites[0].region].name
    accounts = [
        (DEMO_ACCOUNTS[0][0], Role.director.value,
         f"{len(demo_sites)} structures ({region_name})"),
        (DEMO_ACCOUNTS[1][0], Role.ars.value, regions()["84"].name),
        (DEMO_ACCOUNTS[2][0], Role.committee.value, "national"),
        (DEMO_ACCOUNTS[3][0], Role.admin.value, "toute la plateforme"),
    ]
    return DemoReport(
        structures=len(sites),
        regions=dict(sorted(region_counts.items())),
        groups=len(groups),
        submitted=writer.n_submitted,
        with_submission=sum(1 for s in sites if s.submissions),
        with_history=sum(1 for s in sites if s.submissions >= 2),
        drafts=writer.n_drafts,
        tiers=dict(sorted(tier_counts.items())),
        accounts=accounts,
        director_accounts=len(groups) - 1,
        password=password,
        seconds=seconds,
    )


def _user_row(email: str, name: str, role: Role, region: str | None,
              password_hash: str) -> dict[str, Any]:
    return {"email": email.strip().lower(), "name": name, "password_hash": password_hash,
            "role": role.value, "region": region, "active": True, "created_at": IMPORTED_AT,
            "updated_at": IMPORTED_AT}
