"""Public pages through the app: status, template, language, assets, CSP-friendly markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
HTML = {"accept": "text/html"}

PAGES = [
    ("/", "pages/home.html", "Accueil - Palier"),
    ("/accessibilite", "pages/accessibilite.html", "Déclaration d’accessibilité - Palier"),
    ("/mentions-legales", "pages/mentions_legales.html", "Mentions légales - Palier"),
    ("/donnees-personnelles", "pages/donnees_personnelles.html", "Données personnelles - Palier"),
]


class Collector(HTMLParser):
    """Tags with their attributes, <script> bodies and the <title>."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_bodies: list[str] = []
        self.title = ""
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "title"):
            self._in = tag
            if tag == "script":
                self.script_bodies.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.script_bodies[-1] += data
        elif self._in == "title":
            self.title += data


@pytest.mark.parametrize(("path", "template", "title"), PAGES)
def test_public_page(app_client: TestClient, path: str, template: str, title: str) -> None:
    response = app_client.get(path)
    assert response.status_code == 200
    assert response.template.name == template  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "HX-Request" in response.headers["vary"]
    page = Collector(response.text)
    assert page.title == title
    assert ("html", {"lang": "fr", "data-fr-scheme": "system"}) in page.tags
    assert [a.get("id") for t, a in page.tags if t == "main"] == ["contenu"]
    footer_links = {a.get("href") for t, a in page.tags if t == "a"}
    assert {"/accessibilite", "/mentions-legales", "/donnees-personnelles"} <= footer_links
    assert "Accessibilité : non conforme" in response.text


@pytest.mark.parametrize(("path", "template", "title"), PAGES)
def test_no_inline_script_handler_or_style(
    app_client: TestClient, path: str, template: str, title: str
) -> None:
    page = Collector(app_client.get(path).text)
    scripts = [a for t, a in page.tags if t == "script"]
    assert scripts and all(a.get("src") for a in scripts)
    assert all(body.strip() == "" for body in page.script_bodies)
    handlers = [(t, name) for t, a in page.tags for name in a if name.startswith("on")]
    assert handlers == []
    assert [t for t, a in page.tags if "style" in a] == []
    assert [t for t, _ in page.tags if t == "style"] == []


def test_every_static_asset_of_the_home_page_resolves(app_client: TestClient) -> None:
    page = Collector(app_client.get("/").text)
    urls = sorted(
        {
            (a[k] or "").split("?v=")[0]  # versioned URLs (app.web.assets)
            for _, a in page.tags
            for k in ("href", "src")
            if (a.get(k) or "").startswith("/static/")
        }
    )
    assert "/static/vendor/dsfr-1.15.3/dsfr.min.css" in urls
    assert "/static/vendor/dsfr-1.15.3/dsfr.module.min.js" in urls
    assert "/static/vendor/dsfr-1.15.3/dsfr.nomodule.min.js" in urls
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in urls
    assert "/static/css/palier.css" in urls
    assert "/static/js/palier.js" in urls
    for url in urls:
        assert app_client.get(url).status_code == 200, url


def test_urls_inside_vendored_and_own_css_exist() -> None:
    css_files = [*(ROOT / "static").rglob("*.css")]
    assert len(css_files) >= 3
    missing = []
    for css in css_files:
        for ref in re.findall(r"url\(([^)]+)\)", css.read_text(encoding="utf-8")):
            ref = ref.strip("'\"")
            if ref.startswith("data:"):
                continue
            if not (css.parent / ref).is_file():
                missing.append(f"{css.relative_to(ROOT)}: {ref}")
    assert missing == []


def test_vendored_assets_stay_small() -> None:
    total = sum(f.stat().st_size for f in (ROOT / "static" / "vendor").rglob("*") if f.is_file())
    assert total < 5_000_000


def test_no_cdn(app_client: TestClient) -> None:
    page = Collector(app_client.get("/").text)
    external = [
        a.get("src") or a.get("href")
        for t, a in page.tags
        if t in ("script", "link")
        and re.match(r"(https?:)?//", a.get("src") or a.get("href") or "")
    ]
    assert external == []


def test_state_marks_shown_by_default(app_client: TestClient) -> None:
    html = app_client.get("/").text
    assert '<p class="fr-logo">République<br>Française</p>' in html


def test_state_marks_off(app_client: TestClient, settings: Settings) -> None:
    settings.state_marks = False  # the setting (PALIER_STATE_MARKS), as the app receives it
    html = app_client.get("/").text
    assert "fr-logo" not in html
    assert "République" not in html
    assert '<p class="fr-header__service-title">Palier</p>' in html


def test_home_lists_the_tiers_of_the_questionnaire_in_service(app_client: TestClient) -> None:
    response = app_client.get("/")
    labels = [t.label for t in response.context["tiers"]]  # type: ignore[attr-defined]
    assert len(labels) == 5
    assert labels[0].startswith("Palier 0")
    for label in labels:
        assert label.replace("'", "&#39;") in response.text
    assert 'href="/connexion"' in response.text


def test_login_link_when_anonymous(app_client: TestClient) -> None:
    page = Collector(app_client.get("/").text)
    assert ("a", {"class": "fr-btn fr-icon-lock-line", "href": "/connexion"}) in page.tags


def test_healthz(app_client: TestClient) -> None:
    response = app_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_page_is_a_french_404_for_browsers(app_client: TestClient) -> None:
    response = app_client.get("/nulle-part", headers=HTML)
    assert response.status_code == 404
    assert response.template.name == "pages/error.html"  # type: ignore[attr-defined]
    assert Collector(response.text).title == "Page introuvable - Palier"


def test_unknown_api_path_stays_json(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/nulle-part", headers=HTML)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert app_client.get("/nulle-part").json() == {"detail": "Not Found"}


LEGAL = {
    "legal_operator_name": "ARS Occitanie",
    "legal_operator_address": "26-28 parc Club du Millénaire, 34067 Montpellier",
    "legal_operator_email": "palier@ars.example.fr",
    "legal_publication_director": "Directrice générale de l’ARS",
    "legal_host_name": "Hébergeur Exemple SAS",
    "legal_host_address": "1 rue de l’Exemple, 75001 Paris",
    "legal_host_contact": "01 23 45 67 89",
    "legal_host_location": "France",
    "legal_dpo_contact": "dpo@ars.example.fr",
    "legal_accessibility_contact": "accessibilite@ars.example.fr",
    "legal_statement_date": "2 décembre 2026",
    "legal_site_url": "https://palier.ars.example.fr",
}


def test_legal_pages_say_who_runs_the_service_from_the_settings(
        app_client: TestClient, settings: Settings) -> None:
    for name, value in LEGAL.items():
        setattr(settings, name, value)
    pages = {path: app_client.get(path, headers=HTML).text
             for path in ("/mentions-legales", "/donnees-personnelles", "/accessibilite")}
    for path, html in pages.items():
        assert "à compléter" not in html, path
    assert "ARS Occitanie" in pages["/mentions-legales"]
    assert "Hébergeur Exemple SAS" in pages["/mentions-legales"]
    assert "ARS Occitanie" in pages["/donnees-personnelles"]
    assert "dpo@ars.example.fr" in pages["/donnees-personnelles"]
    assert "accessibilite@ars.example.fr" in pages["/accessibilite"]


def test_an_unset_legal_fact_shows_a_visible_placeholder(app_client: TestClient) -> None:
    html = app_client.get("/mentions-legales", headers=HTML).text
    assert "nom de l’organisme qui exploite le service : à compléter par l’exploitant" in html


def test_personal_data_page_states_the_durations_the_settings_enforce(
        app_client: TestClient, settings: Settings) -> None:
    settings.session_absolute_hours = 8
    settings.mfa_remember_days = 14
    settings.mfa_challenge_minutes = 5
    settings.login_window_minutes = 20
    settings.oidc_link_hours = 3
    html = app_client.get("/donnees-personnelles", headers=HTML).text
    assert "<td>8 heures au plus ; les sessions expirées sont supprimées</td>" in html
    assert "<td>14 jours au plus ; supprimés à l’expiration" in html
    assert "<td>5 minutes ; supprimées une fois utilisées ou expirées</td>" in html
    assert "<td>20 minutes</td>" in html
    assert "sa durée de validité (3 heures)" in html
    assert "Le temps de la session (8 heures au plus)" in html
    assert "supprimée 30 jours après sa dernière connexion" in html


def test_serve_lists_the_legal_settings_left_empty() -> None:
    from app.cli.serve import missing_legal_settings

    assert missing_legal_settings(Settings(**LEGAL)) == []
    partial = {k: v for k, v in LEGAL.items() if k not in ("legal_dpo_contact", "legal_host_name")}
    assert missing_legal_settings(Settings(**partial)) == [
        "PALIER_LEGAL_DPO_CONTACT", "PALIER_LEGAL_HOST_NAME"]
