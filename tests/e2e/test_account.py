"""In Chromium: « Mon compte » is reached from the header, is axe clean, and a refused
password change focuses its error summary (axe clean too)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account
from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e


def test_my_account(page: Page, director: Account) -> None:
    login(page, director.email, director.password)
    page.get_by_role("link", name="Mon compte : Claire Martin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(page.get_by_role("heading", name="Inviter un collègue")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Mot de passe actuel").fill("pas le bon")
    page.get_by_label("Nouveau mot de passe", exact=False).first.fill("une phrase assez longue")
    page.get_by_label("Nouveau mot de passe, une seconde fois").fill("une phrase assez longue")
    page.get_by_role("button", name="Changer le mot de passe").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#current-messages")).to_contain_text(
        "Le mot de passe actuel est incorrect.")
    assert_accessible(page)
