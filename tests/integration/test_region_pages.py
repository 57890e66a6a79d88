"""Regional pages through the app: dashboard, structure list, comparison, like-for-like block;
htmx fragments and URLs; the permission matrix (literal statuses) on every page, partial and
API route. Dataset: tests.integration.test_dashboard.build (numbers worked out there)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import User
from app.config import Settings
from app.dashboard import listing
from tests.auth_helpers import log_in
from tests.integration.test_dashboard import World, build

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(session: Session) -> World:
    return build(session)


def client_as(client: TestClient, session: Session, settings: Settings, user: User) -> TestClient:
    log_in(client, session, settings, user)
    return client


def get(client: TestClient, url: str, **kw: Any) -> Any:
    return client.get(url, follow_redirects=False, **kw)


def text_of(html: str) -> str:
    """Visible text, tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# ---- dashboard ------------------------------------------------------------------------------


def test_dashboard_page(app_client: TestClient, session: Session, settings: Settings,
                        world: World) -> None:
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, "/regions/84")
    assert r.status_code == 200, r.text
    html = r.text
    t = text_of(html)
    assert "<h1>Tableau de bord – Auvergne-Rhône-Alpes</h1>" in html
    assert "11 structures en activité" in t
    assert "9 avec une évaluation transmise : taux de participation 81,8 %" in t
    assert "1 évaluation en cours (brouillon)" in t
    assert "53,8 score global moyen sur 100 (médiane 55,0, version 2026.2)" in t
    assert ("1 résultat d’une autre version du questionnaire (version 2025.1 : 1)" in t)
    # Charts with title and desc, each followed by its table with a caption.
    for chart in ("chart-tiers", "chart-domains", "chart-trend"):
        assert f'aria-labelledby="{chart}-t {chart}-d"' in html
    for caption in ("Structures par palier, région et national",
                    "Scores par domaine sur 100 : moyenne et médiane, région et national",
                    "Structures, participation et paliers par département",
                    "Structures, participation et paliers par secteur",
                    "Structures, participation et paliers par taille",
                    "Évaluations transmises par trimestre et par palier"):
        assert caption in t
    assert 'scope="col"' in html and 'scope="row"' in html
    # Domain table: dui region 52,5 / 55,0, national 49,0 / 45,0, 8 / 10 structures.
    assert "Dossier usager informatisé 52,5 55,0 49,0 45,0 8 / 10" in t
    # Tier table: palier 2: 3 structures, 33,3 % of 9; nationally 4 of 11 = 36,4 %.
    assert "Palier 2 — Dossier usager informatisé déployé, données protégées 3 33,3 % 36,4 %" in t
    # Department breakdown: Rhône 4 structures, 3 submitted, 75,0 %, paliers 0 1 1 1 0, 56,7.
    assert "Rhône (69) 4 3 75,0 % 0 1 1 1 0 56,7" in t
    assert "4e trimestre 2025 0 1 0 1 0 2" in t
    assert "Revue des autodiagnostics par l’ARS : 0 validé, 0 à revoir, sur 9 résultats." in t
    # Filters form: a GET form, htmx-enhanced, URL pushed.
    assert 'method="get" action="/regions/84"' in html
    assert 'hx-push-url="true"' in html and 'hx-target="#region-results"' in html
    assert '<a class="fr-nav__link" href="/regions/84" aria-current="page">' in html
    assert 'href="/regions/84/structures"' in html


def test_dashboard_filters_in_the_url(app_client: TestClient, session: Session,
                                      settings: Settings, world: World) -> None:
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, "/regions/84?departement=69&palier=&secteur=personnes_agees&du=2025-01-01")
    assert r.status_code == 200
    html, t = r.text, text_of(r.text)
    assert '<option value="69" selected>' in html
    assert '<option value="personnes_agees" selected>' in html
    assert 'value="2025-01-01"' in html
    assert "Département : Rhône" in t and "Secteur : Personnes âgées" in t
    assert "Transmis depuis le 1er janvier 2025" in t
    # Rhône, personnes âgées: s3, s4, s5 (s10 is a SSIAD: domicile).
    assert "3 structures en activité (filtres appliqués)" in t
    assert "3 avec une évaluation transmise" in t
    assert 'href="/regions/84/structures?departement=69&amp;secteur=personnes_agees' \
           '&amp;du=2025-01-01"' in html


def test_dashboard_htmx_fragment(app_client: TestClient, session: Session,
                                 settings: Settings, world: World) -> None:
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, "/regions/84?departement=38", headers=HTMX)
    assert r.status_code == 200
    assert "HX-Request" in r.headers["Vary"]
    html = r.text
    assert html.lstrip().startswith('<div id="region-results"')
    assert "<html" not in html and "<h1>" not in html
    assert 'hx-swap-oob="innerHTML:#palier-live"' in html
    assert "Tableau de bord mis à jour : 4 structures, 4 avec une évaluation transmise." in html
    # Back button: htmx asks for the whole page again.
    r = get(c, "/regions/84?departement=38",
            headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in r.text and "<h1>" in r.text and "hx-swap-oob" not in r.text


# ---- structure list ---------------------------------------------------------------------


def test_structure_list(app_client: TestClient, session: Session, settings: Settings,
                        world: World) -> None:
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, "/regions/84/structures?tri=score&ordre=desc")
    assert r.status_code == 200
    html, t = r.text, text_of(r.text)
    assert "11 structures" in t
    names = re.findall(r'<th scope="row"><a href="/structures/\d+">([^<]+)</a></th>', html)
    assert names == ["Hotel", "Golf", "Delta", "Charlie", "Lima", "Bravo", "Echo", "Alpha",
                     "Foxtrot", "India", "Juliett"]
    s4 = world.s["s4"]
    finess = f"{s4.finess[:2]} {s4.finess[2:5]} {s4.finess[5:8]} {s4.finess[8]}"
    assert re.search(rf"Delta .*?{finess} Lyon EHPAD.*? 69 45 Palier 3 70,0 10 novembre 2025", t)
    assert "Lima" in t and "(version 2025.1)" in t
    # Sortable headers: links, current one with aria-sort, next click inverts.
    assert '<th scope="col" aria-sort="descending">' in html
    assert 'href="/regions/84/structures?tri=score&amp;ordre=asc"' in html
    assert 'href="/regions/84/structures?tri=nom&amp;ordre=asc"' in html
    # Compare form: checkboxes named finess, a GET form to the comparison page.
    assert '<form method="get" action="/regions/84/comparer" id="compare-form">' in html
    assert f'name="finess" value="{s4.finess}"' in html
    assert 'href="/evaluations/' in html
    assert "Revue ARS" in t and "Non revue" in t


def test_structure_list_paging_and_htmx(app_client: TestClient, session: Session,
                                        settings: Settings, world: World,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "PAGE_SIZE", 4)
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, "/regions/84/structures?page=2&departement=38&tri=nom")
    t = text_of(r.text)
    assert "4 structures" in t  # department 38: s6 s7 s8 s12
    r = get(c, "/regions/84/structures?page=2")
    t = text_of(r.text)
    assert "11 structures · page 2 sur 3" in t
    names = re.findall(r'<th scope="row"><a href="/structures/\d+">([^<]+)</a></th>', r.text)
    assert names == ["Echo", "Foxtrot", "Golf", "Hotel"]
    assert 'aria-current="page" title="Page 2"' in r.text
    assert 'href="/regions/84/structures?tri=nom&amp;ordre=asc&amp;page=3"' in r.text
    r = get(c, "/regions/84/structures?page=3", headers=HTMX)
    assert r.text.lstrip().startswith('<div id="region-list"')
    names = re.findall(r'<th scope="row"><a href="/structures/\d+">([^<]+)</a></th>', r.text)
    assert names == ["India", "Juliett", "Lima"]
    assert "Liste mise à jour : 11 structures, page 3 sur 3." in r.text
    r = get(c, "/regions/84/structures?page=abc")
    assert r.status_code == 200 and "page 1 sur 3" in text_of(r.text)


# ---- comparison and like for like ---------------------------------------------------------


def test_compare_page(app_client: TestClient, session: Session, settings: Settings,
                      world: World) -> None:
    c = client_as(app_client, session, settings, world.ars84)
    s = world.s
    r = get(c, f"/regions/84/comparer?finess={s['s4'].finess}&finess={s['s7'].finess}"
               f"&finess={s['s9'].finess}")
    assert r.status_code == 200, r.text
    t = text_of(r.text)
    assert "Delta" in t and "Golf" in t and "India" in t
    assert "Palier 3" in t and "Aucune" in t  # India has no submission
    assert 'scope="colgroup"' in r.text
    r = get(c, f"/regions/84/comparer?finess={s['s4'].finess}")
    assert r.status_code == 400
    assert "Sélectionnez de 2 à 6 structures" in r.text
    r = get(c, f"/regions/84/comparer?finess={s['s4'].finess}&finess={s['n1'].finess}")
    assert r.status_code == 404


def test_like_for_like_block(app_client: TestClient, session: Session, settings: Settings,
                             world: World) -> None:
    s4 = world.s["s4"]
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, f"/structures/{s4.finess}/comparaison", headers=HTMX)
    assert r.status_code == 200
    html = r.text
    assert html.lstrip().startswith('<section id="comparaison"')
    t = text_of(html)
    # Region: the sector group (5), 50e centile; nation: the EHPAD group (6), 58e centile.
    assert "Dans la région" in t and "5 structures" in t
    assert "Score global 70,0 50 e centile" in t
    assert "6 structures" in t and "Score global 70,0 58 e centile" in t
    r = get(c, f"/structures/{world.s['s6'].finess}/comparaison")
    assert "Groupe trop petit pour comparer" in text_of(r.text)
    assert "<html" in r.text  # a whole page without htmx


def test_director_sees_own_position_anonymised(app_client: TestClient, session: Session,
                                               settings: Settings, world: World) -> None:
    c = client_as(app_client, session, settings, world.director4)
    r = get(c, f"/structures/{world.s['s4'].finess}/comparaison")
    assert r.status_code == 200
    t = text_of(r.text)
    assert "58 e centile" in t
    for other in ("Bravo", "Echo", "Golf", "Hotel", "November", "Oscar"):
        assert other not in t
    assert get(c, f"/structures/{world.s['s7'].finess}/comparaison").status_code == 404


def test_structure_page_for_ars(app_client: TestClient, session: Session, settings: Settings,
                                world: World) -> None:
    c = client_as(app_client, session, settings, world.ars84)
    r = get(c, f"/structures/{world.s['s1'].finess}")
    assert r.status_code == 200
    t = text_of(r.text)
    assert "Dernier résultat" in t and "Voir le résultat détaillé" in t  # trace page
    assert "Historique des évaluations transmises" in t
    assert f'hx-get="/structures/{world.s["s1"].finess}/comparaison"' in r.text


# ---- permissions ------------------------------------------------------------------------------

# who -> (dashboard 84, htmx dashboard 84, list 84, htmx list 84, compare 84, like-for-like s4,
#         htmx like-for-like s4, summary API 84, regions index)
MATRIX = {
    "ars84":         (200, 200, 200, 200, 200, 200, 200, 200, 303),
    "ars11":         (404, 404, 404, 404, 404, 404, 404, 404, 303),
    "committee84":   (200, 200, 200, 200, 200, 200, 200, 200, 303),
    "committee_nat": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "admin":         (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "director4":     (403, 403, 403, 403, 403, 200, 200, 403, 403),
    "director_n1":   (403, 403, 403, 403, 403, 404, 404, 403, 403),
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_permission_matrix(app_client: TestClient, session: Session, settings: Settings,
                           world: World, who: str) -> None:
    c = client_as(app_client, session, settings, getattr(world, who))
    s = world.s
    compare = f"/regions/84/comparer?finess={s['s4'].finess}&finess={s['s7'].finess}"
    got = (
        get(c, "/regions/84").status_code,
        get(c, "/regions/84?palier=2", headers=HTMX).status_code,
        get(c, "/regions/84/structures").status_code,
        get(c, "/regions/84/structures?page=1", headers=HTMX).status_code,
        get(c, compare).status_code,
        get(c, f"/structures/{s['s4'].finess}/comparaison").status_code,
        get(c, f"/structures/{s['s4'].finess}/comparaison", headers=HTMX).status_code,
        get(c, "/api/v1/regions/84/summary").status_code,
        get(c, "/regions").status_code,
    )
    assert got == MATRIX[who]


def test_out_of_region_pages_leak_nothing(app_client: TestClient, session: Session,
                                          settings: Settings, world: World) -> None:
    c = client_as(app_client, session, settings, world.ars11)
    for url in ("/regions/84", "/regions/84/structures", "/api/v1/regions/84/summary",
                f"/structures/{world.s['s4'].finess}/comparaison"):
        r = get(c, url)
        assert r.status_code == 404
        assert "Delta" not in r.text and "Auvergne" not in r.text
    assert get(c, "/regions/11").status_code == 200
    assert get(c, "/regions/99").status_code == 404


def test_anonymous(app_client: TestClient, world: World) -> None:
    r = get(app_client, "/regions/84")
    assert r.status_code == 303 and r.headers["location"].startswith("/connexion")
    assert get(app_client, "/regions/84/structures", headers=HTMX).status_code == 401
    assert get(app_client, "/api/v1/regions/84/summary").status_code == 401


def test_regions_index(app_client: TestClient, session: Session, settings: Settings,
                       world: World) -> None:
    c = client_as(app_client, session, settings, world.admin)
    r = get(c, "/regions")
    t = text_of(r.text)
    # Auvergne-Rhône-Alpes: 11 open structures, 9 submitted; Île-de-France: 2 and 2.
    assert "Auvergne-Rhône-Alpes 11 9" in t and "Île-de-France 2 2" in t
    c = client_as(app_client, session, settings, world.ars84)
    assert get(c, "/regions").headers["location"] == "/regions/84"
