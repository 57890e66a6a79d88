"""Submitting with confidence: the recap of every answer by section (links to each field),
the palier the submission will give with a warning when lower than the last submission, the
required declaration, and the numbered acknowledgement on screen, in the audit trail and by
e-mail (issue 10). Expected texts written by hand from
questionnaires/esms-maturite-numerique-2026.2.yaml."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import email as email_module
from app.assessments.models import Assessment
from app.assessments.receipt import receipt_number
from app.audit import AuditEvent
from app.formatting import PARIS
from app.permissions import Role
from app.structures.models import Structure
from tests.answers import PETIT_EHPAD, best
from tests.auth_helpers import api_token, bearer
from tests.director_client import Director, start
from tests.factories import fill, make_structure, make_user

DECLARATION = ("Je certifie que les réponses transmises sont exactes et complètes à ma "
               "connaissance.")
DECLARED = {"declaration": "oui"}
PDF_LINK = "http://127.0.0.1:8000/evaluations/{aid}/declaration.pdf"


pytestmark = pytest.mark.usefixtures("outbox")  # e-mails kept in memory, cleared


def draft_with(director: Director, session: Session, ehpad: Structure,
               answers: dict[str, object]) -> int:
    aid = start(director, ehpad)
    fill(session, aid, answers)
    return aid


def status_and_version(session: Session, aid: int) -> tuple[str, int]:
    a = session.get(Assessment, aid)
    assert a is not None
    session.refresh(a)
    return a.status, a.version


def submit_events(session: Session, aid: int) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == "submit",
                                                      AuditEvent.object_id == str(aid))).all())


def test_receipt_number_is_the_paris_year_and_the_id() -> None:
    a = Assessment(id=123, structure_id=1, questionnaire_id="q", questionnaire_version="1",
                   submitted_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    assert receipt_number(a) == "PAL-2026-000123"
    # 23:30 UTC on 31 December is already 1 January in Paris.
    a.submitted_at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert receipt_number(a) == "PAL-2027-000123"
    a.id, a.submitted_at = 1234567, datetime(2027, 3, 2, 8, 0)  # naive: UTC
    assert receipt_number(a) == "PAL-2027-1234567"


def test_recap_lists_every_answer_by_section_with_links(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = draft_with(director, session, ehpad, PETIT_EHPAD)
    page = director.get(f"/evaluations/{aid}/transmettre")
    assert page.status_code == 200
    text = page.text
    assert "Récapitulatif de vos réponses" in text
    recap = text[text.index('id="recapitulatif"'):text.index('id="declaration-fieldset"')]
    # The eight sections, numbered, in order.
    titles = re.findall(r'<h3 class="fr-h6 fr-mb-1w" id="recap-[^"]+">([^<]+)</h3>', recap)
    assert titles == ["1. Profil de la structure", "2. Équipements et infrastructures",
                      "3. Dossier usager informatisé", "4. Identité et services socles",
                      "5. Coordination et parcours", "6. Gouvernance et pilotage du SI",
                      "7. Sécurité et protection des données", "8. Compétences et usages"]
    # 61 questions apply to this EHPAD: 60 answered, the free comment left empty.
    links = re.findall(rf'<a href="/evaluations/{aid}/sections/', recap)
    assert len(links) == 61
    assert recap.count("Sans réponse") == 1
    # Answers as the director saw them (labels, French numbers, text), linked to the field.
    assert (f'<a href="/evaluations/{aid}/sections/s-profil#q_capacite">Capacité de la '
            'structure (places autorisées ou personnes accompagnées)</a><br>'
            '<span class="fr-text--bold">30</span>') in recap
    assert (f'<a href="/evaluations/{aid}/sections/s-equipement#q_acces_internet-1">Quelle '
            'connexion internet dessert la structure ?</a><br>'
            '<span class="fr-text--bold">Fibre ou très haut débit</span>') in recap
    assert (f'<a href="/evaluations/{aid}/sections/s-dui#q_dui_fonctions-1">Quelles fonctions '
            'du DUI sont utilisées au quotidien ?</a><br><span class="fr-text--bold">Gestion '
            'administrative (identité, droits, facturation) ; Admission (demandes, liste '
            'd&#39;attente, entrée) ; Production du projet ou plan personnalisé ; Soins (plan '
            'de soins, transmissions, suivi de santé)</span>') in recap
    assert (f'<a href="/evaluations/{aid}/sections/s-competences#q_commentaires">Remarques ou '
            'précisions sur vos réponses</a><br>'
            '<span class="fr-text-mention--grey">Sans réponse</span>') in recap
    # The palier it will give, from the engine; the declaration to tick.
    assert "Palier 2 — Dossier usager informatisé déployé, données protégées (provisoire)" in text
    assert f'<label class="fr-label" for="declaration">{DECLARATION}</label>' in text
    assert "Palier inférieur" not in text  # nothing submitted before


def test_lower_palier_warning_only_when_lower_than_the_last_submission(
        director: Director, session: Session, ehpad: Structure) -> None:
    first = draft_with(director, session, ehpad, best("ehpad"))
    assert director.post(f"/evaluations/{first}/transmettre", DECLARED).status_code == 303
    submitted = session.get(Assessment, first)
    assert submitted is not None and submitted.submitted_at is not None

    lower = draft_with(director, session, ehpad, PETIT_EHPAD)
    page = director.get(f"/evaluations/{lower}/transmettre")
    assert '<div class="fr-alert fr-alert--warning fr-mt-2w fr-mb-3w" id="palier-inferieur">' \
        in page.text
    assert "Palier inférieur à celui de votre dernière transmission" in page.text
    when = submitted.submitted_at.replace(tzinfo=UTC).astimezone(PARIS)
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]
    day = (f"{when.day}{'er' if when.day == 1 else ''} {months[when.month - 1]} {when.year} "
           f"à {when.hour} h {when.minute:02d}")
    assert (f"L’autodiagnostic transmis le {day} donnait « Palier 4 — Pilotage, coordination "
            "et sécurité » ; avec vos réponses actuelles, la structure obtiendra « Palier 2 — "
            "Dossier usager informatisé déployé, données protégées ».") in page.text

    # The same palier again: no warning.
    fill(session, lower, best("ehpad"))
    page = director.get(f"/evaluations/{lower}/transmettre")
    assert "Palier 4 — Pilotage, coordination et sécurité (provisoire)" in page.text
    assert "palier-inferieur" not in page.text
    assert "Palier inférieur" not in page.text


def test_submit_without_the_declaration_is_refused_and_changes_nothing(
        director: Director, session: Session, ehpad: Structure,
        outbox: list[email_module.Email]) -> None:
    aid = draft_with(director, session, ehpad, PETIT_EHPAD)
    before = status_and_version(session, aid)
    for data in ({}, {"declaration": "non"}, {"declaration": ""}):
        response = director.post(f"/evaluations/{aid}/transmettre", data)
        assert response.status_code == 422
        text = response.text
        assert "<title>Erreur : Vérifier et transmettre" in text
        assert ('<div class="fr-alert fr-alert--error fr-mb-3w" role="alert" tabindex="-1" '
                'id="error-summary" autofocus data-autofocus>') in text
        assert "Transmission impossible : déclaration non cochée" in text
        assert ('<a href="#declaration">Cochez la déclaration pour transmettre : vous '
                'certifiez ainsi que les réponses sont exactes et complètes à votre '
                'connaissance.</a>') in text
        assert ('<input type="checkbox" id="declaration" name="declaration" value="oui" '
                'aria-invalid="true" aria-describedby="declaration-messages">') in text
        assert text.count("data-autofocus") == 1
        assert "Récapitulatif de vos réponses" in text  # the recap is still there
    assert status_and_version(session, aid) == before == ("draft", 1)
    assert outbox == []
    assert submit_events(session, aid) == []


def test_without_declaration_and_incomplete_both_are_said(
        director: Director, session: Session, ehpad: Structure) -> None:
    partial = {k: v for k, v in PETIT_EHPAD.items() if k != "capacite"}
    aid = draft_with(director, session, ehpad, partial)
    response = director.post(f"/evaluations/{aid}/transmettre")
    assert response.status_code == 422
    assert "Transmission impossible : déclaration non cochée" in response.text
    assert "Transmission impossible : 1 question obligatoire sans réponse" in response.text
    assert response.text.count("data-autofocus") == 1
    declared = director.post(f"/evaluations/{aid}/transmettre", DECLARED)
    assert declared.status_code == 422
    assert "déclaration non cochée" not in declared.text
    assert ('<input type="checkbox" id="declaration" name="declaration" value="oui" checked>'
            in declared.text)  # ticked stays ticked
    assert status_and_version(session, aid)[0] == "draft"


def test_submit_with_the_declaration_gives_a_numbered_receipt_on_screen_and_by_email(
        director: Director, session: Session, ehpad: Structure,
        outbox: list[email_module.Email]) -> None:
    aid = draft_with(director, session, ehpad, PETIT_EHPAD)
    response = director.post(f"/evaluations/{aid}/transmettre", DECLARED)
    assert response.status_code == 303
    assert response.headers["location"] == f"/evaluations/{aid}/resultat?transmis=1"
    a = session.get(Assessment, aid)
    assert a is not None
    session.refresh(a)
    assert a.status == "submitted" and a.submitted_at is not None
    year = a.submitted_at.replace(tzinfo=UTC).astimezone(PARIS).year
    number = f"PAL-{year}-{aid:06d}"

    page = director.get(f"/evaluations/{aid}/resultat?transmis=1")
    assert f"Autodiagnostic transmis : accusé de réception n° {number}" in page.text
    assert f"accusé de réception n° {number}." in page.text  # the permanent line
    assert "l’accusé de réception vous est aussi envoyé par courriel" in page.text
    later = director.get(f"/evaluations/{aid}/resultat")
    assert "Autodiagnostic transmis :" not in later.text
    assert f"accusé de réception n° {number}." in later.text
    printed = director.get(f"/evaluations/{aid}/impression")
    assert f"Évaluation n° {aid}, accusé de réception n° {number}" in printed.text

    assert len(outbox) == 1
    mail = outbox[0]
    assert mail.to == "claire.martin@tilleuls.example.fr"
    assert mail.subject == f"Palier : accusé de réception {number}"
    assert "L’autodiagnostic de « EHPAD Les Tilleuls »" in mail.body
    assert f"Numéro d’accusé de réception : {number}\n" in mail.body
    assert ("Palier atteint : Palier 2 — Dossier usager informatisé déployé, données "
            "protégées\n") in mail.body
    assert f"Déclaration (PDF) : {PDF_LINK.format(aid=aid)}\n" in mail.body

    [event] = submit_events(session, aid)
    assert event.user_id == director.user.id
    assert event.details["receipt"] == number
    assert event.details["declaration"] is True
    assert event.details["receipt_to"] == "claire.martin@tilleuls.example.fr"
    assert event.details["tier"] == "palier-2"

    # Submitted: a second post is a conflict, nothing is sent again.
    assert director.post(f"/evaluations/{aid}/transmettre", DECLARED).status_code == 409
    assert len(outbox) == 1


def test_api_submit_keeps_working_without_body_and_records_the_declaration(
        app_client: TestClient, session: Session, outbox: list[email_module.Email]) -> None:
    one, two = make_structure(session, name="EHPAD Un"), make_structure(session, name="EHPAD Deux")
    make_user(session, Role.director, [one, two], email="dir.api@test.fr")
    h = bearer(api_token(app_client, "dir.api@test.fr"))
    ids = []
    for s in (one, two):
        created = app_client.post(f"/api/v1/structures/{s.finess}/assessments", headers=h)
        assert created.status_code == 201
        ids.append(created.json()["id"])
        fill(session, ids[-1], PETIT_EHPAD)
    first, second = ids
    done = app_client.post(f"/api/v1/assessments/{first}/submit", headers=h)  # no body
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["tier"]) == ("submitted", "palier-2")
    assert re.fullmatch(rf"PAL-20\d\d-{first:06d}", body["receipt"])
    [event] = submit_events(session, first)
    assert event.details["declaration"] is False
    assert [(m.to, m.subject) for m in outbox] == [
        ("dir.api@test.fr", f"Palier : accusé de réception {body['receipt']}")]

    # Not a boolean: refused (strict), nothing submitted.
    wrong = app_client.post(f"/api/v1/assessments/{second}/submit", headers=h,
                            json={"declaration": "oui"})
    assert wrong.status_code == 422
    assert status_and_version(session, second)[0] == "draft"
    declared = app_client.post(f"/api/v1/assessments/{second}/submit", headers=h,
                               json={"declaration": True})
    assert declared.status_code == 200
    [event] = submit_events(session, second)
    assert event.details["declaration"] is True
    assert len(outbox) == 2


def test_openapi_documents_the_optional_declaration(app_client: TestClient) -> None:
    schema = app_client.get("/openapi.json").json()
    op = schema["paths"]["/api/v1/assessments/{assessment_id}/submit"]["post"]
    assert op["requestBody"].get("required", False) is False
    props = schema["components"]["schemas"]["SubmitRequest"]["properties"]
    assert props["declaration"]["type"] == "boolean"
    assert props["declaration"]["default"] is False
    assert "receipt" in schema["components"]["schemas"]["SubmitOut"]["properties"]
