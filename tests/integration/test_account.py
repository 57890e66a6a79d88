"""« Mon compte » (issue 10): a person changes their name and password (the current one
required; argon2; other sessions ended), a director invites a colleague to one of their
structures through the invitation machinery; each change is audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import email as email_module
from app.accounts.models import Invitation, InvitationStructure, User
from app.audit import AuditEvent
from app.structures.models import Structure
from tests.auth_helpers import api_token, bearer, login
from tests.director_client import Director
from tests.factories import DEFAULT_PASSWORD, make_structure

pytestmark = pytest.mark.usefixtures("outbox")  # e-mails kept in memory

NEW_PASSWORD = "une phrase de passe assez longue"


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def reload(session: Session, user: User) -> User:
    session.expire_all()
    fresh = session.get(User, user.id)
    assert fresh is not None
    return fresh


def test_page_shows_the_forms(director: Director) -> None:
    page = director.get("/mon-compte")
    assert page.status_code == 200
    assert "claire.martin@tilleuls.example.fr" in page.text
    assert 'value="Claire Martin"' in page.text
    assert "Inviter un collègue" in page.text
    assert 'href="/mon-compte"' in page.text  # the header's account link


def test_change_name(director: Director, session: Session) -> None:
    response = director.post("/mon-compte/nom", {"name": "  Claire   Martin-Dupont "})
    assert (response.status_code, response.headers["location"]) == (303, "/mon-compte?fait=nom")
    assert reload(session, director.user).name == "Claire Martin-Dupont"
    [event] = events(session, "name_changed")
    assert event.details == {"from": "Claire Martin", "to": "Claire Martin-Dupont"}
    refused = director.post("/mon-compte/nom", {"name": "   "})
    assert refused.status_code == 422
    assert "Indiquez votre nom." in refused.text


def test_change_password_requires_the_current_one(director: Director, session: Session,
                                                  app_client: TestClient) -> None:
    fresh = TestClient(app_client.app)
    other_token = api_token(fresh, director.user.email)
    wrong = director.post("/mon-compte/mot-de-passe", {
        "current": "pas le bon", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 422
    assert "Le mot de passe actuel est incorrect." in wrong.text
    short = director.post("/mon-compte/mot-de-passe", {
        "current": DEFAULT_PASSWORD, "new": "court", "confirm": "court"})
    assert "Le mot de passe doit comporter au moins 12 caractères." in short.text
    mismatch = director.post("/mon-compte/mot-de-passe", {
        "current": DEFAULT_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert "Les deux saisies du nouveau mot de passe sont différentes." in mismatch.text
    assert events(session, "password_changed") == []

    done = director.post("/mon-compte/mot-de-passe", {
        "current": DEFAULT_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    user = reload(session, director.user)
    assert user.password_hash.startswith("$argon2id$")
    assert len(events(session, "password_changed")) == 1
    # This session goes on; the API token (another session) is revoked.
    assert director.get("/mon-compte").status_code == 200
    assert fresh.get("/api/v1/me", headers=bearer(other_token)).status_code == 401
    assert login(fresh, user.email, DEFAULT_PASSWORD).status_code != 303
    assert login(fresh, user.email, NEW_PASSWORD).status_code == 303


def test_director_invites_a_colleague(director: Director, session: Session, ehpad: Structure,
                                      outbox: list[email_module.Email]) -> None:
    other = make_structure(session, name="Foyer d’ailleurs")
    session.commit()
    refused = director.post("/mon-compte/invitation", {
        "email": "paul.durand@tilleuls.example.fr", "structure": str(other.id)})
    assert refused.status_code == 422
    assert "Choisissez l’une de vos structures." in refused.text
    mine = director.post("/mon-compte/invitation", {
        "email": "claire.martin@tilleuls.example.fr", "structure": str(ehpad.id)})
    assert "Indiquez l’adresse de votre collègue, pas la vôtre." in mine.text

    sent = director.post("/mon-compte/invitation", {
        "email": "Paul.Durand@tilleuls.example.fr", "structure": str(ehpad.id)})
    assert sent.status_code == 303
    invitation = session.exec(select(Invitation)).one()
    assert invitation.email == "paul.durand@tilleuls.example.fr"
    assert invitation.invited_by == director.user.id
    links = session.exec(select(InvitationStructure)).all()
    assert [x.structure_id for x in links] == [ehpad.id]
    [event] = events(session, "invitation_created")
    assert event.details["delegate"] is True
    assert event.details["structures"] == [ehpad.finess]
    [mail] = outbox
    assert mail.to == "paul.durand@tilleuls.example.fr"
    assert "Claire Martin vous invite" in mail.body and "EHPAD Les Tilleuls" in mail.body
