"""What the load benchmarks read and write directly in the database: the directors' drafts
with their session cookie and API token, other users' credentials, copies of a frozen
shortlist (each copy is exported once: a finished export of a shortlist is reused), and the
checks after a campaign run (acknowledged autosaves present, every job finished)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from app.accounts.api_tokens import issue_api_token
from app.accounts.models import DirectorStructure, User
from app.accounts.sessions import open_session
from app.assessments.models import Assessment
from app.config import Settings
from app.questionnaires import Registry

FINISHED_JOBS = ("succeeded", "failed", "cancelled", "aborted")


def credentials(session: Session, settings: Settings, user: User) -> dict[str, str]:
    """A session cookie and an API token for `user`, as after a login."""
    raw_session, _ = open_session(session, settings, user)
    return {"cookie": raw_session, "token": issue_api_token(session, settings, user).token}


def user_credentials(session: Session, settings: Settings, email: str) -> dict[str, str]:
    user = session.execute(select(User).where(User.email == email)).scalar_one()
    return credentials(session, settings, user)


def director_drafts(
    session: Session, settings: Settings, registry: Registry, count: int
) -> list[dict[str, Any]]:
    """Up to `count` drafts, each with its director's credentials, its version, first
    section, a single-choice question (two values) and a free-text question."""
    rows = session.execute(
        select(Assessment, DirectorStructure.user_id)
        .join(
            DirectorStructure,
            col(DirectorStructure.structure_id) == col(Assessment.structure_id),
        )
        .where(Assessment.status == "draft")
        .order_by(col(Assessment.id))
        .limit(count * 4)  # a draft may have several directors
    ).all()
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for a, user_id in rows:
        if a.id in seen or len(out) == count:
            continue
        seen.add(a.id)
        user = session.get(User, user_id)
        assert user is not None
        q = registry.get(a.questionnaire_id, a.questionnaire_version)
        assert q is not None
        visible = [x for x in q.questions.values() if x.show_if is None]
        choice = next(x for x in visible if x.type == "single_choice")
        free = next(x for x in visible if x.type == "text")
        out.append(
            {
                "id": a.id,
                "version": a.version,
                "section": q.sections[0].id,
                "question": choice.id,
                "values": [o.value for o in choice.options or []][:2],
                "text_question": free.id,
                "text_value": (a.answers or {}).get(free.id),
                **credentials(session, settings, user),
            }
        )
    return out


def clone_shortlist(engine: Engine, source_id: int, copies: int, min_rows: int = 0) -> list[int]:
    """`copies` copies of a frozen shortlist (new ids, same rows; rows repeated until
    there are at least `min_rows`, so that a small database still exports as a job)."""
    with engine.begin() as conn:
        rows = conn.execute(
            text("SELECT rows::text FROM shortlist WHERE id = :i"), {"i": source_id}
        ).scalar_one()
        data = json.loads(rows)
        repeated = list(data)
        while data and len(repeated) < min_rows:
            repeated += data
        payload = json.dumps([{**r, "rank": n + 1} for n, r in enumerate(repeated)])
        ids = []
        for n in range(copies):
            ids.append(
                conn.execute(
                    text(
                        "INSERT INTO shortlist (name, author_id, created_at, region, criteria, "
                        "questionnaire_versions, rows, row_count, excluded, hash) SELECT "
                        "name || :suffix, author_id, created_at, region, criteria, "
                        "questionnaire_versions, CAST(:rows AS json), :count, excluded, hash "
                        "FROM shortlist WHERE id = :i "
                        "RETURNING id"
                    ),
                    {"suffix": f" (copie {n + 1})", "rows": payload, "count": len(repeated),
                     "i": source_id},
                ).scalar_one()
            )
    return ids


def check_autosaves(
    engine: Engine, acks: dict[int, dict[str, Any]], question: dict[int, str]
) -> list[str]:
    """Every acknowledged save is in the database: for each draft, its version is at least
    the highest acknowledged one; equal, its answer is that save's; higher, the extra
    versions come from saves whose answer never arrived (in flight when a server died),
    and the answer is one of those. Returns the problems (none: all present)."""
    problems = []
    with engine.connect() as conn:
        for draft, ack in acks.items():
            version, answers = conn.execute(
                text("SELECT version, answers FROM assessment WHERE id = :i"), {"i": draft}
            ).one()
            if isinstance(answers, str):
                answers = json.loads(answers)
            value = (answers or {}).get(question[draft])
            top, top_value = ack["version"], ack["value"]
            unknown = ack["unknown"]
            if version < top:
                problems.append(f"draft {draft}: version {version} < acknowledged {top}")
            elif version == top and value != top_value:
                problems.append(
                    f"draft {draft}: answer {value!r} != acknowledged {top_value!r} (version {top})"
                )
            elif version > top and (version - top > len(unknown) or value not in unknown):
                problems.append(
                    f"draft {draft}: version {version} > acknowledged {top} "
                    f"with {len(unknown)} unanswered saves, answer {value!r}"
                )
    return problems


def job_states(engine: Engine) -> dict[str, Any]:
    """The queue's jobs and the export jobs, by state; failed export jobs' reasons."""
    with engine.connect() as conn:
        queue: dict[str, int] = dict(
            conn.execute(
                text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1")
            ).all()
        )
        exports: dict[str, int] = dict(
            conn.execute(text("SELECT status, count(*) FROM export_job GROUP BY 1")).all()
        )
        failed = [
            r[0]
            for r in conn.execute(
                text("SELECT coalesce(error, '') FROM export_job WHERE status = 'failed'")
            )
        ]
    return {"queue": queue, "exports": exports, "failed_reasons": failed}


def jobs_finished(states: dict[str, Any]) -> bool:
    return all(s in FINISHED_JOBS for s in states["queue"]) and all(
        s in ("done", "failed") for s in states["exports"]
    )
