"""In Chromium (issue 10): a committee member reads a saved shortlist in plain words and
starts a new one from its criteria (the labelled boxes come back ticked); a director reading
an older result sees that result placed among similar structures. Pages are axe clean.

Data: region 01 (Guadeloupe, department 971), which the other browser tests do not use
(tests/e2e/test_shortlists_flow.py seeds the same shapes in Martinique)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.dashboard.service import refresh_structures
from app.structures.models import Structure
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account
from tests.e2e.helpers import login
from tests.e2e.test_shortlists_flow import _seed
from tests.factories import DEFAULT_PASSWORD
from tests.integration.test_trend import submission

pytestmark = pytest.mark.e2e


def test_shortlist_in_words_and_start_from_its_criteria(page: Page, db: Session) -> None:
    data = _seed(db, department="971", region="01")
    names = data["names"]
    login(page, data["committee"].email, DEFAULT_PASSWORD)
    page.goto("/selections/nouvelle")
    page.locator('label[for="dep-971"]').click()  # DSFR: the label covers its box
    page.locator('label[for="sec-personnes_agees"]').click()
    page.get_by_label("Nombre de structures à retenir (obligatoire)").fill("2")
    preview = page.locator("#apercu")
    expect(preview).to_contain_text("3 structures éligibles")  # the three EHPAD
    page.get_by_label("Nom de la sélection (obligatoire)").fill(f"EHPAD {data['run']}")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer et figer la sélection de l’aperçu").click()
    criteria = page.locator("dl.palier-dl")
    expect(criteria).to_contain_text("Guadeloupe (971)")
    expect(criteria).to_contain_text("secteur « Personnes âgées »")
    table = page.locator("table").last
    expect(table.locator("thead")).to_contain_text("Évaluation transmise le")
    expect(table.locator("tbody tr").first).to_contain_text("1er mars 2026")
    expect(table.locator("tbody tr").first).to_contain_text(names["EHPAD A"])
    assert_accessible(page)

    page.get_by_role("link", name="Partir de ces critères").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle sélection")
    expect(page.get_by_label("Guadeloupe (971)")).to_be_checked()
    expect(page.get_by_label("Personnes âgées", exact=True)).to_be_checked()
    expect(page.get_by_label("Domicile", exact=True)).not_to_be_checked()
    expect(page.locator("#apercu")).to_contain_text("3 structures éligibles")
    assert_accessible(page)

    page.go_back()
    page.get_by_role("link", name="Relancer sur les données du jour").click()
    expect(page.get_by_text("Aucun changement")).to_be_visible()
    assert_accessible(page)


def test_older_result_places_that_result(page: Page, db: Session, director: Account) -> None:
    s = db.get(Structure, director.structure_id)
    assert s is not None
    older = submission(db, s, datetime(2026, 3, 2, 9, tzinfo=UTC), 2, 40.0, 50.0)
    latest = submission(db, s, datetime(2026, 9, 14, 9, tzinfo=UTC), 3, 60.0, 75.0)
    refresh_structures(db, [s.id or 0])
    db.commit()
    login(page, director.email, director.password)
    page.goto(f"/evaluations/{older}/resultat")
    block = page.locator("#comparaison")
    expect(block).to_contain_text("Position de l’évaluation transmise le 2 mars 2026")
    expect(block).to_contain_text("(et non de la dernière)")
    assert_accessible(page)
    page.goto(f"/evaluations/{latest}/resultat")
    expect(page.locator("#comparaison")).to_contain_text(
        "Position de la dernière évaluation transmise"
    )
    assert re.search(rf"/evaluations/{latest}/resultat$", page.url)
