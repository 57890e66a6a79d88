"""Login and logout in Chromium: the director lands on their structures; a wrong password
shows an alert; both states are axe clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account
from tests.e2e.helpers import login, submit_login_form

pytestmark = pytest.mark.e2e


def test_director_logs_in_lands_on_structures_and_logs_out(page: Page, director: Account) -> None:
    login(page, director.email, director.password)

    expect(page).to_have_url(re.compile(r"/mes-structures$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text(director.structure_name).first).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/connexion\?info=deconnexion$"))
    expect(page.get_by_role("status").filter(has_text="Vous êtes déconnecté.")).to_be_visible()
    page.goto("/mes-structures")
    expect(page).to_have_url(re.compile(r"/connexion"))  # the session is over


def test_wrong_password_shows_an_alert(page: Page, director: Account) -> None:
    login(page, director.email, "not-the-password")

    expect(page).to_have_url(re.compile(r"/connexion$"))
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Adresse électronique ou mot de passe incorrect.")
    # The blocking error gets the focus and the page title says there is an error.
    expect(alert).to_be_focused()
    assert page.title().startswith("Erreur : ")
    # The e-mail is kept, the password is not.
    expect(page.get_by_label("Adresse électronique")).to_have_value(director.email)
    expect(page.get_by_label("Mot de passe", exact=True)).to_have_value("")
    assert_accessible(page)

    # Then the right password works from the error page.
    submit_login_form(page, director.email, director.password)
    expect(page).to_have_url(re.compile(r"/mes-structures$"))
