"""An admin adds a structure by typing its FINESS number (/admin/structures/nouvelle).

FINESS numbers used here, Luhn over the 9 characters (every second digit from the right
doubled, 9 subtracted above 9; the total must end in 0):
    69000012 + key: 6 + (9·2=18→9) + 0 + 0 + 0 + 0 + 1 + (2·2=4) = 20, so key 0:
                    690000120 is valid (Rhône, 69), 690000121 has a bad check digit.
    01000005 + key: 0 + (1·2=2) + 0 + 0 + 0 + 0 + 0 + (5·2=10→1) = 3, so key 7:
                    010000057 is valid (Ain, 01).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEvent
from app.config import Settings
from app.structures.models import Structure
from tests.auth_helpers import csrf_token, log_in
from tests.factories import make_structure, make_user

URL = "/admin/structures/nouvelle"
CONFIRM = "Je confirme ce numéro FINESS malgré l’avertissement"


def _form(**overrides: str) -> dict[str, str]:
    form = {"finess": "69 000 012 0", "finess_ej": "", "name": "EHPAD Les Glycines",
            "category_code": "500", "department": "69", "city": "Lyon", "capacity": "84"}
    form.update(overrides)
    return form


def _post(client: TestClient, token: str, data: dict[str, str]) -> Any:
    return client.post(URL, data={**data, "csrf_token": token}, follow_redirects=False)


def _structures(session: Session) -> dict[str, Structure]:
    session.expire_all()
    return {s.finess: s for s in session.exec(select(Structure)).all()}


def _created_events(session: Session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(
        col(AuditEvent.action) == "structure_created")).all())


@pytest.fixture
def admin(app_client: TestClient, session: Session, settings: Settings) -> str:
    return log_in(app_client, session, settings, make_user(session, "admin"))


def test_the_page_and_the_import_page_link(app_client: TestClient, admin: str) -> None:
    page = app_client.get(URL)
    assert page.status_code == 200
    assert "<h1>Ajouter une structure</h1>" in page.text
    assert 'aria-describedby="finess-hint finess-messages"' in page.text
    assert CONFIRM not in page.text
    assert 'href="/admin/structures/nouvelle"' in app_client.get(
        "/admin/structures/import").text


def test_a_valid_number_creates_the_structure(app_client: TestClient, session: Session,
                                              admin: str) -> None:
    response = _post(app_client, admin, _form(finess_ej="01 000 005 7"))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/structures/690000120?cree=1"
    s = _structures(session)["690000120"]
    assert (s.finess_ej, s.name, s.category_code, s.department, s.region, s.city,
            s.capacity, s.closed) == ("010000057", "EHPAD Les Glycines", "500", "69", "84",
                                      "Lyon", 84, False)
    assert s.category_label == ("EHPAD (Établissement d'hébergement pour personnes âgées "
                                "dépendantes)")
    [event] = _created_events(session)
    assert event.object_type == "structure" and event.object_id == str(s.id)
    assert event.details["finess"] == "690000120"
    assert event.details["check_digit_confirmed"] is False
    page = app_client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Structure créée." in page.text


def test_a_malformed_number_is_refused(app_client: TestClient, session: Session,
                                       admin: str) -> None:
    short = _post(app_client, admin, _form(finess="69 000 012"))
    assert short.status_code == 422
    assert "Le numéro FINESS doit comporter 9 caractères (8 saisis)." in short.text
    assert 'id="finess-message-error"' in short.text
    assert 'aria-invalid="true"' in short.text
    letters = _post(app_client, admin, _form(finess="69000X120"))
    assert letters.status_code == 422
    assert "Le numéro FINESS doit comporter 9 chiffres" in letters.text
    unknown = _post(app_client, admin, _form(finess="000000000"))
    assert unknown.status_code == 422
    assert "Le numéro FINESS commence par « 00 »" in unknown.text
    assert CONFIRM not in short.text + letters.text + unknown.text
    assert _structures(session) == {}
    assert _created_events(session) == []


def test_a_bad_check_digit_needs_a_confirmation(app_client: TestClient, session: Session,
                                                admin: str) -> None:
    warned = _post(app_client, admin, _form(finess="69 000 012 1"))
    assert warned.status_code == 200
    assert "La clé de contrôle du numéro FINESS ne correspond pas" in warned.text
    assert 'id="finess-message-warning"' in warned.text
    assert CONFIRM in warned.text
    assert 'name="confirmer_finess"' in warned.text
    assert 'value="690000121"' in warned.text  # normalised, kept in the form
    assert _structures(session) == {}

    # A confirmation of another number does not count: the warning comes back.
    other = _post(app_client, admin, _form(finess="69 000 012 1", confirmer_finess="690000139"))
    assert other.status_code == 200 and _structures(session) == {}
    confirmed = _post(app_client, admin, _form(finess="69 000 012 1",
                                                confirmer_finess="690000121"))
    assert confirmed.status_code == 303, confirmed.text
    assert confirmed.headers["location"] == "/admin/structures/690000121?cree=1"
    assert set(_structures(session)) == {"690000121"}
    [event] = _created_events(session)
    assert event.details["check_digit_confirmed"] is True


def test_a_duplicate_number_links_to_the_existing_structure(
        app_client: TestClient, session: Session, admin: str) -> None:
    make_structure(session, finess="690000120", name="EHPAD existant")
    response = _post(app_client, admin, _form())
    assert response.status_code == 422
    assert "Une structure porte déjà ce numéro FINESS : EHPAD existant." in response.text
    assert 'href="/admin/structures/690000120"' in response.text
    assert [s.name for s in _structures(session).values()] == ["EHPAD existant"]
    assert _created_events(session) == []


def test_the_department_must_match_the_number(app_client: TestClient, session: Session,
                                              admin: str) -> None:
    response = _post(app_client, admin, _form(department="01"))
    assert response.status_code == 422
    assert ("Le numéro FINESS est celui d’une structure du département 69 (Rhône)"
            in response.text)
    assert 'id="department-message-error"' in response.text
    assert _structures(session) == {}


def test_other_fields_are_checked(app_client: TestClient, session: Session,
                                  admin: str) -> None:
    response = _post(app_client, admin, _form(name="  ", category_code="999",
                                              capacity="-3", finess_ej="12"))
    assert response.status_code == 422
    assert "Saisissez le nom de la structure." in response.text
    assert "Choisissez une catégorie FINESS de la liste." in response.text
    assert "Indiquez un nombre de places entre 0 et 100\u202f000." in response.text
    assert "Le numéro FINESS doit comporter 9 caractères (2 saisis)." in response.text
    assert _structures(session) == {}


@pytest.mark.parametrize("role,region", [("ars", "84"), ("director", None),
                                         ("committee", "84")])
def test_only_admins(app_client: TestClient, session: Session, settings: Settings,
                     role: str, region: str | None) -> None:
    token = log_in(app_client, session, settings, make_user(session, role, region=region))
    assert app_client.get(URL, follow_redirects=False).status_code == 403
    assert _post(app_client, token, _form()).status_code == 403
    assert _structures(session) == {}


def test_anonymous_goes_to_the_login_page(app_client: TestClient, session: Session) -> None:
    page = app_client.get(URL, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/connexion")
    posted = _post(app_client, csrf_token(app_client), _form())
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/connexion")
    assert _structures(session) == {}
