"""ARS campaigns (issue 10): open one, directors see the deadline, the late structures,
bulk reminders (preview, one audit event per structure, never twice the same day),
participation on the region dashboard; another region's ARS sees nothing.
Expected values written by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import email as email_module
from app.accounts.models import User
from app.audit import AuditEvent
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign, CampaignReminder
from app.config import Settings
from app.dashboard import service as dashboards
from app.formatting import date_fr
from app.permissions import Role
from app.structures.models import Structure
from tests.auth_helpers import csrf_headers, log_in
from tests.factories import make_assessment, make_structure, make_user

TODAY = campaigns.today()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"email_backend": "memory"})


@pytest.fixture(autouse=True)
def outbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[email_module.Email]]:
    monkeypatch.setattr(campaigns, "THROTTLE_SECONDS", 0)
    email_module.outbox.clear()
    yield email_module.outbox
    email_module.outbox.clear()


class World:
    def __init__(self, session: Session) -> None:
        mk = make_structure
        # Region 84: three EHPAD (500), one SSIAD (354, not targeted); region 11: one EHPAD.
        self.done = mk(session, name="EHPAD Les Acacias", department="69")
        self.draft = mk(session, name="EHPAD Les Bleuets", department="69")
        self.idle = mk(session, name="EHPAD Les Capucines", department="01")
        self.orphan = mk(session, name="EHPAD Les Dahlias", department="38")
        self.ssiad = mk(session, name="SSIAD du Rhône", department="69", category_code="354")
        self.paris = mk(session, name="EHPAD Parisien", department="75")
        # Submitted now: always after the campaign's start (today in Paris), even just after
        # midnight Paris time, when "an hour ago" was the day before.
        make_assessment(session, self.done, "submitted", submitted_at=datetime.now(UTC))
        make_assessment(session, self.draft)
        self.d_done = make_user(session, Role.director, [self.done], email="d1@acacias.fr")
        self.d_draft = make_user(session, Role.director, [self.draft], email="d2@bleuets.fr")
        self.d_idle = make_user(session, Role.director, [self.idle], email="d3@capucines.fr")
        self.d_idle2 = make_user(session, Role.director, [self.idle], email="d4@capucines.fr")
        self.d_ssiad = make_user(session, Role.director, [self.ssiad], email="d5@ssiad.fr")
        self.ars = make_user(session, Role.ars, region="84", email="ars@ara.fr")
        self.ars11 = make_user(session, Role.ars, region="11", email="ars@idf.fr")
        dashboards.refresh_structures(session)
        session.commit()


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


def _open(client: TestClient, token: str) -> int:
    r = client.post("/regions/84/campagnes", headers=csrf_headers(token), data={
        "nom": "Autodiagnostic 2027 des EHPAD", "debut": TODAY.isoformat(),
        "echeance": (TODAY + timedelta(days=30)).isoformat(), "categories": ["500"]},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].split("/")[2].split("?")[0])


def test_open_a_campaign_and_follow_it(app_client: TestClient, session: Session,
                                       settings: Settings, world: World) -> None:
    token = log_in(app_client, session, settings, world.ars)
    form = app_client.get("/regions/84/campagnes")
    assert form.status_code == 200
    assert 'name="categories" value="500"' in form.text
    assert "(4 structures)" in form.text  # the EHPAD of region 84 (Paris's is not counted)
    cid = _open(app_client, token)
    c = session.get(Campaign, cid)
    assert c is not None and (c.region, c.categories) == ("84", ["500"])
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "campaign_created")).one()
    assert (event.user_id, event.object_id, event.details["categories"]) == \
        (world.ars.id, str(cid), ["500"])

    page = app_client.get(f"/campagnes/{cid}")
    assert page.status_code == 200
    # 4 EHPAD in region 84 (not the SSIAD, not Paris): 1 submitted, 1 draft, 2 idle.
    assert "4 structures visées · 1 transmise (25,0 %) · 1 en cours · 2 pas commencées." \
        in page.text
    late = page.text.split("Structures qui n’ont pas transmis", 1)[1]
    assert "EHPAD Les Bleuets" in late and "EHPAD Les Capucines" in late
    assert "EHPAD Les Dahlias" in late and "Aucun compte" in late
    assert "EHPAD Les Acacias" not in late and "SSIAD" not in late and "Parisien" not in late

    # The dashboard shows the participation.
    dash = app_client.get("/regions/84")
    assert "Participation par campagne" in dash.text
    assert f'<a href="/campagnes/{cid}">Autodiagnostic 2027 des EHPAD</a>' in dash.text
    assert "<td>25,0 %</td>" in dash.text


def test_directors_of_targeted_structures_see_the_deadline(
        app_client: TestClient, session: Session, settings: Settings, world: World) -> None:
    token = log_in(app_client, session, settings, world.ars)
    _open(app_client, token)
    deadline = TODAY + timedelta(days=30)
    text = f"autodiagnostic à transmettre au plus tard le <strong>{date_fr(deadline)}</strong>"
    log_in(app_client, session, settings, world.d_idle)
    assert text in app_client.get(f"/structures/{world.idle.finess}").text
    assert text in app_client.get("/mes-structures").text
    log_in(app_client, session, settings, world.d_ssiad)  # SSIAD: not targeted
    assert "Campagne de l’ARS" not in app_client.get(f"/structures/{world.ssiad.finess}").text


def test_reminders_preview_send_audit_and_never_twice_a_day(
        app_client: TestClient, session: Session, settings: Settings, world: World,
        outbox: list[email_module.Email]) -> None:
    token = log_in(app_client, session, settings, world.ars)
    cid = _open(app_client, token)
    pv = app_client.get(f"/campagnes/{cid}/relances")
    assert pv.status_code == 200
    assert "<strong>2 structures</strong> recevront ce courriel" in pv.text
    assert "Sans compte de direction" in pv.text and "EHPAD Les Dahlias" in pv.text
    assert "Objet : Palier : rappel – autodiagnostic attendu avant le" in pv.text
    assert outbox == []  # a preview sends nothing

    r = app_client.post(f"/campagnes/{cid}/relances", headers=csrf_headers(token),
                        follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/campagnes/{cid}?relances=2"
    assert sorted(m.to for m in outbox) == ["d2@bleuets.fr", "d3@capucines.fr",
                                            "d4@capucines.fr"]
    mail = next(m for m in outbox if m.to == "d3@capucines.fr")
    assert "« Autodiagnostic 2027 des EHPAD »" in mail.body
    assert "« EHPAD Les Capucines »" in mail.body
    assert f"http://127.0.0.1:8000/structures/{world.idle.finess}" in mail.body
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "campaign_reminder")
                          .order_by(col(AuditEvent.id))).all()
    assert sorted((e.details["finess"], tuple(e.details["to"])) for e in events) == sorted([
        (world.draft.finess, ("d2@bleuets.fr",)),
        (world.idle.finess, ("d3@capucines.fr", "d4@capucines.fr"))])

    # Again the same day: nobody (not even through another campaign).
    outbox.clear()
    r = app_client.post(f"/campagnes/{cid}/relances", headers=csrf_headers(token),
                        follow_redirects=False)
    assert r.headers["location"] == f"/campagnes/{cid}?relances=0"
    cid2 = _open(app_client, token)
    app_client.post(f"/campagnes/{cid2}/relances", headers=csrf_headers(token))
    assert outbox == []
    assert len(session.exec(select(CampaignReminder)).all()) == 2
    page = app_client.get(f"/campagnes/{cid}?relances=0")
    assert "toutes les structures à relancer l’ont déjà été aujourd’hui" in page.text


def test_invalid_campaign_in_plain_french(app_client: TestClient, session: Session,
                                          settings: Settings, world: World) -> None:
    token = log_in(app_client, session, settings, world.ars)
    r = app_client.post("/regions/84/campagnes", headers=csrf_headers(token), data={
        "nom": " ", "debut": "2027-02-01", "echeance": "2027-01-01", "categories": ["999x"]})
    assert r.status_code == 422
    for message in ("Donnez un nom à la campagne", "La date limite doit suivre la date de "
                    "début.", "Cochez au moins une catégorie d’établissement visée."):
        assert message in r.text
    r = app_client.post("/regions/84/campagnes", headers=csrf_headers(token), data={
        "nom": "X", "debut": "demain", "echeance": "", "categories": ["500"]})
    assert r.status_code == 422
    assert "Indiquez la date de début au format JJ/MM/AAAA." in r.text
    assert session.exec(select(Campaign)).all() == []


def test_scope(app_client: TestClient, session: Session, settings: Settings,
               world: World, outbox: list[email_module.Email]) -> None:
    token = log_in(app_client, session, settings, world.ars)
    cid = _open(app_client, token)
    others: list[tuple[User, int]] = [
        (world.ars11, 404), (world.d_idle, 403),
        (make_user(session, Role.committee, region="84"), 403)]
    for user, status in others:
        t = log_in(app_client, session, settings, user)
        for url in (f"/campagnes/{cid}", f"/campagnes/{cid}/relances", "/regions/84/campagnes"):
            assert app_client.get(url, follow_redirects=False).status_code == status, url
        r = app_client.post(f"/campagnes/{cid}/relances", headers=csrf_headers(t),
                            follow_redirects=False)
        assert r.status_code == status
    assert outbox == []
    # The ARS of region 11 sees only their region's campaigns, not 84's.
    log_in(app_client, session, settings, world.ars11)
    page = app_client.get("/regions/11/campagnes")
    assert page.status_code == 200 and f"/campagnes/{cid}" not in page.text
    assert "Aucune campagne pour l’instant." in page.text
    assert session.get(Structure, world.paris.id) is not None
