"""French number entry through the app (issue 10: « 62,5 » in the ETP field saved 625).

The page autosave and the no-JS section form both go through app/numbers_fr.py; the input
shows the saved value back the French way; refused entries keep what was typed with a French
message; the bounds still apply; the JSON API takes JSON numbers only (never a string).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.numbers_fr import GROUPS_ERROR, SEPARATORS_ERROR
from app.permissions import Role
from app.structures.models import Structure
from tests.answers import PETIT_EHPAD, best
from tests.auth_helpers import api_token, bearer
from tests.director_client import Director, form_values, start, submitted
from tests.factories import answers_of, fill, make_structure, make_user

NNBSP, NBSP = "\u202f", "\u00a0"


def number_input(html: str, qid: str) -> str:
    """The <input> of a number question, as rendered."""
    match = re.search(rf'<input [^>]*id="q_{qid}"[^>]*>', html)
    assert match, f"no input for {qid}"
    return match.group(0)


def test_autosave_decimal_comma_saves_62_5_and_the_page_shows_62_5(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    response = director.autosave(aid, "effectif_etp", "62,5", version=0)
    assert response.status_code == 200
    assert response.headers["X-Palier-Outcome"] == "saved"
    assert answers_of(session, aid) == {"effectif_etp": 62.5}  # not 625
    page = director.get(f"/evaluations/{aid}/sections/s-profil")
    field = number_input(page.text, "effectif_etp")
    assert 'type="text"' in field and 'inputmode="decimal"' in field
    assert 'value="62,5"' in field


@pytest.mark.parametrize(("typed", "saved"), [
    ("62.5", 62.5),
    (f"1{NNBSP}234", 1234),
    (f"1{NBSP}234,0", 1234),
    ("1 234", 1234),
])
def test_autosave_accepts_points_and_every_thousands_space(
        director: Director, session: Session, ehpad: Structure, typed: str,
        saved: float) -> None:
    aid = start(director, ehpad)
    assert director.autosave(aid, "capacite", typed, version=0).status_code == 200
    assert answers_of(session, aid) == {"capacite": saved}


@pytest.mark.parametrize(("typed", "message"), [
    ("62,5,3", SEPARATORS_ERROR),
    ("1.234,5", SEPARATORS_ERROR),
    ("62 5", GROUPS_ERROR),
])
def test_autosave_refuses_ambiguous_numbers_with_a_message(
        director: Director, session: Session, ehpad: Structure, typed: str,
        message: str) -> None:
    aid = start(director, ehpad)
    response = director.autosave(aid, "effectif_etp", typed, version=0)
    assert response.status_code == 422
    assert response.headers["X-Palier-Outcome"] == "invalid"
    assert message in response.text
    assert f'value="{typed}"' in number_input(response.text, "effectif_etp")  # kept as typed
    assert answers_of(session, aid) == {}


def test_autosave_bounds_still_apply_in_french(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    response = director.autosave(aid, "effectif_etp", "10 000,5", version=0)
    assert response.status_code == 422
    assert f"Le nombre doit être inférieur ou égal à 10{NNBSP}000." in response.text
    response = director.autosave(aid, "effectif_etp", "-0,5", version=0)
    assert response.status_code == 422
    assert "Le nombre doit être supérieur ou égal à 0." in response.text
    assert answers_of(session, aid) == {}


def test_no_js_form_post_decimal_comma(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    profile = {k: v for k, v in best("ehpad").items()
               if k in ("public_accueilli", "modalite", "medicalise", "capacite",
                        "gestionnaire_multi", "finess_propre", "regroupement")}
    data: dict[str, Any] = {"version": "0", **form_values(profile), "q_effectif_etp": "62,5"}
    response = director.post(f"/evaluations/{aid}/sections/s-profil", data)
    assert response.status_code == 303, response.text
    assert answers_of(session, aid)["effectif_etp"] == 62.5
    # A mixed form is refused, nothing saved, the text kept and the message shown.
    data = {"version": "1", **form_values(profile), "q_effectif_etp": "1.234,5"}
    response = director.post(f"/evaluations/{aid}/sections/s-profil", data)
    assert response.status_code == 422
    assert SEPARATORS_ERROR in response.text
    assert 'value="1.234,5"' in number_input(response.text, "effectif_etp")
    assert answers_of(session, aid)["effectif_etp"] == 62.5


def test_answers_are_displayed_the_french_way(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = submitted(director, session, ehpad, {**PETIT_EHPAD, "effectif_etp": 43.6})
    page = director.get(f"/evaluations/{aid}/impression")
    assert page.status_code == 200
    row = re.search(r"équivalents temps plein \(ETP\)</th><td[^>]*>([^<]*)</td>", page.text)
    assert row and row.group(1) == "43,6"


def test_draft_section_shows_a_stored_decimal_exactly(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    fill(session, aid, {"effectif_etp": 12.125, "capacite": 1234})
    page = director.get(f"/evaluations/{aid}/sections/s-profil")
    assert 'value="12,125"' in number_input(page.text, "effectif_etp")  # not rounded
    assert 'value="1234"' in number_input(page.text, "capacite")


def test_api_takes_json_numbers_never_strings(app_client: TestClient,
                                             session: Session) -> None:
    structure = make_structure(session, department="69", name="EHPAD Les Tilleuls")
    make_user(session, role=Role.director, structures=[structure], email="dir.a@test.fr")
    h = bearer(api_token(app_client, "dir.a@test.fr"))
    r = app_client.post(f"/api/v1/structures/{structure.finess}/assessments", headers=h)
    url = f"/api/v1/assessments/{r.json()['id']}/answers"
    refused = app_client.patch(url, headers=h,
                               json={"version": 0, "answers": {"effectif_etp": "62,5"}})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["question"] == "effectif_etp"
    r = app_client.patch(url, headers=h, json={"version": 0, "answers": {"effectif_etp": 62.5}})
    assert r.status_code == 200
    assert r.json()["answers"] == {"effectif_etp": 62.5}
