"""ProConnect end to end in Chromium, against the real local OpenID Connect provider: the
button, the provider's login page, the e-mailed link proof, a session, the logout at the
provider; an unknown identity's page. Every Palier page on the way is axe clean."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from app.permissions import Role
from tests.conftest import temporary_database
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import new_context
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.live import LiveServer, _free_port, run_server
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, running_provider

pytestmark = pytest.mark.e2e

AGENT = "agent.e2e@ars.sante.fr"


@pytest.fixture(scope="module")
def proconnect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A Palier server of its own, configured for the local provider."""
    tmp = tmp_path_factory.mktemp("proconnect")
    port = _free_port()
    public_url = f"http://127.0.0.1:{port}"
    with (
        running_provider(public_url) as issuer,
        temporary_database("sqlite", tmp, migrate=True) as database_url,
        run_server(
            database_url,
            tmp,
            port=port,
            extra_env={
                "PALIER_OIDC_ISSUER": issuer,
                "PALIER_OIDC_CLIENT_ID": CLIENT_ID,
                "PALIER_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "PALIER_EMAIL_BACKEND": "console",
            },
        ) as server,
    ):
        yield server


@pytest.fixture
def pc_page(browser: Browser, proconnect_server: LiveServer) -> Iterator[Page]:
    context = new_context(browser, proconnect_server)
    yield context.new_page()
    context.close()


def _link_from_log(log_path: Path) -> str:
    found = re.findall(r"http://127\.0\.0\.1:\d+(/proconnect/lier/[\w-]+)", log_path.read_text())
    assert found, "no link e-mailed"
    return found[-1]


def _provider_login(page: Page, email: str) -> None:
    expect(
        page.get_by_role("heading", name="Connexion au fournisseur d’identité de test")
    ).to_be_visible()
    page.get_by_label("Adresse électronique du compte").fill(email)
    page.get_by_role("button", name="Se connecter").click()


def test_proconnect_link_sign_in_and_logout(pc_page: Page, proconnect_server: LiveServer) -> None:
    page = pc_page
    with Session(proconnect_server.engine, expire_on_commit=False) as db:
        make_user(db, Role.ars, email=AGENT, region="84")
        db.commit()

    page.goto("/connexion")
    button = page.get_by_role("button", name="S’identifier avec ProConnect")
    expect(button).to_be_visible()
    # The DSFR ProConnect button: ProConnect's logo is drawn by `.fr-connect--pro::before`.
    logo = button.evaluate("b => getComputedStyle(b, '::before').backgroundImage")
    assert logo.startswith('url("data:image/svg+xml')
    expect(page.get_by_role("link", name="Qu’est-ce que ProConnect ?")).to_have_attribute(
        "href", "https://proconnect.gouv.fr/"
    )
    page.locator(".fr-connect-group").screenshot(path="/tmp/signin13_button.png")
    assert_accessible(page)
    button.click()
    _provider_login(page, AGENT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    assert_accessible(page)

    page.goto(_link_from_log(proconnect_server.log_path))
    expect(page.get_by_role("heading", level=1)).to_have_text("Relier votre identité ProConnect")
    assert_accessible(page)
    page.get_by_role("button", name="Relier et continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Identité ProConnect reliée")
    assert_accessible(page)

    # The provider remembers its session: straight back, signed in.
    page.goto("/connexion")
    page.get_by_role("button", name="S’identifier avec ProConnect").click()
    logout = page.get_by_role("button", name="Se déconnecter")
    expect(logout).to_be_visible()
    assert not page.url.endswith("/connexion")

    logout.click()
    expect(
        page.get_by_role("heading", name="Déconnexion du fournisseur d’identité")
    ).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/connexion\?info=deconnexion$"))
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()

    # An identity nobody has attached: a clear page, no access.
    page.get_by_role("button", name="S’identifier avec ProConnect").click()
    _provider_login(page, "inconnu.e2e@exemple.gouv.fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Aucun compte Palier pour cette identité"
    )
    assert_accessible(page)


def test_admin_attaches_an_unknown_identity(
    pc_page: Page, browser: Browser, proconnect_server: LiveServer
) -> None:
    page = pc_page
    with Session(proconnect_server.engine, expire_on_commit=False) as db:
        make_user(db, Role.admin, email="admin.e2e@palier.fr")
        make_user(db, Role.committee, email="membre.e2e@palier.fr")
        db.commit()
    # Someone without an account signs in with ProConnect: no access.
    page.goto("/connexion")
    page.get_by_role("button", name="S’identifier avec ProConnect").click()
    _provider_login(page, "membre.pc@exemple.gouv.fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Aucun compte Palier pour cette identité"
    )

    # An admin attaches that identity to the committee member's account.
    admin_context = new_context(browser, proconnect_server)
    admin = admin_context.new_page()
    login(admin, "admin.e2e@palier.fr", DEFAULT_PASSWORD)
    admin.goto("/admin/proconnect")
    row = admin.locator("tr", has_text="membre.pc@exemple.gouv.fr")
    expect(row.get_by_text("Aucun : pas d’accès")).to_be_visible()
    assert_accessible(admin)
    row.get_by_label(re.compile("Adresse du compte à relier")).fill("membre.e2e@palier.fr")
    row.get_by_role("button", name=re.compile("^Relier")).click()
    expect(admin.get_by_text("L’identité a été reliée au compte.")).to_be_visible()
    expect(
        admin.locator("tr", has_text="membre.pc@exemple.gouv.fr").get_by_text(
            "membre.e2e@palier.fr"
        )
    ).to_be_visible()
    assert_accessible(admin)
    admin_context.close()

    # Now the same ProConnect identity opens the committee member's session.
    page.goto("/connexion")
    page.get_by_role("button", name="S’identifier avec ProConnect").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
