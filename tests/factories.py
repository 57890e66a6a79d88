"""Small factories for integration tests. Each one commits (inside the test's savepoint, so
the test's rollback still undoes it) and returns the refreshed object.

    s = make_structure(session, department="2A")
    director = make_user(session, role="director", structures=[s])
    draft = make_assessment(session, s)
    done = make_assessment(session, s, status="submitted", tier_level=2, global_score=55.0)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from sqlmodel import Session

from app.accounts.mfa_models import UserTotp
from app.accounts.models import DirectorStructure, User
from app.accounts.passwords import hash_password
from app.assessments.models import Assessment, AssessmentDomainScore, AssessmentStatus
from app.db import utcnow
from app.permissions import Role
from app.reference import departments, finess_categories
from app.structures.finess import luhn_check_digit
from app.structures.models import Structure

DEFAULT_PASSWORD = "mot-de-passe-de-test"
# The TOTP secret of every ars, committee and admin account made here (enrolled): tests
# compute its codes with pyotp, as the user's phone would (tests/auth_helpers.py).
DEFAULT_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
QUESTIONNAIRE_ID = "esms-maturite-numerique"
QUESTIONNAIRE_VERSION = "2026.2"  # the newest version: what new drafts use

_serial = itertools.count(1)


@cache
def _hash(password: str) -> str:
    # argon2 is deliberately slow: hash each distinct test password once per run.
    return hash_password(password)


def finess_for(department: str, serial: int) -> str:
    """A FINESS number registered in `department` with a valid check digit."""
    prefix = "970" + department[2] if len(department) == 3 else department
    width = 8 - len(prefix)
    body = f"{prefix}{serial % 10**width:0{width}d}"
    return body + luhn_check_digit(body)


def make_structure(session: Session, **kw: Any) -> Structure:
    """A structure; defaults: an EHPAD in the Rhône (69, region 84), unique valid FINESS.

    Any Structure field can be given; `region` follows `department` unless given.
    """
    n = next(_serial)
    department = kw.pop("department", "69")
    category_code = kw.pop("category_code", "500")
    category = finess_categories().get(category_code)
    values: dict[str, Any] = {
        "finess": finess_for(department, n),
        "name": f"Structure de test {n}",
        "category_code": category_code,
        "category_label": category.label if category else f"Catégorie {category_code}",
        "department": department,
        "region": departments()[department].region_code,
        "city": "Lyon" if department == "69" else None,
        "capacity": 80,
    }
    values.update(kw)
    structure = Structure(**values)
    session.add(structure)
    session.commit()
    session.refresh(structure)
    return structure


def make_user(
    session: Session,
    role: Role | str = Role.director,
    structures: Iterable[Structure] = (),
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    name: str | None = None,
    region: str | None = None,
    active: bool = True,
    totp_secret: str | None = DEFAULT_TOTP_SECRET,
) -> User:
    """An account; `structures` links a director to them. Password: DEFAULT_PASSWORD.
    ars, committee and admin accounts get the confirmed second factor `totp_secret`
    (None: not enrolled, as a new account before its first login)."""
    role = Role(role)
    n = next(_serial)
    user = User(
        email=email or f"{role.value}{n}@example.fr",
        name=name if name is not None else f"{role.value.capitalize()} {n}",
        password_hash=_hash(password),
        role=role.value,
        region=region,
        active=active,
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    for structure in structures:
        assert structure.id is not None
        session.add(DirectorStructure(user_id=user.id, structure_id=structure.id))
    if role != Role.director and totp_secret is not None:
        session.add(UserTotp(user_id=user.id, secret=totp_secret, confirmed_at=utcnow()))
    session.commit()
    session.refresh(user)
    return user


def make_assessment(
    session: Session,
    structure: Structure,
    status: AssessmentStatus | str = AssessmentStatus.draft,
    *,
    answers: Mapping[str, Any] | None = None,
    by: User | None = None,
    questionnaire_id: str = QUESTIONNAIRE_ID,
    questionnaire_version: str = QUESTIONNAIRE_VERSION,
    version: int | None = None,
    result: dict[str, Any] | None = None,
    tier_id: str | None = None,
    tier_level: int | None = None,
    global_score: float | None = None,
    domain_scores: Mapping[str, tuple[float, float]] | None = None,
    submitted_at: datetime | None = None,
) -> Assessment:
    """An assessment of `structure`. `answers` get answer_meta (by, at, revision 1) and
    `version` defaults to the number of answers. A submitted one is complete and gets
    `submitted_at`/`submitted_by`; `domain_scores` maps domain id -> (earned, max)."""
    status = AssessmentStatus(status)
    assert structure.id is not None
    now = utcnow()
    answers = dict(answers or {})
    by_id = by.id if by is not None else None
    meta = {q: {"by": by_id, "at": now.isoformat(), "revision": 1} for q in answers}
    submitted = status is AssessmentStatus.submitted
    assessment = Assessment(
        structure_id=structure.id,
        questionnaire_id=questionnaire_id,
        questionnaire_version=questionnaire_version,
        status=status.value,
        answers=answers,
        answer_meta=meta,
        version=len(answers) if version is None else version,
        created_by=by_id,
        submitted_by=by_id if submitted else None,
        submitted_at=(submitted_at or now) if submitted else None,
        complete=submitted,
        result=result,
        tier_id=tier_id,
        tier_level=tier_level,
        global_score=global_score,
    )
    session.add(assessment)
    session.flush()
    assert assessment.id is not None
    for domain_id, (earned, maximum) in (domain_scores or {}).items():
        score = 100 * earned / maximum if maximum else None
        session.add(
            AssessmentDomainScore(
                assessment_id=assessment.id,
                domain_id=domain_id,
                score=score,
                earned=earned,
                max=maximum,
            )
        )
    session.commit()
    session.refresh(assessment)
    return assessment


def fill(session: Session, aid: int, answers: dict[str, Any]) -> None:
    """Store answers directly (setup for the pages under test)."""
    a = session.get(Assessment, aid)
    assert a is not None
    a.answers = dict(answers)
    a.answer_meta = {q: {"by": None, "at": "2026-01-05T10:00:00+00:00", "revision": 1}
                     for q in answers}
    a.version = 1
    session.add(a)
    session.commit()


def version_of(session: Session, aid: int) -> int:
    a = session.get(Assessment, aid)
    assert a is not None
    session.refresh(a)
    return a.version


def answers_of(session: Session, aid: int) -> dict[str, Any]:
    a = session.get(Assessment, aid)
    assert a is not None
    session.refresh(a)
    return dict(a.answers)


