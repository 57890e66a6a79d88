"""`palier demo`: load the synthetic demo dataset into an empty database."""

from __future__ import annotations

import typer
from sqlalchemy import inspect
from sqlmodel import Session

from app.accounts.passwords import password_problems
from app.config import get_settings
from app.db import make_engine
from app.demo.dataset import load_demo
from app.demo.plan import DEMO_GROUP, DemoReport, database_is_empty
from app.demo.profiles import (
    DEFAULT_SEED,
    DEFAULT_STRUCTURES,
    DEMO_PASSWORD,
    QUESTIONNAIRE_ID,
    DatabaseNotEmpty,
)
from app.questionnaires import Registry
from app.reference import regions

ROLE_LABELS = {
    "director": "Directeur",
    "ars": "ARS",
    "committee": "Comité de sélection",
    "admin": "Administrateur",
}


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Erreur : {message}", err=True)
    return typer.Exit(code=1)


def _number(n: float) -> str:
    """French thousands separator: 40 000."""
    return f"{n:,.0f}".replace(",", "\u202f")


def print_report(report: DemoReport) -> None:
    seconds = f"{report.seconds:.1f}".replace(".", ",")
    typer.echo(
        f"Données de démonstration chargées en {seconds} s : "
        f"{_number(report.structures)} structures dans {len(report.regions)} régions "
        f"({_number(report.groups)} organismes gestionnaires), "
        f"{_number(report.submitted)} évaluations soumises, {_number(report.drafts)} brouillons."
    )
    total = max(1, report.with_submission)
    tiers = " · ".join(
        f"palier {t} : {_number(n)} ({100 * n / total:.0f} %)" for t, n in report.tiers.items()
    )
    typer.echo(f"Dernière évaluation soumise : {tiers}.")
    typer.echo("")
    typer.echo(f"Comptes de démonstration (mot de passe : {report.password})")
    width = max(len(email) for email, _, _ in report.accounts)
    typer.echo(f"  {'Rôle':<20} {'Adresse':<{width}}  Périmètre")
    for email, role, scope in report.accounts:
        typer.echo(f"  {ROLE_LABELS.get(role, role):<20} {email:<{width}}  {scope}")
    typer.echo(
        f"  + {_number(report.director_accounts)} comptes de direction "
        "direction.<FINESS juridique>@demo.palier.fr, même mot de passe."
    )


def demo(
    password: str = typer.Option(
        DEMO_PASSWORD, "--password", help="Mot de passe de tous les comptes de démonstration."
    ),
    structures: int = typer.Option(
        DEFAULT_STRUCTURES,
        "--structures",
        min=len(DEMO_GROUP),
        help="Nombre de structures (plus de 1 000 : jeu national sur les 18 régions).",
    ),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Graine du générateur aléatoire."),
    if_empty: bool = typer.Option(
        False,
        "--if-empty",
        help="Ne rien faire, sans erreur, si la base contient déjà des données.",
    ),
) -> None:
    """Charger un jeu de démonstration réaliste dans une base vide."""
    problems = password_problems(password)
    if problems:
        raise _fail(" ".join(problems))
    settings = get_settings()
    registry = Registry.load(settings.questionnaires_dir)
    q = registry.latest(QUESTIONNAIRE_ID)
    if q is None:
        raise _fail(f"aucune version valide du questionnaire {QUESTIONNAIRE_ID} dans "
                    f"{settings.questionnaires_dir}.")
    # Older submissions on the version that carries over to this one (2026.1 -> 2026.2).
    history = next((registry.get(m.questionnaire_id, m.from_version)
                    for m in registry.migrations.values()
                    if m.questionnaire_id == q.id and m.to_version == q.version), None)
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("structure"):
            raise _fail("la base n'est pas initialisée : lancez d'abord « palier db upgrade ».")
        with Session(engine) as session:
            if if_empty and not database_is_empty(session):
                return
            try:
                report = load_demo(session, q, history=history, password=password,
                                   structures=structures,
                                   seed=seed, progress=typer.echo if structures > 2000 else None)
            except DatabaseNotEmpty:
                raise _fail(
                    "la base contient déjà des structures ou des comptes ; la démonstration "
                    "ne se charge que dans une base vide (supprimez var/palier.db, puis "
                    "« palier db upgrade »)."
                ) from None
    finally:
        engine.dispose()
    print_report(report)
    if report.regions:
        names = ", ".join(f"{regions()[code].name} {n}" for code, n in report.regions.items())
        typer.echo(f"Structures par région : {names}.")
