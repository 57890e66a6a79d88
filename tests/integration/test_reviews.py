"""ARS review of submitted self-assessments: pages, API, notifications, permissions.

Expected texts and statuses are written by hand; the assessment under review is the real
questionnaire answered with PETIT_EHPAD (palier 2, see tests/unit/test_real_questionnaire.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import email as email_module
from app.accounts.models import User
from app.assessments.models import Assessment
from app.audit import AuditEvent
from app.config import Settings
from app.permissions import Role
from app.reviews.models import AssessmentReview
from app.reviews.service import latest_review_subquery, review_status
from app.structures.models import Structure
from tests.answers import PETIT_EHPAD
from tests.auth_helpers import api_token, bearer, csrf_headers, log_in
from tests.factories import make_assessment, make_structure, make_user

COMMENT = ("Les sauvegardes sont déclarées régulières : joignez le compte rendu du dernier "
           "test de restauration.")


class Browser:
    """One TestClient, logged in as one user at a time."""

    def __init__(self, client: TestClient, session: Session, settings: Settings) -> None:
        self.client, self.session, self.settings = client, session, settings
        self.token = ""

    def as_(self, user: User) -> Browser:
        self.token = log_in(self.client, self.session, self.settings, user)
        return self

    def get(self, url: str, htmx: bool = False) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(url, headers=headers, follow_redirects=False)

    def post(self, url: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.post(url, data=data or {}, headers=csrf_headers(self.token),
                                follow_redirects=False)


pytestmark = pytest.mark.usefixtures("outbox")  # e-mails kept in memory, cleared


@pytest.fixture
def ehpad(session: Session) -> Structure:
    return make_structure(session, name="EHPAD Les Tilleuls", department="69")


@pytest.fixture
def director(session: Session, ehpad: Structure) -> User:
    return make_user(session, Role.director, [ehpad], name="Claire Martin",
                     email="claire.martin@tilleuls.example.fr")


@pytest.fixture
def ars(session: Session) -> User:
    return make_user(session, Role.ars, region="84", name="Karim Benali",
                     email="karim.benali@ars.example.fr")


@pytest.fixture
def browser(app_client: TestClient, session: Session, settings: Settings) -> Browser:
    return Browser(app_client, session, settings)


def submit_as(b: Browser, director: User, structure: Structure,
              answers: dict[str, Any] = PETIT_EHPAD) -> int:
    """The director starts, fills (stored directly) and submits an assessment."""
    b.as_(director)
    response = b.post(f"/structures/{structure.finess}/evaluation")
    assert response.status_code == 303, response.text
    match = re.match(r"/evaluations/(\d+)/", response.headers["location"])
    assert match
    aid = int(match.group(1))
    a = b.session.get(Assessment, aid)
    assert a is not None
    a.answers = dict(answers)
    a.version = 1
    b.session.add(a)
    b.session.commit()
    assert b.post(f"/evaluations/{aid}/transmettre", {"declaration": "oui"}).status_code == 303
    email_module.outbox.clear()  # the acknowledgement (tests/integration/test_submit_receipt.py)
    return aid


@pytest.fixture
def submitted(browser: Browser, director: User, ehpad: Structure) -> int:
    return submit_as(browser, director, ehpad)


def reviews_of(session: Session, aid: int) -> list[tuple[str, str]]:
    rows = session.exec(select(AssessmentReview).where(AssessmentReview.assessment_id == aid)
                        .order_by(col(AssessmentReview.id))).all()
    return [(r.status, r.comment) for r in rows]


# ---- pages ----------------------------------------------------------------------------------


def test_ars_of_the_region_validates_then_asks_for_review_with_history(
        browser: Browser, session: Session, submitted: int, ars: User, director: User,
        outbox: list[email_module.Email]) -> None:
    aid = submitted
    b = browser.as_(ars)
    page = b.get(f"/evaluations/{aid}/revue")
    assert page.status_code == 200
    assert "Cette évaluation n’a pas encore été revue par l’ARS." in page.text
    assert 'name="status" value="validee"' in page.text
    assert 'name="status" value="a_revoir"' in page.text
    # Decisive answers of palier 2, labelled, with no evidence yet.
    assert "<th scope=\"row\">Quelle connexion internet dessert la structure ?</th>" in page.text
    assert "<td>Fibre ou très haut débit</td>" in page.text
    assert "Aucune preuve" in page.text

    response = b.post(f"/evaluations/{aid}/revue", {"status": "validee", "comment": "",
                                                    "retour": "revue"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/evaluations/{aid}/revue?enregistree=1#revue"
    assert review_status(session, [aid]) == {aid: "validee"}
    assert outbox == []  # "validée" e-mails nobody

    response = b.post(f"/evaluations/{aid}/revue", {"status": "a_revoir", "comment": COMMENT})
    assert response.status_code == 303
    assert review_status(session, [aid]) == {aid: "a_revoir"}
    assert reviews_of(session, aid) == [("validee", ""), ("a_revoir", COMMENT)]

    page = b.get(f"/evaluations/{aid}/revue?enregistree=1")
    assert "Revue enregistrée : le ou les directeurs de la structure ont été prévenus" in page.text
    assert "Marquée « à revoir »" in page.text and "par Karim Benali" in page.text
    assert "Historique des revues" in page.text
    history = page.text.split("Historique des revues", 1)[1]
    assert history.index("À revoir") < history.index("Validée")  # newest first
    assert "Nouvelle revue (obligatoire)" in page.text

    events = session.exec(select(AuditEvent).where(AuditEvent.action == "review")
                          .order_by(col(AuditEvent.id))).all()
    assert [(e.user_id, e.object_type, e.object_id, e.details["status"], e.details["comment"])
            for e in events] == [(ars.id, "assessment", str(aid), "validee", ""),
                                 (ars.id, "assessment", str(aid), "a_revoir", COMMENT)]

    assert [m.to for m in outbox] == ["claire.martin@tilleuls.example.fr"]
    mail = outbox[0]
    assert mail.subject == "Palier : votre autodiagnostic est à revoir"
    assert "« EHPAD Les Tilleuls »" in mail.body
    assert COMMENT in mail.body
    assert f"http://127.0.0.1:8000/evaluations/{aid}/resultat" in mail.body


def test_comment_is_required_to_ask_for_a_review(browser: Browser, session: Session,
                                                 submitted: int, ars: User,
                                                 outbox: list[email_module.Email]) -> None:
    b = browser.as_(ars)
    response = b.post(f"/evaluations/{submitted}/revue", {"status": "a_revoir",
                                                          "comment": "   \r\n "})
    assert response.status_code == 422
    assert ("Indiquez ce qui doit être revu : le commentaire est obligatoire pour une "
            "évaluation « à revoir ».") in response.text
    assert "<title>Erreur : Revue de l’autodiagnostic" in response.text
    assert 'value="a_revoir" checked' in response.text  # the choice is kept
    assert reviews_of(session, submitted) == []
    assert outbox == []

    response = b.post(f"/evaluations/{submitted}/revue", {"status": "peut-etre"})
    assert response.status_code == 422
    assert "Choisissez « Validée » ou « À revoir »." in response.text
    response = b.post(f"/evaluations/{submitted}/revue", {"status": "validee",
                                                          "comment": "x" * 4001})
    assert response.status_code == 422
    assert "Le commentaire ne doit pas dépasser 4000 caractères (il en compte 4001)." \
        in response.text
    assert reviews_of(session, submitted) == []


def test_only_the_ars_of_the_region_and_admins_may_review(
        browser: Browser, session: Session, submitted: int, director: User,
        ehpad: Structure) -> None:
    aid = submitted
    data = {"status": "validee", "comment": ""}
    committee = make_user(session, Role.committee, region="84")
    other_ars = make_user(session, Role.ars, region="11")
    admin = make_user(session, Role.admin)

    assert browser.as_(director).post(f"/evaluations/{aid}/revue", data).status_code == 403
    page = browser.get(f"/evaluations/{aid}/revue")
    assert page.status_code == 200  # the director sees the panel, without the form
    assert 'name="status"' not in page.text
    assert browser.as_(committee).post(f"/evaluations/{aid}/revue", data).status_code == 403
    assert browser.get(f"/evaluations/{aid}/revue").status_code == 200
    assert browser.as_(other_ars).post(f"/evaluations/{aid}/revue", data).status_code == 404
    assert browser.get(f"/evaluations/{aid}/revue").status_code == 404
    assert browser.get(f"/evaluations/{aid}/revue", htmx=True).status_code == 404
    assert reviews_of(session, aid) == []
    denied = session.exec(select(AuditEvent).where(AuditEvent.action == "review")).all()
    assert denied == []

    assert browser.as_(admin).post(f"/evaluations/{aid}/revue", data).status_code == 303
    assert reviews_of(session, aid) == [("validee", "")]
    assert browser.post("/evaluations/999999/revue", data).status_code == 404


def test_a_draft_cannot_be_reviewed(browser: Browser, session: Session, ehpad: Structure,
                                    director: User, ars: User) -> None:
    browser.as_(director)
    assert browser.post(f"/structures/{ehpad.finess}/evaluation").status_code == 303
    draft = session.exec(select(Assessment).where(Assessment.structure_id == ehpad.id)).one()
    # The ARS may not even read a draft (the director's working space): 403.
    b = browser.as_(ars)
    response = b.post(f"/evaluations/{draft.id}/revue", {"status": "validee"})
    assert response.status_code == 403
    assert "ses réponses restent celles du directeur" in response.text
    assert b.get(f"/evaluations/{draft.id}/revue").status_code == 403
    assert b.get(f"/evaluations/{draft.id}/resultat").status_code == 403
    assert reviews_of(session, draft.id or 0) == []
    # The director's provisional result page has no review panel.
    result = browser.as_(director).get(f"/evaluations/{draft.id}/resultat")
    assert result.status_code == 200
    assert "/revue" not in result.text


def test_result_page_loads_the_panel_and_the_form_comes_back_to_it(
        browser: Browser, session: Session, submitted: int, ars: User) -> None:
    aid = submitted
    b = browser.as_(ars)
    result = b.get(f"/evaluations/{aid}/resultat")
    assert result.status_code == 200
    assert (f'<div id="revue" hx-get="/evaluations/{aid}/revue" hx-trigger="load" '
            'hx-swap="outerHTML">') in result.text
    assert f'href="/evaluations/{aid}/revue">Voir la revue de l’ARS' in result.text

    fragment = b.get(f"/evaluations/{aid}/revue", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section class="fr-mb-6w palier-review" id="revue"')
    assert '<input type="hidden" name="retour" value="resultat">' in fragment.text

    response = b.post(f"/evaluations/{aid}/revue", {"status": "a_revoir", "comment": COMMENT,
                                                    "retour": "resultat"})
    assert response.status_code == 303
    assert response.headers["location"] == \
        f"/evaluations/{aid}/resultat?revue=enregistree#revue"
    result = b.get(f"/evaluations/{aid}/resultat?revue=enregistree")
    assert f'hx-get="/evaluations/{aid}/revue?enregistree=1"' in result.text
    fragment = b.get(f"/evaluations/{aid}/revue?enregistree=1", htmx=True)
    assert "Revue enregistrée" in fragment.text
    assert COMMENT in fragment.text


def test_director_sees_a_revoir_with_the_comment_then_starts_a_new_assessment(
        browser: Browser, session: Session, submitted: int, ars: User, director: User,
        ehpad: Structure) -> None:
    aid = submitted
    browser.as_(ars).post(f"/evaluations/{aid}/revue", {"status": "a_revoir",
                                                         "comment": COMMENT})
    b = browser.as_(director)
    home = b.get("/mes-structures")
    assert home.status_code == 200
    assert "<strong>À revoir</strong> : l’ARS a relu l’évaluation transmise le" in home.text
    assert COMMENT in home.text
    assert "Commencez une nouvelle évaluation : elle reprend vos réponses" in home.text
    page = b.get(f"/structures/{ehpad.finess}")
    assert "<strong>À revoir</strong>" in page.text and COMMENT in page.text
    panel = b.get(f"/evaluations/{aid}/revue", htmx=True)
    assert "Vous pouvez commencer une nouvelle évaluation depuis" in panel.text

    response = b.post(f"/structures/{ehpad.finess}/evaluation")
    assert response.status_code == 303
    assert "reprise=" in response.headers["location"]  # prefilled from the reviewed one
    home = b.get("/mes-structures")
    assert "Une nouvelle évaluation est en cours : corrigez-la puis transmettez-la." in home.text

    # Once a new assessment is submitted, the notice about the old one goes away.
    draft = session.exec(select(Assessment).where(Assessment.structure_id == ehpad.id,
                                                  Assessment.status == "draft")).one()
    assert b.post(f"/evaluations/{draft.id}/transmettre", {"declaration": "oui"}).status_code == 303
    home = b.get("/mes-structures")
    assert "À revoir" not in home.text


def test_validated_shows_as_a_badge_on_the_structure_page(
        browser: Browser, submitted: int, ars: User, ehpad: Structure) -> None:
    b = browser.as_(ars)
    b.post(f"/evaluations/{submitted}/revue", {"status": "validee", "comment": "RAS."})
    page = b.get(f"/structures/{ehpad.finess}")
    assert '<p class="fr-badge fr-badge--success fr-badge--sm fr-mb-1v">Validée par l’ARS le' \
        in page.text
    panel = b.get(f"/evaluations/{submitted}/revue")
    assert "Validée le" in panel.text and "Commentaire : RAS." in panel.text


# ---- API ------------------------------------------------------------------------------------


def test_api_review(app_client: TestClient, session: Session, browser: Browser,
                    submitted: int, ars: User, director: User, ehpad: Structure,
                    outbox: list[email_module.Email]) -> None:
    aid = submitted
    app_client.cookies.clear()
    committee = make_user(session, Role.committee, region="84")
    other_ars = make_user(session, Role.ars, region="11")
    draft = make_assessment(session, make_structure(session, department="69"))
    url = f"/api/v1/assessments/{aid}/review"
    tokens = {u.email: api_token(app_client, u.email)
              for u in (ars, director, committee, other_ars)}

    def post(user: User, body: Any, target: str = url) -> Any:
        return app_client.post(target, json=body, headers=bearer(tokens[user.email]))

    assert app_client.post(url, json={"status": "validee"}).status_code == 401
    assert post(director, {"status": "validee"}).status_code == 403
    assert post(committee, {"status": "validee"}).status_code == 403
    assert post(other_ars, {"status": "validee"}).status_code == 404
    assert post(ars, {"status": "validee"}, "/api/v1/assessments/999999/review").status_code \
        == 404
    # a draft is its director's working space: not the ARS's to read, nor to review
    response = post(ars, {"status": "validee"}, f"/api/v1/assessments/{draft.id}/review")
    assert response.status_code == 403
    assert response.json() == {"detail": "Cette évaluation est en cours : ses réponses "
                                         "restent celles du directeur jusqu’à sa "
                                         "transmission."}
    assert post(ars, {"status": "bof"}).status_code == 422
    response = post(ars, {"status": "a_revoir", "comment": " "})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Indiquez ce qui doit être revu")
    assert reviews_of(session, aid) == []

    response = post(ars, {"status": "validee"})
    assert response.status_code == 200
    body = response.json()
    assert (body["assessment_id"], body["status"], body["comment"], body["reviewer_id"]) == \
        (aid, "validee", "", ars.id)
    response = post(ars, {"status": "a_revoir", "comment": COMMENT})
    assert response.status_code == 200
    assert response.json()["status"] == "a_revoir"
    assert [m.to for m in outbox] == ["claire.martin@tilleuls.example.fr"]

    history = app_client.get(f"/api/v1/assessments/{aid}/reviews",
                             headers=bearer(tokens[director.email]))
    assert history.status_code == 200
    assert [(r["status"], r["comment"]) for r in history.json()] == \
        [("a_revoir", COMMENT), ("validee", "")]
    assert app_client.get(f"/api/v1/assessments/{aid}/reviews",
                          headers=bearer(tokens[other_ars.email])).status_code == 404


# ---- review_status for the other pages ------------------------------------------------------


def test_review_status_is_the_latest_review_of_each_assessment(session: Session,
                                                               ars: User) -> None:
    s = make_structure(session)
    a1, a2, a3 = (make_assessment(session, s, "submitted") for _ in range(3))
    for aid, status in ((a1.id, "a_revoir"), (a1.id, "validee"), (a2.id, "a_revoir")):
        session.add(AssessmentReview(assessment_id=aid, status=status, comment="c",
                                     reviewer_id=ars.id))
        session.commit()
    assert review_status(session, [a1.id or 0, a2.id or 0, a3.id or 0]) == \
        {a1.id: "validee", a2.id: "a_revoir"}
    assert review_status(session, []) == {}

    sq = latest_review_subquery()
    rows = session.exec(select(Assessment.id, sq.c.status)
                        .outerjoin(sq, sq.c.assessment_id == Assessment.id)
                        .where(col(Assessment.structure_id) == s.id)
                        .order_by(col(Assessment.id))).all()
    assert [tuple(r) for r in rows] == [(a1.id, "validee"), (a2.id, "a_revoir"), (a3.id, None)]
