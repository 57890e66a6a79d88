"""In Chromium: a regional committee builds a stratified shortlist (live htmx preview), saves
it, reads the frozen list and downloads its XLSX. The builder and the saved shortlist are axe
clean.

Data: region 02 (Martinique, department 972), which the other browser tests do not use.
Global scores: EHPAD A 90, B 85, C 80 (personnes âgées), SSIAD 50 (domicile), MAS 40 (adultes
handicapés). With at least one per sector and N = 3, the minimums take A, the SSIAD and the
MAS (the best of each sector), listed in rank order."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.dashboard.service import refresh_structures
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD, make_assessment, make_structure, make_user
from tests.integration.test_shortlists import snapshot

pytestmark = pytest.mark.e2e

_runs = iter(range(1, 1000))


def _seed(db: Session, department: str = "972", region: str = "02") -> dict[str, Any]:
    """Five structures in `department` and a committee of `region`: a test that shares a
    region with another one sees that one's structures too (ties go to the earlier run)."""
    run = next(_runs)
    plans = [("EHPAD A", "500", 90.0), ("EHPAD B", "500", 85.0), ("EHPAD C", "500", 80.0),
             ("SSIAD", "354", 50.0), ("MAS", "255", 40.0)]
    names, ids = {}, []
    for i, (name, category, global_score) in enumerate(plans):
        s = make_structure(db, name=f"{name} {run}", department=department,
                           category_code=category)
        make_assessment(db, s, "submitted", tier_level=2, global_score=global_score,
                        result=snapshot(2, 1, []),
                        submitted_at=datetime(2026, 3, 1 + i, 9, tzinfo=UTC))
        names[name] = s.name
        ids.append(s.id)
    refresh_structures(db, ids)  # the read models, as submit() keeps them
    committee = make_user(db, "committee", region=region, password=DEFAULT_PASSWORD)
    db.commit()
    return {"names": names, "committee": committee, "run": run}


def test_committee_builds_saves_and_exports(page: Page, db: Session) -> None:
    data = _seed(db)
    names = data["names"]
    login(page, data["committee"].email, DEFAULT_PASSWORD)
    page.goto("/selections/nouvelle")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle sélection")
    assert_accessible(page)

    page.get_by_label("Nombre de structures à retenir (obligatoire)").fill("3")
    page.get_by_label("Au moins, par secteur").fill("1")
    preview = page.locator("#apercu")
    expect(preview).to_contain_text("3 retenues")
    expect(preview.locator("tbody").last).to_contain_text(names["MAS"])
    assert re.search(r"min_sector=1", page.url)  # the URL follows the criteria
    rows = preview.locator("table").last.locator("tbody tr")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).locator("th").inner_text().split("\n")[0] for i in range(3)] == [
        names["EHPAD A"], names["SSIAD"], names["MAS"]]

    page.get_by_label("Nom de la sélection (obligatoire)").fill(f"Panel Martinique {data['run']}")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer et figer la sélection de l’aperçu").click()
    assert re.search(r"/selections/\d+\?enregistree=1$", page.url)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Panel Martinique {data['run']}")
    expect(page.get_by_text("Sélection enregistrée")).to_be_visible()
    table = page.locator("table").last
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text("Place réservée (minimum par secteur)")
    assert_accessible(page)
    # At 1280 px the page never scrolls sideways: a wide table scrolls in its own region.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.evaluate("""() => [...document.querySelectorAll('table')].every(t => {
        const box = t.closest('.fr-table__container');
        return t.scrollWidth <= document.documentElement.clientWidth
            || (box && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX));
    })""")

    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    assert re.fullmatch(r"selection-\d+-\d{4}-\d\d-\d\d\.xlsx", download.value.suggested_filename)
    wb = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert wb.sheetnames == ["Sélection", "Critères et provenance", "Scores par domaine",
                             "Prochaines étapes"]
    ws = wb["Sélection"]
    assert [ws.cell(row=i, column=3).value for i in range(2, 5)] == [
        names["EHPAD A"], names["SSIAD"], names["MAS"]]
    assert [ws.cell(row=i, column=21).value for i in range(2, 5)] == [
        "Place réservée (minimum par secteur)"] * 3
