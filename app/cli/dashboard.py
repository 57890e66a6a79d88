"""`palier dashboard`: rebuild the dashboards' read model (honours PALIER_DATABASE_URL)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from sqlmodel import Session

from app.config import get_settings
from app.dashboard.read_model import refresh_structures
from app.db import begin_write, make_engine
from app.jobs import queue

app = typer.Typer(help="Tableaux de bord régionaux.", no_args_is_help=True)


@app.command("refresh")
def refresh(
    queued: Annotated[bool, typer.Option(
        "--file-d-attente", help="Confier la reconstruction à `palier worker` (PostgreSQL).",
    )] = False,
) -> None:
    """Reconstruire les derniers résultats de chaque structure à partir des évaluations
    transmises (après un import de structures ou une correction faite hors de l'application)."""
    if queued:
        _defer()
        return
    started = time.perf_counter()
    engine = make_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            begin_write(session)
            n = refresh_structures(session)
            session.commit()
    finally:
        engine.dispose()
    seconds = f"{time.perf_counter() - started:.1f}".replace(".", ",")
    typer.echo(f"Tableaux de bord reconstruits en {seconds} s : {n} structures avec un "
               "résultat transmis.")


def _defer() -> None:
    settings = get_settings()
    if settings.database_url.startswith("sqlite"):
        typer.echo("--file-d-attente : la file de tâches demande PostgreSQL ; sur SQLite, "
                   "lancez `palier dashboard refresh` sans cette option.", err=True)
        raise typer.Exit(2)
    job_id = queue.defer(settings, "dashboard_refresh", lock="dashboard-refresh",
                         request_id=None)
    queue.close()
    typer.echo(f"Reconstruction confiée à la file de tâches (tâche n° {job_id}).")
