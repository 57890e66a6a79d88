"""`palier dashboard`: rebuild the dashboards' read model (honours PALIER_DATABASE_URL)."""

from __future__ import annotations

import time

import typer
from sqlmodel import Session

from app.config import get_settings
from app.dashboard.read_model import refresh_structures
from app.db import begin_write, make_engine

app = typer.Typer(help="Tableaux de bord régionaux.", no_args_is_help=True)


@app.command("refresh")
def refresh() -> None:
    """Reconstruire les derniers résultats de chaque structure à partir des évaluations
    transmises (après un import de structures ou une correction faite hors de l'application)."""
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
