"""The "à revoir" review follows the director into the correction draft, and the message
thread between the structure's directors and the ARS of its region (issue 10).

Expected texts, recipients and statuses are written by hand.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app import email as email_module
from app.accounts.models import User
from app.audit import AuditEvent
from app.permissions import Role
from app.reviews.models import AssessmentMessage, AssessmentReview
from app.structures.models import Structure
from tests.auth_helpers import csrf_headers
from tests.factories import make_structure, make_user
from tests.integration import test_reviews as rv
from tests.integration.test_reviews import COMMENT, Browser

# The review tests' world: EHPAD Les Tilleuls (69), Claire Martin its director, Karim Benali
# the ARS of region 84, a submitted assessment.
ehpad, director, ars, browser, submitted = rv.ehpad, rv.director, rv.ars, rv.browser, rv.submitted
pytestmark = pytest.mark.usefixtures("outbox")  # e-mails kept in memory, cleared

SECTION = "s-equipement"


def _ask_review(b: Browser, ars: User, aid: int) -> None:
    response = b.as_(ars).post(f"/evaluations/{aid}/revue", {
        "status": "a_revoir", "comment": COMMENT,
        "questions": ["acces_internet", "wifi", "question-inventee"]})
    assert response.status_code == 303, response.text


def test_the_review_follows_the_director_into_the_correction_draft(
        browser: Browser, session: Session, submitted: int, ars: User, director: User,
        ehpad: Structure) -> None:
    _ask_review(browser, ars, submitted)
    review = session.exec(select(AssessmentReview)).one()
    assert review.questions == ["acces_internet", "wifi"]  # unknown ids dropped

    b = browser.as_(director)
    page = b.get(f"/structures/{ehpad.finess}")
    assert COMMENT in page.text
    assert f'href="/evaluations/{submitted}/messages">Répondre à l’ARS</a>' in page.text

    response = b.post(f"/structures/{ehpad.finess}/evaluation")
    match = re.match(r"/evaluations/(\d+)/", response.headers["location"])
    assert match
    draft = int(match.group(1))
    page = b.get(f"/evaluations/{draft}/sections/{SECTION}")
    assert page.status_code == 200
    top = page.text.split('id="section-form"', 1)[0]
    assert "L’ARS a demandé de revoir l’évaluation transmise le" in top
    assert COMMENT in top
    assert "2 réponses concernées" in top
    assert f'href="/evaluations/{submitted}/messages">Répondre à l’ARS</a>' in top
    assert 'id="revoir-acces_internet"' in page.text
    assert 'id="revoir-wifi"' in page.text
    assert page.text.count("palier-review-flag") == 2


def test_director_and_ars_exchange_messages_by_mail_and_in_the_audit_trail(
        browser: Browser, session: Session, submitted: int, ars: User, director: User,
        outbox: list[email_module.Email]) -> None:
    other_ars = make_user(session, Role.ars, region="11", email="ars.idf@example.fr")
    _ask_review(browser, ars, submitted)
    outbox.clear()
    b = browser.as_(director)
    assert b.get(f"/evaluations/{submitted}/messages").text.count("Aucun message") == 1
    response = b.post(f"/evaluations/{submitted}/messages",
                      {"message": "Le compte rendu est joint à la nouvelle évaluation."})
    assert response.status_code == 303
    assert response.headers["location"] == f"/evaluations/{submitted}/messages?envoye=1#fil"
    assert [m.to for m in outbox] == ["karim.benali@ars.example.fr"]
    assert outbox[0].subject == "Palier : nouveau message sur « EHPAD Les Tilleuls »"
    assert "Claire Martin (la direction de la structure)" in outbox[0].body
    assert "Le compte rendu est joint à la nouvelle évaluation." in outbox[0].body
    assert f"http://127.0.0.1:8000/evaluations/{submitted}/messages" in outbox[0].body

    outbox.clear()
    b.as_(ars)
    page = b.get(f"/evaluations/{submitted}/messages")
    assert "Le compte rendu est joint à la nouvelle évaluation." in page.text
    assert "<strong>Claire Martin</strong> (structure)" in page.text
    assert b.post(f"/evaluations/{submitted}/messages",
                  {"message": "Merci, c’est noté."}).status_code == 303
    assert [m.to for m in outbox] == ["claire.martin@tilleuls.example.fr"]
    assert "Karim Benali (votre référent ARS)" in outbox[0].body

    rows = session.exec(select(AssessmentMessage).order_by(col(AssessmentMessage.id))).all()
    assert [(m.author_id, m.author_role, m.body) for m in rows] == [
        (director.id, "director", "Le compte rendu est joint à la nouvelle évaluation."),
        (ars.id, "ars", "Merci, c’est noté.")]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "message")
                          .order_by(col(AuditEvent.id))).all()
    assert [(e.user_id, e.object_type, e.object_id, e.details["to"]) for e in events] == [
        (director.id, "assessment", str(submitted), ["karim.benali@ars.example.fr"]),
        (ars.id, "assessment", str(submitted), ["claire.martin@tilleuls.example.fr"])]
    assert other_ars.email not in str([e.details for e in events])


def test_empty_or_too_long_message_is_refused_in_french(
        browser: Browser, session: Session, submitted: int, director: User,
        outbox: list[email_module.Email]) -> None:
    b = browser.as_(director)
    response = b.post(f"/evaluations/{submitted}/messages", {"message": "  \r\n "})
    assert response.status_code == 422
    assert "Écrivez votre message avant de l’envoyer." in response.text
    response = b.post(f"/evaluations/{submitted}/messages", {"message": "x" * 4001})
    assert response.status_code == 422
    assert "Le message ne doit pas dépasser 4000 caractères (il en compte 4001)." \
        in response.text
    assert session.exec(select(AssessmentMessage)).all() == []
    assert outbox == []


def test_only_the_structure_directors_and_the_region_ars_see_the_thread(
        browser: Browser, session: Session, submitted: int, director: User,
        ehpad: Structure) -> None:
    url = f"/evaluations/{submitted}/messages"
    b = browser.as_(director)
    assert b.post(url, {"message": "Secret de la structure."}).status_code == 303
    other_director = make_user(session, Role.director,
                               [make_structure(session, name="EHPAD Voisin", department="69")])
    strangers = [make_user(session, Role.ars, region="11"), other_director]
    for user in strangers:  # out of scope: absent
        b.as_(user)
        assert b.get(url).status_code == 404
        assert b.post(url, {"message": "Intrusion"}).status_code == 404
    for user in (make_user(session, Role.committee, region="84"), make_user(session, Role.admin)):
        b.as_(user)  # in scope, not a participant
        assert b.get(url).status_code == 403
        assert b.post(url, {"message": "Intrusion"}).status_code == 403
    rows = session.exec(select(AssessmentMessage.body)).all()
    assert rows == ["Secret de la structure."]


def test_a_draft_has_no_thread(browser: Browser, submitted: int, director: User,
                               ehpad: Structure) -> None:
    b = browser.as_(director)
    response = b.post(f"/structures/{ehpad.finess}/evaluation")
    match = re.match(r"/evaluations/(\d+)/", response.headers["location"])
    assert match
    page = b.get(f"/evaluations/{match.group(1)}/messages")
    assert page.status_code == 409
    assert "La messagerie avec l’ARS concerne une évaluation transmise" in page.text


def _badges(html: str, qid: str) -> int:
    return html.count(f'id="revoir-{qid}"')


def _wrapper(html: str, qid: str) -> str:
    """The text of the question's wrapper `#question-<qid>` up to the next question (the
    part an autosave response replaces)."""
    return html.split(f'id="question-{qid}"', 1)[1].split('id="question-', 1)[0]


def test_the_review_flag_stays_single_after_autosaves(
        browser: Browser, session: Session, submitted: int, ars: User, director: User,
        ehpad: Structure) -> None:
    """The "à revoir" badge sits inside the question's wrapper, which autosave responses
    replace whole (hx-partial, outerHTML): the page keeps exactly one badge per flagged
    question however many times it is refreshed, also when the value is refused."""
    _ask_review(browser, ars, submitted)
    b = browser.as_(director)
    response = b.post(f"/structures/{ehpad.finess}/evaluation")
    match = re.match(r"/evaluations/(\d+)/", response.headers["location"])
    assert match
    draft = int(match.group(1))
    page = b.get(f"/evaluations/{draft}/sections/{SECTION}").text
    assert _badges(page, "acces_internet") == 1
    assert 'id="revoir-acces_internet"' in _wrapper(page, "acces_internet")
    assert _badges(page, "part_professionnels_equipes") == 0
    version_match = re.search(r'id="assessment-version" name="version" value="(\d+)"', page)
    assert version_match
    v0 = int(version_match.group(1))

    def autosave(qid: str, value: str, version: int, seen: int) -> Any:
        return b.client.post(f"/evaluations/{draft}/reponses",
                             data={"question": qid, "version": version, "seen": seen,
                                   f"q_{qid}": value},
                             headers=csrf_headers(b.token, htmx=True),
                             follow_redirects=False)

    first = autosave("acces_internet", "fibre_thd", v0, v0)
    assert first.status_code == 200, first.text
    v1 = int(first.headers["X-Palier-Version"])
    # The second save comes from a page that has not seen the first one: the server sends
    # back every other question of the section, acces_internet with its badge among them.
    for value in ("partiel", "complet"):
        response = autosave("wifi", value, v1, v0)
        assert response.status_code == 200, response.text
        v1 = int(response.headers["X-Palier-Version"])
        partial = response.text.split('<hx-partial hx-target="#question-acces_internet"', 1)[1]
        partial = partial.split("</hx-partial>", 1)[0]
        assert _badges(response.text, "acces_internet") == 1
        assert _badges(partial, "acces_internet") == 1
        assert _badges(response.text, "part_professionnels_equipes") == 0

    refused = autosave("part_professionnels_equipes", "cent", v1, v1)
    assert refused.status_code == 422
    assert _badges(refused.text, "part_professionnels_equipes") == 0
    refused = autosave("acces_internet", "inventee", v1, v1)
    assert refused.status_code == 422
    assert _badges(refused.text, "acces_internet") == 1

    kept = b.client.get(f"/evaluations/{draft}/questions/acces_internet",
                        headers={"HX-Request": "true"})
    assert kept.status_code == 200
    assert _badges(kept.text, "acces_internet") == 1
    page = b.get(f"/evaluations/{draft}/sections/{SECTION}").text
    assert _badges(page, "acces_internet") == 1 and _badges(page, "wifi") == 1
    assert page.count("palier-review-flag") == 2
