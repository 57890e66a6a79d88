"""`palier worker`: run the jobs stored in the PostgreSQL queue (app/jobs/queue.py)."""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Annotated

import typer

SQLITE_NO_WORKER = (
    "`palier worker` refusé : sur SQLite, les tâches s'exécutent dans le processus web. "
    "Le worker sert avec PostgreSQL (PALIER_DATABASE_URL=postgresql://...)."
)


def worker(
    concurrency: Annotated[int, typer.Option(
        "--concurrency", min=1, help="Nombre de tâches exécutées en même temps.")] = 1,
    name: Annotated[str | None, typer.Option(help="Nom du worker (journaux).")] = None,
    extra: Annotated[list[str] | None, typer.Option(
        "--import", hidden=True, help="Module de tâches supplémentaire (tests).")] = None,
) -> None:
    """Exécuter les tâches en file d'attente (exports, imports, e-mails...)."""
    from app.config import get_settings
    from app.db import is_sqlite, normalize_url
    from app.jobs import queue
    from app.jobs.priority import lower_priority
    from app.main import install_jobs
    from app.memory import map_large_blocks
    from app.web.observability import configure_logging

    settings = get_settings()
    if is_sqlite(normalize_url(settings.database_url)):
        typer.echo(SQLITE_NO_WORKER, err=True)
        raise typer.Exit(2)
    configure_logging(settings)
    priority = lower_priority(settings.worker_nice)
    logging.getLogger("palier.jobs").info("worker priority: %s", priority)
    map_large_blocks()
    install_jobs()
    for module in extra or []:
        importlib.import_module(module)
    asyncio.run(queue.run_worker(settings, concurrency=concurrency, name=name))
