"""In Chromium: the aids before starting (structure page box, glossary, blank questionnaire)
are axe clean, a question's acronym link leads to its definition, and a question's evidence
link sits above the separator that ends the question."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account
from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e


def test_before_starting(page: Page, director: Account) -> None:
    login(page, director.email, director.password)
    page.goto(f"/structures/{director.finess}")
    box = page.locator("#avant-de-commencer")
    expect(box).to_contain_text("Temps estimé : entre 25 et 40 minutes selon votre structure.")
    assert_accessible(page)

    page.goto("/glossaire")
    expect(page.get_by_role("heading", level=1)).to_have_text("Glossaire des sigles")
    expect(page.locator("#sigle-ror")).to_contain_text("ROR : Répertoire national")
    assert_accessible(page)

    page.goto("/questionnaire-vierge")
    expect(page.get_by_role("heading", level=1)).to_have_text("Questionnaire vierge")
    assert_accessible(page)


def test_acronym_link_and_evidence_inside_the_question(page: Page, director: Account) -> None:
    login(page, director.email, director.password)
    page.goto(f"/structures/{director.finess}")
    page.get_by_role("button", name="Commencer l’autodiagnostic").click()
    page.wait_for_url(re.compile(r"/sections/"))
    page.goto(page.url.split("/sections/")[0] + "/sections/s-dui")
    question = page.locator("#question-dui_production")
    link = question.get_by_role("link", name="DUI")
    expect(link).to_have_attribute("href", "/glossaire#sigle-dui")
    evidence = page.locator("#preuves-dui_production")
    expect(evidence).to_be_visible()
    # The separator (bottom border) ends the evidence block, not the question above it.
    q_border = question.evaluate("e => getComputedStyle(e).borderBottomStyle")
    e_border = evidence.evaluate("e => getComputedStyle(e).borderBottomStyle")
    assert (q_border, e_border) == ("none", "solid")
    assert_accessible(page)
