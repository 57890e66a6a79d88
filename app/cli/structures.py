"""`palier structures import FILE`: import the FINESS etalab extraction (honours
PALIER_DATABASE_URL). Output: a progress bar (standard error), the reasons and the first
rejected lines, then one last line `imported N, updated N, skipped N, rejected N`.
Exit status 1 when lines were rejected without --partial (nothing written), or when the file
cannot be read; 0 otherwise."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlmodel import Session

from app.config import get_settings
from app.db import make_engine
from app.reference import regions
from app.structures import imports as service
from app.structures.adapters import EtalabCsvAdapter, SourceFormatError

app = typer.Typer(help="Structures : import du fichier FINESS.", no_args_is_help=True)

SHOWN_REJECTED = 50
PHASES = {"reading": "Lecture", "writing": "Écriture"}


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Erreur : {message}", err=True)
    return typer.Exit(code=1)


def write_report_csv(report: service.ImportReport, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(service.REPORT_HEADER)
        for r in report.lines:
            writer.writerow(service.report_row(r.line, r.finess, r.status, r.reason, r.message))


@app.command("import")
def import_command(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="Extraction FINESS etalab (CSV « ; », UTF-8 ou Latin-1).",
    ),
    partial: bool = typer.Option(
        False,
        "--partial",
        help="Importer les lignes valides même si d'autres sont rejetées (sinon : rien).",
    ),
    region: str | None = typer.Option(
        None,
        "--region",
        help="Import complet d'une région (code INSEE) : seules ses lignes sont lues, et ses "
        "structures absentes du fichier sont marquées fermées.",
    ),
    report_path: Path | None = typer.Option(
        None, "--report", dir_okay=False, help="Écrire le rapport ligne par ligne (CSV)."
    ),
) -> None:
    """Importer les structures (ESMS) d'une extraction FINESS."""
    settings = get_settings()
    if region is not None and region.strip() not in regions():
        raise _fail(f"région inconnue : {region!r} (codes INSEE : {', '.join(sorted(regions()))}).")
    region = region.strip() if region else None
    options = service.ImportOptions(
        partial=partial,
        region=region,
        close_missing=region is not None,
        categories=service.load_categories(settings),
    )
    report = _run_import(settings.database_url, file, options)
    if report_path is not None:
        write_report_csv(report, report_path)
    rejected = _print_report(report, region, partial)
    if rejected and not partial:
        raise typer.Exit(code=1)


def _run_import(
    database_url: str, file: Path, options: service.ImportOptions
) -> service.ImportReport:
    """Import `file` as one import job, its progress in a bar on standard error."""
    console = Console(stderr=True)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            job = service.create_job(session, filename=file.name, options=options, user_id=None)
            try:
                source = EtalabCsvAdapter.from_path(file)
            except SourceFormatError as exc:
                service.fail_job(session, job, str(exc))
                raise _fail(str(exc)) from None
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as bar:
                task = bar.add_task("Lecture", total=source.total_lines)

                def progress(phase: str, done: int, total: int) -> None:
                    bar.update(
                        task,
                        description=PHASES.get(phase, phase),
                        completed=done,
                        total=max(total, 1),
                    )

                return service.run_import(session, job, source, options, progress=progress)
    finally:
        engine.dispose()


def _print_report(report: service.ImportReport, region: str | None, partial: bool) -> bool:
    """Print the reasons, the first rejected lines and the summary; return whether lines were
    rejected."""
    for reason, n in report.reasons.items():
        typer.echo(f"  {service.REASONS.get(reason, reason)} : {n}")
    if report.warnings:
        typer.echo(f"  Avertissements (lignes importées quand même) : {report.warnings}")
    rejected = [r for r in report.lines if r.status == service.REJECTED]
    for r in rejected[:SHOWN_REJECTED]:
        typer.echo(f"Ligne {r.line} rejetée ({r.finess or 'sans numéro'}) : {r.message}")
    if len(rejected) > SHOWN_REJECTED:
        typer.echo(
            f"… et {len(rejected) - SHOWN_REJECTED} autres lignes rejetées "
            "(--report FICHIER pour le rapport complet)."
        )
    if report.closed:
        typer.echo(
            f"Structures marquées fermées (absentes du fichier, région {region}) : "
            f"{len(report.closed)}"
        )
    for note in report.notes:
        typer.echo(note)
    if rejected and not partial:
        typer.echo(
            "Rien n'a été modifié : des lignes sont rejetées (--partial pour importer "
            "les lignes valides)."
        )
    typer.echo(report.summary_line())
    return bool(rejected)
