"""The committee's builder and shortlist pages in plain words (issue 10): departments and
categories picked from labelled lists, no "Clé" / "Règle" / "Groupe 01 / 1", no duplicated
column, the palier-range error in plain French. Dataset: tests.integration.test_shortlists
(region 84: Delta (01, palier 4), Beta (69, palier 3), Alpha (69, palier 2), Gamma (01,
palier 1))."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.shortlists.models import Shortlist
from tests.integration import test_shortlists as ts
from tests.integration.test_shortlists import Data, builder_query, login

dataset = ts.dataset  # the fixture


def _headers(html: str, caption_start: str) -> list[str]:
    table = html.split(caption_start, 1)[1].split("</thead>", 1)[0]
    return re.findall(r'<th scope="col">([^<]+)</th>', table)


def test_builder_lists_departments_and_categories_by_name(
        app_client: TestClient, session: Session, settings: Settings, dataset: Data) -> None:
    login(app_client, session, settings, dataset.committee_national)
    page = app_client.get("/selections/nouvelle")
    assert 'name="departements" value="69"' in page.text
    assert '<label class="fr-label" for="dep-69">Rhône (69)</label>' in page.text
    assert '<label class="fr-label" for="dep-2A">Corse-du-Sud (2A)</label>' in page.text
    assert ('<label class="fr-label" for="cat-500">EHPAD (Établissement d&#39;hébergement '
            'pour personnes âgées dépendantes)</label>') in page.text
    assert "Codes INSEE" not in page.text and "Codes séparés" not in page.text
    assert 'type="text" id="departements"' not in page.text
    # Ticking a category filters like the codes did.
    r = app_client.get("/selections/nouvelle", params={**builder_query(), "categories": "255"})
    assert [row.candidate.name for row in r.context["preview"]["selection"].rows] == [  # type: ignore[attr-defined]
        "MAS Gamma"]


def test_preview_and_detail_in_words(app_client: TestClient, session: Session,
                                     settings: Settings, dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    r = app_client.get("/selections/nouvelle", params=builder_query(min_department="1"))
    assert _headers(r.text, "Aperçu : les") == ["Rang", "Structure", "Département", "Palier",
                                               "Score global", "Motif de sélection"]
    assert "<td>Ain (01)</td>" in r.text and "<td>Rhône (69)</td>" in r.text
    assert "Place réservée (minimum par département)" in r.text
    assert ">Clé<" not in r.text and ">Règle<" not in r.text

    data = {**builder_query(min_department="1"), "nom": "Panel", "csrf_token": token}
    assert app_client.post("/selections", data=data, follow_redirects=False).status_code == 303
    s = session.exec(select(Shortlist)).one()
    page = app_client.get(f"/selections/{s.id}")
    assert _headers(page.text, "Structures retenues, dans l’ordre du classement") == [
        "Rang", "Structure", "Département", "Palier", "Score global",
        "Exigences manquantes pour le palier suivant", "Transmise le", "Quota concerné",
        "Motif de sélection"]
    assert "<td>Ain (01)</td>" in page.text
    assert ">Groupe<" not in page.text and " / " not in page.text.split("Liste classée")[1]


def test_ranking_by_readiness_shows_the_column_once(
        app_client: TestClient, session: Session, settings: Settings, dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    data = {**builder_query(classement="readiness"), "nom": "Proches", "csrf_token": token}
    assert app_client.post("/selections", data=data, follow_redirects=False).status_code == 303
    s = session.exec(select(Shortlist)).one()
    page = app_client.get(f"/selections/{s.id}")
    assert _headers(page.text, "Structures retenues, dans l’ordre du classement") == [
        "Rang", "Structure", "Département", "Palier",
        "Exigences manquantes pour le palier suivant", "Transmise le", "Motif de sélection"]


def test_palier_range_error_in_plain_french(app_client: TestClient, session: Session,
                                            settings: Settings, dataset: Data) -> None:
    login(app_client, session, settings, dataset.committee84)
    r = app_client.get("/selections/nouvelle",
                       params=builder_query(palier_min="3", palier_max="1"))
    assert ("Le palier minimum (3) est au-dessus du palier maximum (1) : choisissez un palier "
            "minimum plus bas ou un palier maximum plus haut.") in r.text
    assert "[min, max]" not in r.text and "≤" not in r.text
