"""The committee's builder and shortlist pages in plain words (issue 10): departments and
categories picked from labelled lists, no "Clé" / "Règle" / "Groupe 01 / 1", no duplicated
column, the palier-range error in plain French. Dataset: tests.integration.test_shortlists
(region 84: Delta (01, palier 4), Beta (69, palier 3), Alpha (69, palier 2), Gamma (01,
palier 1))."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings, get_settings
from app.dashboard.service import refresh_structures
from app.questionnaires import Registry
from app.shortlists import export_service
from app.shortlists.models import Shortlist
from app.web import reports
from tests.factories import make_assessment
from tests.integration import test_shortlists as ts
from tests.integration.test_shortlists import Data, builder_query, login, snapshot

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
        "Exigences manquantes pour le palier suivant", "Évaluation transmise le",
        "Quota concerné",
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
        "Exigences manquantes pour le palier suivant", "Évaluation transmise le",
        "Motif de sélection"]


def test_palier_range_error_in_plain_french(app_client: TestClient, session: Session,
                                            settings: Settings, dataset: Data) -> None:
    login(app_client, session, settings, dataset.committee84)
    r = app_client.get("/selections/nouvelle",
                       params=builder_query(palier_min="3", palier_max="1"))
    assert ("Le palier minimum (3) est au-dessus du palier maximum (1) : choisissez un palier "
            "minimum plus bas ou un palier maximum plus haut.") in r.text
    assert "[min, max]" not in r.text and "≤" not in r.text


# Region 84, departments 01 and 69, the IME category (183) or the sector « personnes âgées »,
# palier 1 or more, submitted from 1 January 2026: Delta (01, IME, 92.5), Beta (69, 70),
# Alpha (69, 70, one more unmet requirement); Gamma is a MAS (255), Epsilon has no
# submission. At least one per department: Delta for 01, Beta for 69, then Alpha by rank.
WIDE = {"departements": ["01", "69"], "secteurs": "personnes_agees", "categories": "183",
        "palier_min": "1", "transmise_apres": "2026-01-01", "min_department": "1"}


def _saved(app_client: TestClient, session: Session, token: str, **kw: object) -> Shortlist:
    data = {**builder_query(**{**WIDE, **kw}), "nom": "Panel", "csrf_token": token}
    assert app_client.post("/selections", data=data, follow_redirects=False).status_code == 303
    return session.exec(select(Shortlist)).one()


def _criteria(html: str) -> dict[str, str]:
    block = html.split("Critères et provenance", 1)[1].split("</dl>", 1)[0]
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", block))


def test_saved_criteria_and_rows_in_words(app_client: TestClient, session: Session,
                                          settings: Settings, dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    s = _saved(app_client, session, token)
    page = app_client.get(f"/selections/{s.id}")
    crit = _criteria(page.text)
    assert crit["Départements"] == "Ain (01), Rhône (69)"
    assert crit["Catégories ou secteurs"] == (
        "IME (Institut médico-éducatif) (183), secteur « Personnes âgées »")
    assert crit["Paliers"] == "palier 1 ou plus"
    assert crit["Dernière évaluation transmise à partir du"] == "1er janvier 2026"
    assert crit["Ordre"] == "décroissant"
    listed = page.text.split("Liste classée", 1)[1]
    # Delta 15 January, Beta 5 March, Alpha 1 March (9:30 UTC: the same day in Paris)
    cells = re.findall(r'<td class="palier-nowrap">([^<]+)</td>', listed)
    assert cells == ["15 janvier 2026", "5 mars 2026", "1er mars 2026"]
    assert "2026-03-05" not in listed
    assert "Empreinte SHA-256 :" not in page.text


def test_pdf_report_in_words(session: Session, app_client: TestClient, settings: Settings,
                             dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    s = _saved(app_client, session, token)
    html = reports.shortlist_report_html(export_service.shortlist_report(
        session, s, Registry.load(get_settings().questionnaires_dir)))
    head = html.split('class="palier-ranked"', 1)[1].split("</thead>", 1)[0]
    assert re.findall(r'<th scope="col">([^<]+)</th>', head) == [
        "Rang", "FINESS", "Structure", "Département", "Palier", "Score global",
        "Exigences manquantes pour le palier suivant", "Motif de sélection"]
    body = html.split('class="palier-ranked"', 1)[1].split("</table>", 1)[0]
    assert "<td>Ain (01)</td>" in body and "<td>Rhône (69)</td>" in body
    assert body.count("Place réservée (minimum par département)") == 2
    assert body.count("Classement général") == 1
    assert ">Règle<" not in html and ">Rang</td>" not in html and "Dép." not in html
    assert "sans valeur de clé" not in html and "Clé" not in html


def test_rerun_page_in_words(app_client: TestClient, session: Session, settings: Settings,
                             dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    s = _saved(app_client, session, token)
    # Epsilon (69) submits with 95: it enters by rank; Alpha leaves.
    make_assessment(session, dataset.s["epsilon"], "submitted", tier_level=4,
                    global_score=95.0, result=snapshot(4, None, []),
                    submitted_at=datetime(2026, 4, 1, tzinfo=UTC))
    refresh_structures(session, [dataset.s["epsilon"].id or 0])
    session.commit()
    page = app_client.get(f"/selections/{s.id}/comparaison")
    assert _headers(page.text, "Structures qui entreraient dans la liste") == [
        "Rang", "Structure", "Palier", "Score global", "Motif de sélection"]
    entered = page.text.split("Structures qui entreraient", 1)[1].split("</table>", 1)[0]
    assert "EHPAD Epsilon" in entered and "Place réservée (minimum par département)" in entered
    assert ">Clé<" not in page.text and ">Règle<" not in page.text


def test_start_from_these_criteria_ticks_the_lists(
        app_client: TestClient, session: Session, settings: Settings, dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    s = _saved(app_client, session, token)
    detail = app_client.get(f"/selections/{s.id}")
    href = re.search(r'href="(/selections/nouvelle\?[^"]+)">Partir de ces critères',
                     detail.text)
    assert href is not None
    page = app_client.get(href.group(1).replace("&amp;", "&"))
    ticked = re.findall(r'<input type="checkbox" id="([^"]+)" name="[^"]+" value="[^"]+" checked>',
                        page.text)
    assert ticked == ["dep-01", "dep-69", "sec-personnes_agees", "cat-183"]
    assert '<option value="1" selected>' in page.text.split('id="palier_min"', 1)[1]
    # no code typed in a text box: every code is a ticked box of a labelled list
    for code in ("personnes_agees", "183", "01", "69"):
        assert 'type="text" id="departements"' not in page.text
        assert re.search(rf'type="text"[^>]*value="{code}"', page.text) is None
    # the same list as the saved one
    rows = page.context["preview"]["selection"].rows  # type: ignore[attr-defined]
    assert [r.candidate.name for r in rows] == ["IME Delta", "EHPAD Beta", "EHPAD Alpha"]
