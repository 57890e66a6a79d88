"""The lean path of the section page (app/routes/section_page.py, issue 14) gives the bytes the
route `assessments.section_page` gives, for drafts and submissions in every state a director,
an ARS referent or an admin may open; it hands every other request to the route (login,
404, session activity, carry-over, prefill notice).

Each page is fetched twice in a row, once by the lean path (checked to have served it) and
once with the lean path declining (the route renders it): the two bodies must be equal byte
for byte, and the headers too (but the request id).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import AuthSession, User
from app.assessments.models import Assessment
from app.config import Settings
from app.db import utcnow
from app.permissions import Role
from app.routes import section_page
from app.structures.models import Structure
from tests.answers import PETIT_EHPAD, best
from tests.factories import fill, make_assessment, make_structure, make_user
from tests.integration.test_carry_over import OLD_ANSWERS
from tests.integration.test_evidence import Browser
from tests.lean_spy import declining, gave

pytestmark = pytest.mark.usefixtures("outbox")

SECTIONS = ["s-profil", "s-equipement", "s-dui", "s-services-socles", "s-coordination",
            "s-gouvernance", "s-securite", "s-competences"]
# A name that HTML escaping changes: the structure's name is a hole of the cached page.
NAME = "EHPAD « Les Tilleuls » & <Cie> \"d'Ain\""

Compare = Callable[..., Any]


@pytest.fixture
def ehpad(session: Session) -> Structure:
    return make_structure(session, name=NAME, department="69")


@pytest.fixture
def director(session: Session, ehpad: Structure) -> User:
    return make_user(session, Role.director, [ehpad], name="Claire <Martin> & fils")


@pytest.fixture
def b(app_client: TestClient, session: Session, settings: Settings) -> Browser:
    return Browser(app_client, session, settings)


@pytest.fixture
def compare(monkeypatch: pytest.MonkeyPatch) -> Compare:
    """compare(browser, url, lean=True): GET url by the lean path (which must serve it, or
    decline when lean=False), then by the route; both the same. Returns the first response."""

    def run(b: Browser, url: str, lean: bool = True) -> Any:
        with gave(monkeypatch, section_page, "_page") as served:
            first = b.get(url)
        with declining(monkeypatch, section_page, "_page"):
            second = b.get(url)
        assert served == [lean], url
        assert first.status_code == second.status_code, url
        if first.text != second.text:
            diff = difflib.unified_diff(second.text.splitlines(), first.text.splitlines(),
                                        "route", "lean", lineterm="", n=2)
            pytest.fail(f"{url}: the lean page differs\n" + "\n".join(list(diff)[:60]))
        assert _headers(first) == _headers(second), url
        return first

    return run


def _headers(response: Any) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")


def _start(b: Browser, structure: Structure) -> int:
    response = b.post(f"/structures/{structure.finess}/evaluation")
    assert response.status_code == 303, response.text
    match = re.match(r"/evaluations/(\d+)/", response.headers["location"])
    assert match
    return int(match.group(1))


def test_a_draft_in_every_state(b: Browser, compare: Compare, session: Session,
                                director: User, ehpad: Structure) -> None:
    b.as_(director)
    aid = _start(b, ehpad)
    for section in SECTIONS:  # fresh
        page = compare(b, f"/evaluations/{aid}/sections/{section}")
        assert page.template.name == "pages/director/section.html"
    assert "EHPAD « Les Tilleuls » &amp; &lt;Cie&gt; &#34;d&#39;Ain&#34;" in page.text
    assert "Claire &lt;Martin&gt; &amp; fils" in page.text

    fill(session, aid, best("ehpad"))  # answered
    for section in SECTIONS:
        compare(b, f"/evaluations/{aid}/sections/{section}")
    compare(b, f"/evaluations/{aid}/sections/s-dui?enregistre=s-equipement&nouvelles=1")
    compare(b, f"/evaluations/{aid}/sections/s-profil?reprise=brouillon")
    compare(b, f"/evaluations/{aid}/sections/s-profil?enregistre=inconnue&autre=1")

    # hidden questions, and stored answers the questionnaire refuses (a value out of bounds,
    # an option that does not exist, a list where a choice is expected)
    fill(session, aid, {**PETIT_EHPAD, "medicalisation": "non", "capacite": -4,
                        "wifi": "inexistant", "ror": ["oui"]})
    for section in SECTIONS:
        compare(b, f"/evaluations/{aid}/sections/{section}")

    # evidence: a note and a file, highlighted after an upload
    assert b.upload(aid, "sauvegardes", note="Sauvegarde <testée>\nle 3 mars").status_code == 303
    assert b.upload(aid, "sauvegardes", "rapport.pdf", b"%PDF-1.4 test",
                    mime="application/pdf").status_code == 303
    page = compare(b, f"/evaluations/{aid}/sections/s-securite?preuve=sauvegardes")
    assert "Sauvegarde &lt;testée&gt;<br>le 3 mars" in page.text
    assert "Preuve ajoutée à la question" in page.text
    compare(b, f"/evaluations/{aid}/sections/s-securite")


def test_submitted_sections_for_the_director_the_ars_and_an_admin(
        b: Browser, compare: Compare, session: Session, director: User,
        ehpad: Structure) -> None:
    b.as_(director)
    aid = _start(b, ehpad)
    fill(session, aid, best("ehpad"))
    assert b.post(f"/evaluations/{aid}/transmettre", {"declaration": "oui"}).status_code == 303
    ars = make_user(session, Role.ars, region="84", name="Karim Benali")
    admin = make_user(session, Role.admin, name="")  # shown by its e-mail address
    for user in (director, ars, admin):
        b.as_(user)
        for section in SECTIONS:
            page = compare(b, f"/evaluations/{aid}/sections/{section}")
            assert page.context["editable"] is False
    assert "lecture seule" in page.text


def test_an_admin_reads_a_draft_and_the_ars_is_refused(
        b: Browser, compare: Compare, session: Session, director: User,
        ehpad: Structure) -> None:
    b.as_(director)
    aid = _start(b, ehpad)
    fill(session, aid, PETIT_EHPAD)
    b.as_(make_user(session, Role.admin))
    compare(b, f"/evaluations/{aid}/sections/s-equipement")
    b.as_(make_user(session, Role.ars, region="84"))
    page = compare(b, f"/evaluations/{aid}/sections/s-equipement", lean=False)
    assert page.status_code == 403


def test_the_correction_draft_shows_the_review(b: Browser, compare: Compare,
                                               session: Session, director: User,
                                               ehpad: Structure) -> None:
    b.as_(director)
    first = _start(b, ehpad)
    fill(session, first, best("ehpad"))
    assert b.post(f"/evaluations/{first}/transmettre",
                  {"declaration": "oui"}).status_code == 303
    b.as_(make_user(session, Role.ars, region="84"))
    assert b.post(f"/evaluations/{first}/revue", {
        "status": "a_revoir", "comment": "Le wifi ne couvre pas\nles chambres.",
        "questions": ["acces_internet", "wifi"]}).status_code == 303
    b.as_(director)
    response = b.post(f"/structures/{ehpad.finess}/evaluation")
    location = response.headers["location"]
    assert location.endswith(f"?reprise={first}")
    compare(b, location, lean=False)  # the prefill notice: the route's
    draft = int(location.split("/")[2])
    for section in SECTIONS:
        page = compare(b, f"/evaluations/{draft}/sections/{section}")
    page = compare(b, f"/evaluations/{draft}/sections/s-equipement")
    assert "L’ARS a demandé de revoir l’évaluation transmise le" in page.text
    assert page.text.count("palier-review-flag") == 2


def test_a_carried_over_draft_shows_its_notice(b: Browser, compare: Compare,
                                               session: Session, ehpad: Structure) -> None:
    user = make_user(session, Role.director, [ehpad])
    draft = make_assessment(session, ehpad, questionnaire_version="2026.1",
                            answers=OLD_ANSWERS, by=user)
    b.as_(user)
    url = f"/evaluations/{draft.id}/sections/s-profil"
    compare(b, url, lean=False)  # the route carries it over to 2026.2
    session.expire_all()
    a = session.get(Assessment, draft.id)
    assert a is not None and a.questionnaire_version == "2026.2"
    for section in SECTIONS:
        page = compare(b, f"/evaluations/{draft.id}/sections/{section}")
    assert "Questionnaire mis à jour" in page.text


def test_other_requests_go_to_the_route(b: Browser, compare: Compare, session: Session,
                                        director: User, ehpad: Structure,
                                        settings: Settings) -> None:
    b.as_(director)
    aid = _start(b, ehpad)
    url = f"/evaluations/{aid}/sections/s-profil"
    assert compare(b, f"/evaluations/0{aid}/sections/s-profil", lean=False).status_code == 200
    assert compare(b, f"/evaluations/{aid}/sections/s-inconnue", lean=False).status_code == 404
    assert compare(b, f"/evaluations/{aid + 1000}/sections/s-profil",
                   lean=False).status_code == 404

    # another structure's director: 404
    other = make_structure(session, name="Autre", department="75")
    b.as_(make_user(session, Role.director, [other]))
    assert compare(b, url, lean=False).status_code == 404

    # the session's activity is due to be recorded: the route records it, then the lean path
    b.as_(director)
    row = session.exec(select(AuthSession).where(AuthSession.user_id == director.id)
                       .order_by(AuthSession.created_at.desc())).first()  # type: ignore[attr-defined]
    assert row is not None
    row.last_seen_at = utcnow() - timedelta(minutes=2)
    session.add(row)
    session.commit()
    compare(b, url, lean=False)
    session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
    compare(b, url)

    # an idle session: to the login page, its cookie dropped
    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    session.add(row)
    session.commit()
    response = b.get(url)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion")
    assert 'palier_session=""' in response.headers["set-cookie"]
    # no session cookie at all: the lean path is not even tried
    b.client.cookies.clear()
    response = b.get(url)
    assert response.status_code == 303
