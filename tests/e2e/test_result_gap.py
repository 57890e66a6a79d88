"""In Chromium: the result page shows, right after the palier, what separates the structure
from the next palier (before the scores); the result page and the admin programme catalogue
are axe clean.

Data: a submitted PETIT_EHPAD assessment of the real 2026.1 questionnaire (palier 2; seven
requirements of palier 3 unmet, written by hand below)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.structures.models import Structure
from scoring import load_questionnaire, score
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD, make_assessment, make_user
from tests.unit.test_real_questionnaire import PETIT_EHPAD

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRE = ROOT / "questionnaires" / "esms-maturite-numerique-2026.1.yaml"


def test_the_gap_to_the_next_palier_comes_first(page: Page, db: Session,
                                                director: Account) -> None:
    q = load_questionnaire(QUESTIONNAIRE)
    result = score(q, PETIT_EHPAD)
    s = db.get(Structure, director.structure_id)
    assert s is not None
    a = make_assessment(db, s, "submitted", answers=PETIT_EHPAD, result=result.to_dict(),
                        tier_id=result.tier["id"] if result.tier else None,
                        tier_level=result.tier_level, global_score=result.global_score)
    db.commit()

    login(page, director.email, director.password)
    page.goto(f"/evaluations/{a.id}/resultat")
    section = page.locator("section[aria-labelledby=palier]")
    expect(section.get_by_role("heading", level=2)).to_have_text("Votre palier")
    # The first thing after the palier badge is the gap block.
    after_badge = page.evaluate(
        "document.querySelector('.palier-result-tier .palier-badge')"
        ".nextElementSibling.id")
    assert after_badge == "ecart"
    gap = page.locator("#ecart")
    expect(gap.get_by_role("heading", level=3)).to_have_text(
        "Ce qui vous sépare du palier 3")
    expect(gap).to_contain_text("7 points vous séparent du palier 3.")
    expect(gap).to_contain_text("Messagerie sécurisée MSSanté intégrée au DUI")
    expect(gap).to_contain_text("Pour la remplir :")
    gap_box = gap.bounding_box()
    scores_box = page.locator("#scores").bounding_box()
    assert gap_box is not None and scores_box is not None
    assert gap_box["y"] < scores_box["y"]
    expect(page.locator("#revue-titre, #revue h2").first).to_be_attached()
    assert_accessible(page)


def test_admin_programmes_page_is_accessible(page: Page, db: Session) -> None:
    admin = make_user(db, "admin", password=DEFAULT_PASSWORD)
    db.commit()
    login(page, admin.email, DEFAULT_PASSWORD)
    page.goto("/admin/programmes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Programmes")
    expect(page.get_by_role("table")).to_contain_text("Programme ESMS numérique")
    expect(page.get_by_role("link", name="Programmes", exact=True)).to_be_visible()
    assert_accessible(page)
