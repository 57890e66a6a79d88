"""The message thread in the JSON API (GET/POST /api/v1/assessments/{id}/messages): the
same rules as the page (the structure's directors and the ARS of its region), bearer tokens
(read-only personal tokens cannot post), CSRF with a session cookie, e-mail and audit.
Expected values written by hand."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import email as email_module
from app.accounts.models import User
from app.audit import AuditEvent
from app.config import Settings
from app.permissions import Role
from app.reviews.models import AssessmentMessage
from app.structures.models import Structure
from tests.auth_helpers import api_token, bearer, csrf_token, log_in
from tests.factories import make_structure, make_user
from tests.integration import test_reviews as rv

# EHPAD Les Tilleuls (69), Claire Martin its director, Karim Benali the ARS of region 84,
# a submitted assessment (the review tests' world).
ehpad, director, ars, browser, submitted = rv.ehpad, rv.director, rv.ars, rv.browser, rv.submitted
pytestmark = pytest.mark.usefixtures("outbox")


def test_director_and_ars_write_and_read_the_thread(
        app_client: TestClient, session: Session, submitted: int, director: User, ars: User,
        outbox: list[email_module.Email]) -> None:
    url = f"/api/v1/assessments/{submitted}/messages"
    as_director = bearer(api_token(app_client, director.email))
    as_ars = bearer(api_token(app_client, ars.email))
    assert app_client.get(url, headers=as_ars).json() == []
    outbox.clear()

    sent = app_client.post(url, json={"body": "  Le plan d’action est joint.\r\nMerci.  "},
                           headers=as_director)
    assert sent.status_code == 201, sent.text
    first = sent.json()
    assert {k: first[k] for k in ("assessment_id", "author", "author_role", "body")} == {
        "assessment_id": submitted, "author": "Claire Martin", "author_role": "director",
        "body": "Le plan d’action est joint.\nMerci."}
    assert [(m.to, m.subject) for m in outbox] == [
        ("karim.benali@ars.example.fr", "Palier : nouveau message sur « EHPAD Les Tilleuls »")]
    assert "Le plan d’action est joint." in outbox[0].body
    assert f"/evaluations/{submitted}/messages" in outbox[0].body

    outbox.clear()
    reply = app_client.post(url, json={"body": "Bien reçu."}, headers=as_ars)
    assert reply.status_code == 201
    assert [m.to for m in outbox] == ["claire.martin@tilleuls.example.fr"]

    listed = app_client.get(url, headers=as_director)
    assert listed.status_code == 200
    assert [(m["author"], m["author_role"], m["body"]) for m in listed.json()] == [
        ("Claire Martin", "director", "Le plan d’action est joint.\nMerci."),
        ("Karim Benali", "ars", "Bien reçu.")]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "message")
                          .order_by(col(AuditEvent.id))).all()
    assert [(e.user_id, e.object_type, e.object_id, e.details["to"]) for e in events] == [
        (director.id, "assessment", str(submitted), ["karim.benali@ars.example.fr"]),
        (ars.id, "assessment", str(submitted), ["claire.martin@tilleuls.example.fr"])]


# Every role on structure A's submitted assessment: GET status, POST status (written by hand
# from the rules: the structure's directors and the ARS of its region; committees and admins
# in scope 403; out of scope 404).
ROLES = [
    ("director of the structure", 200, 201),
    ("director of another structure", 404, 404),
    ("ARS of the region", 200, 201),
    ("ARS of another region", 404, 404),
    ("committee of the region", 403, 403),
    ("national committee", 403, 403),
    ("admin", 403, 403),
]


def _actor(session: Session, who: str, director: User, ars: User) -> User:
    if who == "director of the structure":
        return director
    if who == "ARS of the region":
        return ars
    other = make_structure(session, name="SSIAD de Paris", department="75")
    return {
        "director of another structure": lambda: make_user(
            session, Role.director, [other], email="dir.paris@example.fr"),
        "ARS of another region": lambda: make_user(session, Role.ars, region="11",
                                                   email="ars.idf@example.fr"),
        "committee of the region": lambda: make_user(session, Role.committee, region="84",
                                                     email="comite84@example.fr"),
        "national committee": lambda: make_user(session, Role.committee,
                                                email="comite@example.fr"),
        "admin": lambda: make_user(session, Role.admin, email="admin@example.fr"),
    }[who]()


@pytest.mark.parametrize(("who", "get_status", "post_status"), ROLES)
def test_every_role(app_client: TestClient, session: Session, submitted: int,
                    director: User, ars: User, who: str, get_status: int,
                    post_status: int) -> None:
    user = _actor(session, who, director, ars)
    headers = bearer(api_token(app_client, user.email))
    url = f"/api/v1/assessments/{submitted}/messages"
    assert app_client.get(url, headers=headers).status_code == get_status
    assert app_client.post(url, json={"body": "Bonjour."}, headers=headers).status_code \
        == post_status
    assert app_client.get(f"/api/v1/assessments/{submitted + 1000}/messages",
                          headers=headers).status_code == 404
    with TestClient(app_client.app) as anonymous:  # no credential
        assert anonymous.get(url).status_code == 401


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_an_empty_message_is_422(app_client: TestClient, session: Session, submitted: int,
                                 director: User, body: str) -> None:
    headers = bearer(api_token(app_client, director.email))
    response = app_client.post(f"/api/v1/assessments/{submitted}/messages",
                               json={"body": body}, headers=headers)
    assert response.status_code == 422
    assert "Écrivez votre message avant de l’envoyer." in response.text
    assert session.exec(select(AssessmentMessage)).all() == []


def test_too_long_or_missing_body_is_422(app_client: TestClient, session: Session,
                                         submitted: int, director: User) -> None:
    headers = bearer(api_token(app_client, director.email))
    url = f"/api/v1/assessments/{submitted}/messages"
    too_long = app_client.post(url, json={"body": "a" * 4001}, headers=headers)
    assert too_long.status_code == 422
    assert "Le message ne doit pas dépasser 4000 caractères (il en compte 4001)." \
        in too_long.text
    assert app_client.post(url, json={}, headers=headers).status_code == 422
    assert app_client.post(url, json={"body": "a" * 4000}, headers=headers).status_code == 201


def test_read_only_token_reads_but_cannot_post(app_client: TestClient, session: Session,
                                               submitted: int, ars: User) -> None:
    headers = bearer(api_token(app_client, ars.email, scope="read"))
    url = f"/api/v1/assessments/{submitted}/messages"
    assert app_client.get(url, headers=headers).status_code == 200
    refused = app_client.post(url, json={"body": "Bonjour."}, headers=headers)
    assert refused.status_code == 403
    assert "lecture seule" in refused.text
    assert session.exec(select(AssessmentMessage)).all() == []


def test_a_draft_has_no_thread(app_client: TestClient, session: Session, ehpad: Structure,
                               director: User) -> None:
    headers = bearer(api_token(app_client, director.email))
    draft = app_client.post(f"/api/v1/structures/{ehpad.finess}/assessments", headers=headers)
    assert draft.status_code == 201
    response = app_client.get(f"/api/v1/assessments/{draft.json()['id']}/messages",
                              headers=headers)
    assert response.status_code == 409
    assert "transmettez d’abord l’autodiagnostic" in response.text


def test_session_cookie_needs_the_csrf_token(app_client: TestClient, session: Session,
                                             settings: Settings, submitted: int,
                                             director: User) -> None:
    log_in(app_client, session, settings, director)
    url = f"/api/v1/assessments/{submitted}/messages"
    assert app_client.get(url).status_code == 200
    assert app_client.post(url, json={"body": "Sans jeton."}).status_code == 403
    with_token = app_client.post(url, json={"body": "Avec jeton."},
                                 headers={"X-CSRF-Token": csrf_token(app_client)})
    assert with_token.status_code == 201, with_token.text
