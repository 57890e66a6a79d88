"""`palier db`: apply or revert the Alembic migrations (honours PALIER_DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path

import typer
from alembic import command
from alembic.config import Config

from app.config import get_settings
from app.db import normalize_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"

app = typer.Typer(help="Base de données : migrations.", no_args_is_help=True)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config usable from any working directory (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = normalize_url(url or get_settings().database_url)
    config.attributes["configure_logger"] = False
    return config


def upgrade_database(url: str | None = None, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the latest). Safe to call at every start."""
    command.upgrade(alembic_config(url), revision)


def downgrade_database(revision: str, url: str | None = None) -> None:
    command.downgrade(alembic_config(url), revision)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Option("head", "--revision", help="Révision cible."),
) -> None:
    """Appliquer les migrations jusqu'à la révision demandée (par défaut la dernière)."""
    url = get_settings().database_url
    upgrade_database(url, revision)
    typer.echo(f"Base à jour ({revision}) : {_safe_url(url)}")


@app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Révision cible, ou « base ».")) -> None:
    """Revenir à une révision antérieure (« base » : tout supprimer)."""
    url = get_settings().database_url
    downgrade_database(revision, url)
    typer.echo(f"Base ramenée à {revision} : {_safe_url(url)}")


@app.command("current")
def current() -> None:
    """Afficher la révision actuelle de la base."""
    command.current(alembic_config())
