"""In Chromium: the what-if simulator moves the palier as soon as an answer changes (htmx),
shows the questions that apply to the simulated answers, is axe clean, and leaves the saved
answers untouched. Data: a draft of the small EHPAD (2026.2, palier 2; expected labels
written by hand from questionnaires/esms-maturite-numerique-2026.2.yaml)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.assessments.models import Assessment
from app.structures.models import Structure
from tests.answers import PETIT_EHPAD
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account
from tests.e2e.helpers import login, option
from tests.factories import make_assessment

pytestmark = pytest.mark.e2e


def test_changing_an_answer_moves_the_palier_and_saves_nothing(
        page: Page, db: Session, director: Account) -> None:
    s = db.get(Structure, director.structure_id)
    assert s is not None
    a = make_assessment(db, s, answers=PETIT_EHPAD)
    db.commit()
    aid, version = a.id, a.version

    login(page, director.email, director.password)
    page.goto(f"/evaluations/{aid}/resultat")
    page.get_by_role("link", name="Simuler un changement de réponse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Simuler un changement de réponse")
    result = page.locator("#sim-result")
    expect(result.locator("#sim-palier")).to_contain_text("Palier inchangé (Palier 2")
    assert_accessible(page)

    option(page.locator("#question-dui_production"), "Non").check()
    expect(result.locator("#sim-palier")).to_contain_text("En baisse : Palier 1")
    expect(page.locator("#sim-announce")).to_contain_text("Palier simulé : Palier 1")
    # Without a DUI, the DUI questions no longer apply: they are hidden.
    expect(page.locator("#sim-dui_fonctions")).to_be_hidden()

    assert_accessible(page)

    db.expire_all()
    saved = db.get(Assessment, aid)
    assert saved is not None
    assert saved.answers["dui_production"] == "tous"
    assert saved.version == version
