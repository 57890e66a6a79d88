"""`palier files`: the file storage (the database, app/files.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.config import get_settings
from app.db import make_engine
from app.numbers_fr import number_fr
from app.reviews.disk_import import import_disk

app = typer.Typer(help="Stockage des fichiers (dans la base de données).",
                  no_args_is_help=True)


@app.command("import-disk")
def import_disk_command(
    directory: Annotated[Path | None, typer.Option(
        "--dossier", help="Dossier des pièces justificatives de l'ancienne installation "
                          "(par défaut PALIER_EVIDENCE_DIR).")] = None,
    remove: Annotated[bool, typer.Option(
        "--supprimer", help="Supprimer du disque chaque fichier une fois en base.")] = False,
) -> None:
    """Importer dans la base les pièces justificatives qu'une ancienne installation gardait
    sur le disque. Sans effet sur un fichier déjà en base : la commande peut être relancée."""
    settings = get_settings()
    folder = directory or Path(settings.evidence_dir)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            report = import_disk(session, folder, remove=remove)
    finally:
        engine.dispose()
    typer.echo(f"Dossier : {folder}")
    typer.echo(f"Importés : {len(report.moved)} fichier(s), "
               f"{number_fr(report.bytes_moved)} octets.")
    for name in report.moved:
        typer.echo(f"  importé : {name}")
    typer.echo(f"Déjà en base : {len(report.present)}.")
    if remove:
        typer.echo(f"Supprimés du disque : {report.removed}.")
    for label, names in (("Introuvables sur le disque", report.missing),
                         ("Contenu différent de l'empreinte enregistrée (non importés)",
                          report.mismatched)):
        if names:
            typer.echo(f"{label} : {len(names)}.")
            for name in names:
                typer.echo(f"  {name}")
    if report.unknown:
        typer.echo(f"Fichiers du dossier sans pièce justificative correspondante (laissés "
                   f"en place) : {len(report.unknown)}.")
        for path in report.unknown:
            typer.echo(f"  {path}")
    if report.mismatched:
        raise typer.Exit(1)
