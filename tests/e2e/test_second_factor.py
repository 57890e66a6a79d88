"""The second factor in Chromium (issue 13): enrolment forced at first login (QR code,
key, first code, recovery codes), login with a code, with a recovery code, lockout after
wrong codes; axe on every new page. Codes are computed with pyotp from the secret, as the
user's phone would."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.accounts.mfa_models import RecoveryCode
from app.accounts.passwords import hash_password
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import login, submit_code, type_code
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.e2e


def test_enrolment_at_first_login(page: Page, db: Session) -> None:
    ars = make_user(db, "ars", region="84", totp_secret=None, name="Agnès Referente")
    db.commit()
    login(page, ars.email, DEFAULT_PASSWORD)

    expect(page).to_have_url(re.compile(r"/connexion/activation$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Activer la double authentification")
    expect(page.get_by_role("img", name=re.compile("Code QR"))).to_be_visible()
    assert_accessible(page)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code à 6 chiffres affiché par l’application").fill(
        pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="Activer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("link", name="J’ai conservé mes codes, continuer").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()

    page.goto("/compte/securite")
    expect(page.get_by_text("Il vous reste")).to_contain_text("10")
    assert_accessible(page)


def test_login_with_a_code_then_with_a_recovery_code(page: Page, db: Session) -> None:
    admin = make_user(db, "admin", name="Alain Admin")
    assert admin.id is not None
    for code in ("abcde-fghjk", "mnpqr-stuvw"):
        db.add(RecoveryCode(user_id=admin.id, code_hash=hash_password(code.replace("-", ""))))
    db.commit()

    login(page, admin.email, DEFAULT_PASSWORD, path="/connexion?suivant=/admin/utilisateurs",
          totp_secret=None)
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    assert_accessible(page)
    type_code(page)
    expect(page).to_have_url(re.compile(r"/admin/utilisateurs$"))
    page.get_by_role("button", name="Se déconnecter").click()

    login(page, admin.email, DEFAULT_PASSWORD, totp_secret=None)
    page.get_by_label("Code de secours", exact=True).fill("ABCDE FGHJK")
    with page.expect_navigation():
        page.get_by_role("button", name="Utiliser le code de secours").click()
    # One code left: the account page says so.
    expect(page).to_have_url(re.compile(r"/compte/securite\?info=codes-restants-1$"))
    expect(page.get_by_role("status").filter(has_text="Il vous reste 1 code")).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").click()

    login(page, admin.email, DEFAULT_PASSWORD, totp_secret=None)
    page.get_by_label("Code de secours", exact=True).fill("abcde-fghjk")  # used already
    with page.expect_navigation():
        page.get_by_role("button", name="Utiliser le code de secours").click()
    expect(page.get_by_role("alert")).to_have_text("Code de secours incorrect ou déjà utilisé.")
    assert_accessible(page)


def test_wrong_codes_lock_the_login(page: Page, db: Session) -> None:
    committee = make_user(db, "committee", region="84")
    db.commit()
    login(page, committee.email, DEFAULT_PASSWORD, totp_secret=None)
    for _ in range(5):
        submit_code(page, "000000")
        expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    assert_accessible(page)
    submit_code(page, pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now())
    expect(page.get_by_role("alert")).to_contain_text("Trop de tentatives")
    page.goto("/regions/84")
    expect(page).to_have_url(re.compile(r"/connexion"))  # not logged in
