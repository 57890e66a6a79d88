"""`palier purge`: delete what is past its retention period (run it daily)."""

from __future__ import annotations

import typer

from app.accounts.retention import purge as run_purge
from app.config import get_settings
from app.db import get_engine


def purge() -> None:
    """Supprimer les sessions expirées, jetons et liens périmés, tentatives de connexion
    anciennes, données de second facteur et de ProConnect périmées et événements du journal
    de plus d'un an."""
    from sqlmodel import Session

    with Session(get_engine()) as session:
        counts = run_purge(session, get_settings())
    typer.echo(
        f"Supprimés : {counts.sessions} sessions, {counts.api_tokens} jetons d'API, "
        f"{counts.reset_links} liens de réinitialisation, "
        f"{counts.login_attempts} tentatives de connexion, "
        f"{counts.mfa_challenges} connexions en attente du second facteur, "
        f"{counts.trusted_devices} appareils mémorisés, "
        f"{counts.oidc_login_requests} connexions ProConnect inachevées, "
        f"{counts.oidc_link_tokens} liens ProConnect, "
        f"{counts.oidc_identities} identités ProConnect non reliées, "
        f"{counts.audit_events} événements du journal."
    )
