"""The `palier` command line: one Typer app, one sub-app per area."""

from __future__ import annotations

import typer

from app.cli import dashboard as dashboard_cli
from app.cli import db as db_cli
from app.cli import demo as demo_cli
from app.cli import files as files_cli
from app.cli import purge as purge_cli
from app.cli import questionnaire as questionnaire_cli
from app.cli import serve as serve_cli
from app.cli import structures as structures_cli
from app.cli import users as users_cli
from app.cli import worker as worker_cli

cli = typer.Typer(
    help="Palier : autodiagnostic de maturité numérique des ESMS.",
    no_args_is_help=True,
    add_completion=False,
)
cli.add_typer(questionnaire_cli.app, name="questionnaire")
cli.command("score")(questionnaire_cli.score_command)
cli.command("serve")(serve_cli.serve)
cli.command("worker")(worker_cli.worker)
cli.add_typer(db_cli.app, name="db")
cli.add_typer(users_cli.app, name="user")
cli.add_typer(structures_cli.app, name="structures")
cli.command("demo")(demo_cli.demo)
cli.add_typer(dashboard_cli.app, name="dashboard")
cli.add_typer(files_cli.app, name="files")
cli.command("purge")(purge_cli.purge)


def main() -> None:
    cli()
