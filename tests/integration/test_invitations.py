"""Invitations of directors (ARS referent / admin → e-mail → one-time link → account or
acceptance) and the organisme gestionnaire page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import email
from app.accounts.models import DirectorStructure, Invitation, InvitationStructure, User
from app.accounts.tokens import token_hash
from app.audit import AuditEvent
from app.config import Settings
from app.structures.models import Structure
from app.web.security import SESSION_COOKIE
from tests.auth_helpers import csrf_headers, csrf_token, log_in
from tests.factories import make_assessment, make_structure, make_user

PASSWORD = "une phrase de passe solide"


class Client:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token

    def get(self, url: str) -> Any:
        return self.client.get(url, follow_redirects=False)

    def post(self, url: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.post(url, data=data or {}, follow_redirects=False,
                                headers=csrf_headers(self.token))


def _login(client: TestClient, session: Session, settings: Settings, user: User) -> Client:
    return Client(client, log_in(client, session, settings, user))


def _anonymous(client: TestClient) -> Client:
    client.cookies.clear()
    return Client(client, csrf_token(client))


def _link_token(text: str) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000/invitation/([A-Za-z0-9_\-]+)", text)
    assert match is not None, text
    return match.group(1)


@pytest.fixture
def region84(session: Session) -> dict[str, Structure]:
    return {
        "a": make_structure(session, finess="690000039", finess_ej="690000047",
                            name="EHPAD Les Tilleuls", department="69"),
        "b": make_structure(session, finess="690000054", finess_ej="690000047",
                            name="SSIAD du Rhône", department="69", category_code="354"),
        "c": make_structure(session, finess="010000016", finess_ej="690000047",
                            name="IME Les Saules", department="01", category_code="183"),
        "paris": make_structure(session, finess="750000069", finess_ej="690000047",
                                name="EHPAD de Paris", department="75"),
    }


def test_ars_invites_and_the_invitee_creates_an_account(
        app_client: TestClient, session: Session, settings: Settings,
        region84: dict[str, Structure], outbox: list[email.Email]) -> None:
    ars = make_user(session, "ars", region="84", name="Référente ARS")
    referent = _login(app_client, session, settings, ars)
    page = referent.get("/invitations")
    assert page.status_code == 200
    assert "Inviter une direction" in page.text

    sent = referent.post("/invitations", {"email": " Direction@Exemple.FR ",
                                          "structures": "69 000 003 9\n690000054"})
    assert sent.status_code == 200, sent.text
    assert sent.headers["cache-control"] == "no-store"
    assert "Un courriel contenant le lien d’invitation a été envoyé à direction@exemple.fr." in (
        sent.text)
    token = _link_token(sent.text)
    (message,) = outbox
    assert message.to == "direction@exemple.fr"
    assert message.subject == "Invitation à l’autodiagnostic Palier"
    assert "Référente ARS vous invite" in message.body
    assert "- EHPAD Les Tilleuls (FINESS 69 000 003 9)" in message.body
    assert _link_token(message.body) == token

    invitation = session.exec(select(Invitation)).one()
    assert invitation.token_hash == token_hash(token)  # only the hash is stored
    assert (invitation.email, invitation.region, invitation.invited_by) == (
        "direction@exemple.fr", "84", ars.id)
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)
    linked = set(session.exec(select(InvitationStructure.structure_id)).all())
    assert linked == {region84["a"].id, region84["b"].id}
    created = session.exec(select(AuditEvent).where(
        AuditEvent.action == "invitation_created")).one()
    assert created.details["structures"] == ["690000039", "690000054"]
    listing = referent.get("/invitations")
    assert "direction@exemple.fr" in listing.text and "En attente" in listing.text

    invitee = _anonymous(app_client)
    form = invitee.get(f"/invitation/{token}")
    assert form.status_code == 200
    assert "Créer votre compte" in form.text
    assert "EHPAD Les Tilleuls" in form.text and "IME Les Saules" not in form.text

    weak = invitee.post(f"/invitation/{token}", {"name": "", "password": "court",
                                                 "password_confirm": "court"})
    assert weak.status_code == 422
    assert "Indiquez votre nom." in weak.text
    mismatch = invitee.post(f"/invitation/{token}", {"name": "Camille Martin",
                                                     "password": PASSWORD,
                                                     "password_confirm": PASSWORD + "x"})
    assert mismatch.status_code == 422
    assert "Les deux mots de passe saisis sont différents." in mismatch.text

    done = invitee.post(f"/invitation/{token}", {"name": "Camille Martin",
                                                 "password": PASSWORD,
                                                 "password_confirm": PASSWORD})
    assert done.status_code == 303
    assert done.headers["location"] == "/mes-structures"
    assert SESSION_COOKIE in done.headers["set-cookie"]
    session.expire_all()
    user = session.exec(select(User).where(User.email == "direction@exemple.fr")).one()
    assert (user.role, user.name, user.active) == ("director", "Camille Martin", True)
    links = set(session.exec(select(DirectorStructure.structure_id).where(
        DirectorStructure.user_id == user.id)).all())
    assert links == {region84["a"].id, region84["b"].id}
    home = app_client.get("/mes-structures")
    assert home.status_code == 200
    assert "EHPAD Les Tilleuls" in home.text
    created_user = session.exec(select(AuditEvent).where(
        AuditEvent.action == "user_created")).one()
    assert (created_user.user_id, created_user.details["via"]) == (user.id, "invitation")
    accepted = session.exec(select(AuditEvent).where(
        AuditEvent.action == "invitation_accepted")).one()
    assert accepted.details == {"email": "direction@exemple.fr", "new_account": True,
                                "structures": ["690000039", "690000054"]}

    # The link is used up.
    again = _anonymous(app_client).get(f"/invitation/{token}")
    assert again.status_code == 410
    assert "Cette invitation a déjà été acceptée." in again.text
    assert "Acceptée" in referent_list(app_client, session, settings, ars)


def referent_list(client: TestClient, session: Session, settings: Settings,
                  user: User) -> str:
    return str(_login(client, session, settings, user).get("/invitations").text)


def _invite(session: Session, settings: Settings, client: TestClient, user: User,
            email_address: str, structures: str) -> str:
    response = _login(client, session, settings, user).post(
        "/invitations", {"email": email_address, "structures": structures})
    assert response.status_code == 200, response.text
    return _link_token(response.text)


def test_expired_revoked_and_unknown_links(app_client: TestClient, session: Session,
                                           settings: Settings,
                                           region84: dict[str, Structure],
                                           outbox: list[email.Email]) -> None:
    ars = make_user(session, "ars", region="84")
    expired = _invite(session, settings, app_client, ars, "a@exemple.fr", "690000039")
    inv = session.exec(select(Invitation).where(Invitation.email == "a@exemple.fr")).one()
    inv.expires_at = datetime(2026, 1, 10, 11, 0, tzinfo=UTC)
    session.add(inv)
    session.commit()
    page = _anonymous(app_client).get(f"/invitation/{expired}")
    assert page.status_code == 410
    assert ("Cette invitation a expiré le 10 janvier 2026 à 12 h 00. Demandez une nouvelle "
            "invitation à votre référent ARS.") in page.text
    post = _anonymous(app_client).post(f"/invitation/{expired}", {
        "name": "X", "password": PASSWORD, "password_confirm": PASSWORD})
    assert post.status_code == 410
    assert session.exec(select(User).where(User.email == "a@exemple.fr")).first() is None

    revoked = _invite(session, settings, app_client, ars, "b@exemple.fr", "690000039")
    inv = session.exec(select(Invitation).where(Invitation.email == "b@exemple.fr")).one()
    referent = _login(app_client, session, settings, ars)
    cancel = referent.post(f"/invitations/{inv.id}/annuler")
    assert cancel.status_code == 303
    assert "L’invitation a été annulée" in referent.get(cancel.headers["location"]).text
    page = _anonymous(app_client).get(f"/invitation/{revoked}")
    assert page.status_code == 410
    assert "Cette invitation a été annulée." in page.text

    unknown = _anonymous(app_client).get("/invitation/pas-un-vrai-jeton")
    assert unknown.status_code == 404
    assert "Ce lien d’invitation n’est pas valide" in unknown.text


def test_invitation_form_errors(app_client: TestClient, session: Session, settings: Settings,
                                region84: dict[str, Structure],
                                outbox: list[email.Email]) -> None:
    ars = make_user(session, "ars", region="84")
    make_user(session, "committee", email="comite@exemple.fr", region="84")
    referent = _login(app_client, session, settings, ars)
    other_region = referent.post("/invitations", {"email": "x@exemple.fr",
                                                  "structures": "750000069"})
    assert other_region.status_code == 422
    assert ("Aucune structure ni organisme de numéro FINESS 750000069 dans votre région."
            in other_region.text)
    bad = referent.post("/invitations", {"email": "pas-une-adresse", "structures": ""})
    assert bad.status_code == 422
    assert "Indiquez une adresse électronique valide" in bad.text
    assert "Indiquez au moins un numéro FINESS." in bad.text
    not_director = referent.post("/invitations", {"email": "comite@exemple.fr",
                                                  "structures": "690000039"})
    assert not_director.status_code == 422
    assert "n’est pas un compte de direction" in not_director.text
    assert outbox == []
    assert session.exec(select(Invitation)).all() == []


def test_invitation_by_ej_number_keeps_to_the_region(app_client: TestClient,
                                                     session: Session, settings: Settings,
                                                     region84: dict[str, Structure],
                                                     outbox: list[email.Email]) -> None:
    make_structure(session, finess="690000146", finess_ej="690000047", department="69",
                   closed=True)
    ars = make_user(session, "ars", region="84")
    _invite(session, settings, app_client, ars, "og@exemple.fr", "69 000 004 7")
    linked = set(session.exec(select(InvitationStructure.structure_id)).all())
    # the open structures of the EJ in region 84: not Paris, not the closed one
    assert linked == {region84["a"].id, region84["b"].id, region84["c"].id}


def test_existing_director_accepts_when_logged_in(app_client: TestClient, session: Session,
                                                  settings: Settings,
                                                  region84: dict[str, Structure],
                                                  outbox: list[email.Email]) -> None:
    director = make_user(session, "director", [region84["a"]], email="dir@exemple.fr")
    admin = make_user(session, "admin")
    token = _invite(session, settings, app_client, admin, "dir@exemple.fr",
                    "690000054 750000069")
    anonymous = _anonymous(app_client).get(f"/invitation/{token}")
    assert "Un compte existe déjà avec cette adresse" in anonymous.text
    assert f'href="/connexion?suivant=/invitation/{token}"' in anonymous.text
    refused = _anonymous(app_client).post(f"/invitation/{token}", {
        "name": "X", "password": PASSWORD, "password_confirm": PASSWORD})
    assert refused.status_code == 410
    assert "Un compte existe déjà pour cette adresse" in refused.text

    someone = make_user(session, "director", email="autre@exemple.fr")
    other = _login(app_client, session, settings, someone)
    assert "Vous êtes connecté avec un autre compte." in other.get(f"/invitation/{token}").text
    forbidden = other.post(f"/invitation/{token}")
    assert forbidden.status_code == 403
    assert "adressée à une autre adresse électronique" in forbidden.text

    me = _login(app_client, session, settings, director)
    page = me.get(f"/invitation/{token}")
    assert "Accepter l’invitation" in page.text
    accepted = me.post(f"/invitation/{token}")
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/mes-structures?info=invitation"
    links = set(session.exec(select(DirectorStructure.structure_id).where(
        DirectorStructure.user_id == director.id)).all())
    assert links == {region84["a"].id, region84["b"].id, region84["paris"].id}
    assert me.post(f"/invitation/{token}").status_code == 410


@pytest.mark.parametrize("role,region", [("director", None), ("committee", "84")])
def test_only_ars_and_admins_invite(app_client: TestClient, session: Session,
                                    settings: Settings, region84: dict[str, Structure],
                                    role: str, region: str | None) -> None:
    user = _login(app_client, session, settings, make_user(session, role, region=region))
    assert user.get("/invitations").status_code == 403
    assert user.post("/invitations", {"email": "x@exemple.fr",
                                      "structures": "690000039"}).status_code == 403


def test_ars_sees_only_invitations_of_their_region(app_client: TestClient, session: Session,
                                                   settings: Settings,
                                                   region84: dict[str, Structure],
                                                   outbox: list[email.Email]) -> None:
    admin = make_user(session, "admin")
    _invite(session, settings, app_client, admin, "paris@exemple.fr", "750000069")
    _invite(session, settings, app_client, admin, "lyon@exemple.fr", "690000039")
    ars = make_user(session, "ars", region="84")
    text = referent_list(app_client, session, settings, ars)
    assert "lyon@exemple.fr" in text and "paris@exemple.fr" not in text
    paris = session.exec(select(Invitation).where(Invitation.email == "paris@exemple.fr")).one()
    referent = _login(app_client, session, settings, ars)
    assert referent.post(f"/invitations/{paris.id}/annuler").status_code == 404
    session.refresh(paris)
    assert paris.revoked_at is None


# --- the organisme gestionnaire page --------------------------------------------------------


def test_organisme_page_by_role(app_client: TestClient, session: Session,
                                settings: Settings, region84: dict[str, Structure]) -> None:
    a, b, c, paris = region84["a"], region84["b"], region84["c"], region84["paris"]
    make_assessment(session, a, "submitted", tier_level=1, tier_id="palier-1",
                    global_score=31.0, submitted_at=datetime(2025, 3, 1, tzinfo=UTC))
    make_assessment(session, a, "submitted", tier_level=3, tier_id="palier-3",
                    global_score=72.4, submitted_at=datetime(2026, 2, 1, tzinfo=UTC))
    make_assessment(session, b, "draft")
    make_structure(session, finess="690000161", finess_ej="690000047", name="EHPAD fermé",
                   department="69", closed=True)

    director = _login(app_client, session, settings,
                      make_user(session, "director", [a, b]))
    page = director.get("/organismes/69 000 004 7")
    assert page.status_code == 200
    rows = re.findall(r'<th scope="row"><a href="/structures/(\d+)">', page.text)
    assert rows == ["690000039", "690000054"]  # by name; not the others of the EJ
    assert "Palier 3 — DUI relié aux services socles et utilisé" in page.text
    assert "Palier 1" not in page.text  # only the latest submission counts
    assert "<td>72<span" in page.text
    assert "Évaluation en cours" in page.text
    assert "IME Les Saules" not in page.text and "EHPAD de Paris" not in page.text
    assert "/invitations?finess=" not in page.text

    ars = _login(app_client, session, settings, make_user(session, "ars", region="84"))
    page = ars.get("/organismes/690000047")
    rows = re.findall(r'<th scope="row"><a href="/structures/(\d+)">', page.text)
    assert rows == ["690000039", "010000016", "690000054", "690000161"]
    assert "Structures fermées" in page.text
    assert "EHPAD de Paris" not in page.text
    assert 'href="/invitations?finess=690000047"' in page.text

    admin = _login(app_client, session, settings, make_user(session, "admin"))
    assert "EHPAD de Paris" in admin.get("/organismes/690000047").text

    ars_other = _login(app_client, session, settings, make_user(session, "ars", region="02"))
    assert ars_other.get("/organismes/690000047").status_code == 404
    stranger = _login(app_client, session, settings, make_user(session, "director", [paris]))
    assert "EHPAD de Paris" in stranger.get("/organismes/690000047").text
    nobody = _login(app_client, session, settings, make_user(session, "director"))
    assert nobody.get("/organismes/690000047").status_code == 404
    assert admin.get("/organismes/999999999").status_code == 404
    assert c.id is not None


def test_parse_numbers() -> None:
    from app.accounts.invitations import parse_numbers

    assert parse_numbers("69 000 003 9\n690000054, 2a0000105;\n\n") == [
        "690000039", "690000054", "2A0000105"]
    assert parse_numbers("690000039 690000054") == ["690000039", "690000054"]
    assert parse_numbers("69000003 12") == ["69000003", "12"]  # refused later, as typed
