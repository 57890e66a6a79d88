"""In Chromium: an ARS referent opens the regional dashboard, filters it (htmx swap, URL
pushed, focus kept, back button), lists the structures, compares two of them, marks one
assessment "à revoir". The dashboard
(desktop and 360 px), the list and the comparison page are axe clean.

Data: region 03 (Guyane, department 973), which the other browser tests do not use."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.assessments.models import Assessment
from app.dashboard.read_model import refresh_structures
from app.reviews.models import AssessmentReview
from scoring import load_questionnaire, score
from tests.answers import PETIT_EHPAD, best
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD, make_assessment, make_structure, make_user

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRE = ROOT / "questionnaires" / "esms-maturite-numerique-2026.1.yaml"


_runs = iter(range(1, 1000))


def _seed(db: Session) -> dict[str, Any]:
    """Four structures of Guyane (names suffixed per call), three with a submitted result."""
    q = load_questionnaire(QUESTIONNAIRE)
    run = next(_runs)
    made = {}
    plans = [("EHPAD Kourou", "500", PETIT_EHPAD), ("EHPAD Cayenne", "500", best("ehpad")),
             ("EHPAD Saint-Laurent", "500", best("ehpad", capacite=45)),
             ("MAS Matoury", "255", None)]
    for i, (name, category, answers) in enumerate(plans):
        s = make_structure(db, name=f"{name} {run}", department="973",
                           category_code=category, capacity=50)
        if answers is not None:
            result = score(q, answers)
            make_assessment(db, s, "submitted", answers=answers, result=result.to_dict(),
                            tier_level=result.tier_level, global_score=result.global_score,
                            submitted_at=datetime(2026, 2, 2 + i, 10, tzinfo=UTC))
        else:
            make_assessment(db, s)  # a draft
        made[name] = s
    refresh_structures(db, [s.id for s in made.values() if s.id is not None])
    ars = make_user(db, "ars", region="03", password=DEFAULT_PASSWORD)
    db.commit()
    return {"structures": made, "ars": ars, "run": run}


def test_ars_filters_and_compares(page: Page, db: Session) -> None:
    data = _seed(db)
    login(page, data["ars"].email, DEFAULT_PASSWORD)
    page.goto("/regions/03")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord – Guyane")
    expect(page.locator("#t-paliers")).to_be_visible()
    assert_accessible(page)

    # A filter reloads the results only, pushes the URL and keeps the focus on the field.
    sector = page.get_by_label("Secteur", exact=True)
    sector.focus()
    sector.select_option("adultes_handicapes")
    expect(page).to_have_url(re.compile(r"/regions/03\?.*secteur=adultes_handicapes"))
    expect(page.locator(".palier-active-filters")).to_contain_text("Adultes handicapés")
    expect(page.locator("#region-results")).to_contain_text("0 avec une évaluation transmise")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "secteur"
    expect(page.locator("#palier-live")).to_contain_text("Tableau de bord mis à jour")
    assert_accessible(page)

    # Back: the unfiltered view, form and results in step.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/regions/03$"))
    expect(page.get_by_label("Secteur", exact=True)).to_have_value("")
    expect(page.locator("#region-results")).not_to_contain_text("Adultes handicapés :")

    # The list, then two structures side by side.
    page.goto("/regions/03/structures")
    expect(page.get_by_role("heading", level=1)).to_have_text("Structures – Guyane")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Score global")).click()
    expect(page).to_have_url(re.compile(r"tri=score"))
    run = data["run"]
    for name in (f"EHPAD Kourou {run}", f"EHPAD Cayenne {run}"):
        box = page.get_by_label(f"Comparer {name}", exact=True)
        box.check(force=True)  # the DSFR label draws the box over the input
        expect(box).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Comparer les structures cochées")).click()
    expect(page).to_have_url(re.compile(r"/regions/03/comparer\?finess="))
    table = page.locator("#t-comparaison")
    expect(table).to_contain_text("EHPAD Kourou")
    expect(table).to_contain_text("EHPAD Cayenne")
    expect(table).to_contain_text("Palier 2")
    expect(table).to_contain_text("Palier 4")
    expect(table).to_contain_text("Fibre ou très haut débit")  # a decisive answer
    assert_accessible(page)

    # The referent questions one self-assessment: "à revoir" with a comment, from its
    # result page (the review panel loads with htmx).
    kourou = data["structures"]["EHPAD Kourou"]
    assessment = db.exec(select(Assessment).where(Assessment.structure_id == kourou.id)).one()
    page.goto(f"/evaluations/{assessment.id}/resultat")
    panel = page.locator("#revue")
    expect(panel.get_by_role("heading", name="Revue par l’ARS")).to_be_visible()
    panel.get_by_label(re.compile("^À revoir")).check(force=True)  # DSFR draws the radio
    panel.get_by_label("Commentaire").fill("Joindre la convention MSSanté et le PCRA.")
    panel.get_by_role("button", name="Enregistrer la revue").click()
    expect(page.locator("#revue")).to_contain_text("Joindre la convention MSSanté et le PCRA.")
    expect(page.locator("#revue")).to_contain_text("À revoir")
    assert_accessible(page)
    db.commit()  # end the read transaction: see what the server wrote
    review = db.exec(select(AssessmentReview)
                     .where(AssessmentReview.assessment_id == assessment.id)).one()
    assert (review.status, review.comment) == ("a_revoir",
                                               "Joindre la convention MSSanté et le PCRA.")


def test_dashboard_at_360_px(page: Page, db: Session, page_errors: Any) -> None:
    data = _seed(db)
    login(page, data["ars"].email, DEFAULT_PASSWORD)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/regions/03")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    print("AFTER DASHBOARD", len(page_errors.errors))
    assert_accessible(page)
    print("AFTER AXE", len(page_errors.errors))
    page.goto(f"/structures/{data['structures']['EHPAD Kourou'].finess}")
    expect(page.locator("#comparaison h2")).to_have_text(
        "Comparaison avec des structures semblables")
    expect(page.locator("#comparaison")).to_contain_text("Dans la région")  # loaded by htmx
    print("AFTER STRUCTURE", len(page_errors.errors))
    assert_accessible(page)
