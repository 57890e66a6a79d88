"""`palier serve`: run the web application with uvicorn (one or several processes)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Annotated

import typer

from app.config import LEGAL_FIELDS, Settings

SQLITE_ONE_WORKER = (
    "--workers {n} refusé : la base SQLite n'admet qu'un processus d'écriture, "
    "`palier serve` sert donc avec un seul processus. Pour plusieurs processus, "
    "utilisez PostgreSQL (PALIER_DATABASE_URL=postgresql://...)."
)

LEGAL_MISSING = (
    "Attention : les pages légales afficheront « à compléter par l'exploitant » tant que "
    "ces réglages sont vides : {names}."
)


def missing_legal_settings(settings: Settings) -> list[str]:
    """The environment variables of the legal pages' facts left empty."""
    facts = settings.legal_facts()
    return [f"PALIER_{name.upper()}" for name in sorted(LEGAL_FIELDS)
            if name.removeprefix("legal_") not in facts]


def serve(
    host: str = typer.Option("127.0.0.1", help="Adresse d'écoute."),
    port: int = typer.Option(8000, help="Port d'écoute."),
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Nombre de processus (plus d'un : PostgreSQL seulement).")] = 1,
) -> None:
    """Servir l'application web."""
    import uvicorn

    from app.config import get_settings
    from app.db import is_sqlite, normalize_url

    # The app's links use this address when PALIER_BASE_URL is unset (development).
    os.environ["PALIER_HOST"], os.environ["PALIER_PORT"] = host, str(port)
    get_settings.cache_clear()
    settings = get_settings()
    if workers > 1 and is_sqlite(normalize_url(settings.database_url)):
        typer.echo(SQLITE_ONE_WORKER.format(n=workers), err=True)
        raise typer.Exit(2)
    missing = missing_legal_settings(settings)
    if settings.env == "production" and missing:
        typer.echo(LEGAL_MISSING.format(names=", ".join(missing)), err=True)
    with contextlib.ExitStack() as stack:
        if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # /metrics adds up every worker's counters (app/observability.py).
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="palier-metrics-"))
        from app.web.observability import configure_logging

        configure_logging(settings)
        # Proxy headers are the app's (PALIER_TRUSTED_PROXIES, app.main), never uvicorn's
        # default trust of any loopback client. Logs and the access log are the app's too.
        uvicorn.run("app.main:create_app", factory=True, host=host, port=port,
                    workers=workers, proxy_headers=False, log_config=None, access_log=False,
                    timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
                    # uvloop and httptools (runtime dependencies) when installed.
                    loop="auto", http="auto")


# uvicorn's supervisor restarts a worker that does not answer its ping within this time
# (5 s by default): a worker still importing the app on a loaded machine would be killed
# and restarted forever.
WORKER_HEALTHCHECK_SECONDS = 30


