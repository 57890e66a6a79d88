"""Column widths of every XLSX the product writes, read back with openpyxl (issue 10): the
kind's width (code 12, number 10, score 10, date 18, label 24, name 40, long text 60),
widened to show its header up to 32 characters. Expected widths are worked out by hand from
the headers (their length + 2 when it wins)."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.config import Settings
from app.exports.xlsx import Book
from app.permissions import Role
from tests.auth_helpers import log_in
from tests.factories import make_user
from tests.integration import test_exports as te
from tests.integration import test_region_pages as rp
from tests.integration.test_dashboard import World

committee, shortlist_id, region_data = te.committee, te.shortlist_id, te.region_data
world = rp.world  # the fixtures


def widths(ws: Any) -> list[float | None]:
    return [ws.column_dimensions[c.column_letter].width for c in ws[1]]


def test_streamed_sheet_head_sets_the_widths(tmp_path: Any) -> None:
    path = tmp_path / "w.xlsx"
    with Book(str(path)) as book:
        with book.sheet("Un", [12.0, 40.0, 10.5]) as sheet:
            sheet.append(["FINESS", "Nom", "Score"])
            sheet.append(["690000001", "EHPAD", 12.5])
        with book.sheet("Deux") as sheet:  # no widths: the spreadsheet's default
            sheet.append(["A"])
    wb = load_workbook(path)
    assert widths(wb["Un"]) == [12, 40, 10.5]
    assert wb["Un"]["B2"].value == "EHPAD" and wb["Un"].freeze_panes == "A2"
    assert wb["Un"].auto_filter.ref == "A1:C2"
    assert wb["Deux"].column_dimensions["A"].width == 13  # openpyxl's default: none written


def test_shortlist_xlsx_widths(app_client: TestClient, shortlist_id: int) -> None:
    wb = load_workbook(
        io.BytesIO(app_client.get(f"/selections/{shortlist_id}/export.xlsx").content)
    )
    assert widths(wb["Sélection"]) == [
        10,  # Rang: number
        12,  # FINESS: code
        40,  # Nom: name
        13,  # Code région: code, header 11 + 2
        24,  # Région: label
        18,  # Code département: 16 + 2
        24,  # Département
        23,  # Code catégorie FINESS: 21 + 2
        40,  # Catégorie FINESS: name
        24,  # Secteur
        10,  # Capacité
        24,  # Taille
        10,  # Palier
        14,  # Score global: 12 + 2
        32,  # Valeur de classement : Score global: 35 + 2, at most 32
        32,  # Exigences manquantes pour le palier suivant: 43 + 2, at most 32
        31,  # Transmise le (heure de Paris): date, 29 + 2
        24,  # Statut de revue
        24,  # Quota concerné
        25,  # Code du groupe (quotas): 23 + 2
        40,  # Motif de sélection: name
        26,  # Rang parmi les éligibles: 24 + 2
    ]
    assert widths(wb["Critères et provenance"]) == [40, 60]
    # Rang, FINESS, Nom, Score global, then the domains: Dossier usager informatisé (26 + 2),
    # Sécurité et protection des données (34 + 2, at most 32)
    assert widths(wb["Scores par domaine"]) == [10, 12, 40, 14, 28, 32]
    # Rang, FINESS, Nom, Palier visé (11 + 2), Exigence, Action proposée, Effort,
    # À vérifier auprès de l’éditeur ou du prestataire (48 + 2, at most 32), Financements
    assert widths(wb["Prochaines étapes"]) == [10, 12, 40, 13, 60, 60, 24, 32, 60]


def test_region_list_and_figures_xlsx_widths(
    app_client: TestClient, session: Session, settings: Settings, world: World
) -> None:
    log_in(app_client, session, settings, world.ars84)
    ws = load_workbook(io.BytesIO(app_client.get("/regions/84/structures.xlsx").content)).active
    assert widths(ws) == [
        12,
        40,
        24,  # FINESS, Nom, Commune
        18,
        24,
        23,
        40,  # Code département, Département, Code catégorie, Catégorie FINESS
        10,
        17,  # Capacité, Palier (niveau): 15 + 2
        40,  # Palier: its label ("Palier 2 — Dossier usager informatisé…")
        24,  # Score global (sur 100): 22 + 2
        31,
        24,  # Transmise le (heure de Paris), Revue de l’ARS
    ]
    ws = load_workbook(io.BytesIO(app_client.get("/regions/84/chiffres.xlsx").content)).active
    # Rubrique, Code, Libellé, Indicateur, Valeur (a figure)
    assert widths(ws) == [24, 12, 40, 24, 10]


def test_full_answers_xlsx_widths(
    app_client: TestClient, session: Session, settings: Settings, region_data: dict[str, Any]
) -> None:
    log_in(app_client, session, settings, make_user(session, Role.ars, region="84"))
    ws = load_workbook(io.BytesIO(app_client.get("/regions/84/export.xlsx").content))["Évaluations"]
    header = [c.value for c in ws[1]]
    got = dict(zip(header, widths(ws), strict=True))
    assert [
        got[h]
        for h in (
            "FINESS",
            "Nom",
            "Code département",
            "Département",
            "Code catégorie FINESS",
            "Catégorie FINESS",
            "Secteur",
            "Capacité",
            "Questionnaire",
            "Version",
            "Transmise le (heure de Paris)",
            "Palier",
            "Score global",
        )
    ] == [12, 40, 18, 24, 23, 40, 24, 10, 24, 12, 31, 10, 14]
    assert got["Score Dossier usager informatisé"] == 32  # 32 + 2, at most 32
    assert got["Palier suivant"] == 16  # number, 14 + 2
    assert got["Statut de revue"] == 24
    assert got["dui_production"] == 24  # an answer: a label, 14 + 2 < 24
