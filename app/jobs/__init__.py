"""One job API, two runners: see app/jobs/core.py (kinds, context, inline runner) and
app/jobs/queue.py (procrastinate: `palier worker`, retries, locks, stalled jobs)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.config import Settings
from app.db import get_engine
from app.jobs import queue
from app.jobs.core import (
    KINDS,
    RENDERERS,
    TRANSIENT,
    Background,
    JobContext,
    SessionFactory,
    current_request_id,
    register,
    run,
    run_inline,
    runner,
)
from app.questionnaires import Registry

__all__ = ["KINDS", "RENDERERS", "TRANSIENT", "Background", "JobContext", "SessionFactory",
           "defer", "register", "run", "run_inline", "runner"]


def defer(settings: Settings, kind: str, *, background: Background | None = None,
          sessions: SessionFactory | None = None, registry: Registry | None = None,
          lock: str | None = None, **kwargs: Any) -> None:
    """Run job `kind` with `kwargs` (JSON values) in the background.

    `lock`: jobs holding the same lock never run at the same time (one import per region).
    `sessions` and `registry` are only used by the inline runner (the worker opens its own).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    request_id = current_request_id()
    if runner(settings) == "queue":
        queue.defer(settings, kind, lock=lock, request_id=request_id, **kwargs)
        return
    ctx = JobContext(settings, sessions or (lambda: Session(get_engine())),
                     (lambda: registry) if registry is not None else None, request_id)
    if background is not None:
        background.add_task(run_inline, kind, ctx, lock, kwargs)
    else:
        run_inline(kind, ctx, lock, kwargs)


