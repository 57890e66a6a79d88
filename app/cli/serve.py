"""`palier serve`: run the web application with uvicorn (one process)."""

from __future__ import annotations

import os

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Adresse d'écoute."),
    port: int = typer.Option(8000, help="Port d'écoute."),
) -> None:
    """Servir l'application web (un seul processus)."""
    import uvicorn

    from app.config import get_settings

    # The app's links use this address when PALIER_BASE_URL is unset (development).
    os.environ["PALIER_HOST"], os.environ["PALIER_PORT"] = host, str(port)
    get_settings.cache_clear()
    # Proxy headers are the app's (PALIER_TRUSTED_PROXIES, app.main), never uvicorn's
    # default trust of any loopback client.
    # loop/http "auto": uvloop and httptools (runtime dependencies) when installed, else
    # asyncio and h11.
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=1,
                proxy_headers=False, loop="auto", http="auto")
