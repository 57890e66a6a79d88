"""Public pages in Chromium: axe clean (desktop and 360 px wide), skip link first and working."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.e2e

PUBLIC_PAGES = [
    ("/", "Accueil - Palier"),
    ("/accessibilite", "Déclaration d’accessibilité - Palier"),
    ("/mentions-legales", "Mentions légales - Palier"),
    ("/donnees-personnelles", "Données personnelles - Palier"),
    ("/connexion", "Connexion - Palier"),
]


@pytest.mark.parametrize(("path", "title"), PUBLIC_PAGES)
def test_public_page_is_accessible(page: Page, path: str, title: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200
    expect(page).to_have_title(title)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert_accessible(page)

    page.set_viewport_size({"width": 360, "height": 740})
    assert_accessible(page)


@pytest.mark.parametrize(("path", "title"), PUBLIC_PAGES)
def test_skip_link_is_first_and_moves_focus_to_content(page: Page, path: str, title: str) -> None:
    page.goto(path)
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Contenu")
    expect(focused).to_have_attribute("href", "#contenu")
    expect(focused).to_be_visible()  # DSFR skip links show when focused

    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#contenu"
    # Focus is on <main id="contenu"> itself, or the next Tab lands inside it (the
    # sequential focus navigation starting point moved there).
    if not page.evaluate("document.activeElement.id === 'contenu'"):
        page.keyboard.press("Tab")
    in_main = page.evaluate("document.activeElement.closest('#contenu') !== null")
    assert in_main, "after the skip link, focus is not in #contenu: " + page.evaluate(
        "document.activeElement.outerHTML.slice(0, 200)"
    )
