"""`palier questionnaire check` and `palier score`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml

from scoring import (
    CATALOGUE_FILE,
    QuestionnaireError,
    Result,
    load_questionnaire,
    load_questionnaires,
    score,
    validate_answers,
)
from scoring.loader import catalogue_beside

app = typer.Typer(help="Vérifier les questionnaires.", no_args_is_help=True)

EFFORT_FR = {"faible": "effort faible", "moyen": "effort moyen", "eleve": "effort élevé"}


@app.command("check")
def check(files: list[Path] = typer.Argument(..., help="Fichiers YAML à vérifier.")) -> None:
    """Vérifier des questionnaires et le catalogue des programmes (programmes.yaml) de leur
    dossier : chaque erreur s'affiche en FICHIER:LIGNE:COLONNE: message."""
    loaded, refused = load_questionnaires(files)
    for exc in refused:
        for err in exc.errors:
            typer.echo(str(err), err=True)
    seen: set[Path] = set()
    for path in files:
        folder = path.resolve().parent
        if folder in seen:
            continue
        seen.add(folder)
        catalogue, cfile, errors = catalogue_beside(path)
        if catalogue is not None:
            typer.echo(f"{cfile} : catalogue des programmes valide "
                       f"({len(catalogue.programmes)} programmes)")
        elif not errors and path.name == CATALOGUE_FILE:
            typer.echo(f"{cfile} : fichier introuvable", err=True)
    for q in loaded:
        typer.echo(f"{q.source} : {q.id} version {q.version} valide "
                   f"({len(q.questions)} questions, {len(q.tiers)} paliers)")
    if refused:
        raise typer.Exit(1)


def _read_answers(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


def score_command(
    questionnaire: Path = typer.Option(..., "--questionnaire", "-q", help="Fichier YAML."),
    answers: Path = typer.Option(..., "--answers", "-a", help="Réponses en YAML ou JSON."),
    as_json: bool = typer.Option(False, "--json", help="Afficher le résultat en JSON."),
) -> None:
    """Calculer le palier, les scores et les prochaines étapes d'un jeu de réponses."""
    try:
        q = load_questionnaire(questionnaire)
    except QuestionnaireError as exc:
        for err in exc.errors:
            typer.echo(str(err), err=True)
        raise typer.Exit(1) from None
    try:
        data = _read_answers(answers)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        typer.echo(f"{answers}: réponses illisibles : {exc}", err=True)
        raise typer.Exit(2) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        typer.echo(f"{answers}: les réponses doivent former un dictionnaire question → valeur",
                   err=True)
        raise typer.Exit(2)
    problems = validate_answers(q, data)
    if problems:
        for p in problems:
            typer.echo(f"{p.question}: {p.message} (valeur : {p.value!r})", err=True)
        raise typer.Exit(2)
    result = score(q, data)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(summary(result))


def _fr(x: float | None) -> str:
    return "non applicable" if x is None else f"{x:.1f}".replace(".", ",")


def summary(result: Result) -> str:
    """A readable French summary of a result."""
    lines: list[str] = []
    tier = result.tier
    lines.append(f"Palier atteint : {tier['label'] if tier else 'aucun (pré-requis non réunis)'}")
    lines.append(f"Score global : {_fr(result.global_score)}")
    if not result.complete:
        lines.append("Questionnaire incomplet ; questions obligatoires sans réponse : "
                     + ", ".join(result.missing_required))
    lines.append("")
    lines.append("Scores par domaine :")
    for d in result.domains:
        lines.append(f"  - {d['label']} : {_fr(d['score'])}")
    gap = result.gap
    if gap["next_tier"] is not None:
        lines.append("")
        lines.append(f"Pour atteindre {gap['next_tier']['label']} :")
        for req in gap["requirements"]:
            verify = " (à vérifier : réponse « je ne sais pas »)" if req["to_verify"] else ""
            lines.append(f"  - {req['label']}{verify}")
    if result.tiers_met_above:
        labels = {t["id"]: t["label"] for t in result.tiers}
        lines.append("Exigences propres déjà remplies : "
                     + ", ".join(labels[t] for t in result.tiers_met_above))
    if result.unknown:
        lines.append("Réponses « je ne sais pas » : " + ", ".join(result.unknown))
    lines.append("")
    if result.next_steps:
        lines.append("Prochaines étapes :")
        labels = {t["id"]: t["label"] for t in result.tiers}
        current = None
        for step in result.next_steps:
            if step["tier"] != current:
                current = step["tier"]
                lines.append(f"  {labels[current]}")
            funding = f" ; financements : {', '.join(step['funding'])}" if step["funding"] else ""
            verify = " ; à vérifier" if step.get("to_verify") else ""
            lines.append(f"    - {step['title']} ({EFFORT_FR[step['effort']]}{funding}{verify})")
    else:
        lines.append("Prochaines étapes : aucune, toutes les exigences sont remplies.")
    lines.append("")
    lines.append("Financements :")
    for f in result.funding:
        if f.get("kind") == "resource":
            state = "ressource (sans éligibilité)"
        elif f["eligible"] is None:
            state = "éligibilité non évaluée (questionnaire incomplet)"
        else:
            state = "éligible" if f["eligible"] else "non éligible"
        lines.append(f"  - {f['id']} : {state}")
    return "\n".join(lines)
