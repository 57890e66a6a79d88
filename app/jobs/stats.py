"""Job counts for the metrics: jobs by kind and state, and the queue depth.

On the queue runner, procrastinate's table (every kind; states todo, doing, succeeded,
failed, cancelled, aborting, aborted; depth: `todo` jobs due now). On the inline runner, the
export and import rows (states pending, running, done, failed; depth: pending).
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from app.config import Settings
from app.jobs.core import runner
from app.shortlists.models import ExportJob
from app.structures.models import ImportJob


def counts(session: Session, settings: Settings) -> tuple[list[tuple[str, str, int]], int]:
    """([(kind, state, count)...], depth)."""
    if runner(settings) == "queue":
        rows = session.execute(text(
            "SELECT task_name, status::text, count(*) FROM procrastinate_jobs "
            "GROUP BY task_name, status ORDER BY 1, 2")).all()
        depth = session.execute(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
            "AND (scheduled_at IS NULL OR scheduled_at <= now())")).scalar_one()
        return [(str(k), str(s), int(n)) for k, s, n in rows], int(depth)
    out: list[tuple[str, str, int]] = []
    for kind, status in (("export", col(ExportJob.status)), ("import", col(ImportJob.status))):
        out += [(kind, str(s), int(n)) for s, n in session.execute(
            select(status, func.count()).group_by(status).order_by(status)).all()]
    return out, sum(n for _, state, n in out if state == "pending")
