"""The what-if simulator (issue 10): posted answers are scored with the engine and compared
with the saved ones; nothing is ever saved. Expected texts written by hand from
questionnaires/esms-maturite-numerique-2026.2.yaml and docs/examples/reponses-petit-ehpad-2026.2
(palier 2; seven unmet requirements of palier 3: ins-qualifiee, identitovigilance-formalisee,
mssante-utilisee, dmp-alimente...; Ségur vague 2 needs dui_production partiel/tous and
segur_vague2 engagee/installee, the small EHPAD answers « ne_sait_pas »)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.assessments.models import AssessmentStatus
from app.audit import AuditEvent
from app.config import Settings
from app.permissions import Role
from app.structures.models import Structure
from scoring import load_questionnaire, score
from tests.answers import PETIT_EHPAD
from tests.director_client import Director, as_user, form_values, start
from tests.factories import answers_of, fill, make_assessment, make_user, version_of

QUESTIONNAIRE = (Path(__file__).resolve().parents[2] / "questionnaires"
                 / "esms-maturite-numerique-2026.2.yaml")
# as escaped in HTML
P1 = "Palier 1 — Socle d&#39;équipement, d&#39;organisation et d&#39;obligations"
P2 = "Palier 2 — Dossier usager informatisé déployé, données protégées"


@pytest.fixture
def draft(director: Director, session: Session, ehpad: Structure) -> int:
    aid = start(director, ehpad)
    fill(session, aid, PETIT_EHPAD)
    return aid


def simulate(d: Director, aid: int, htmx: bool = True, **changes: Any) -> Any:
    return d.post(f"/evaluations/{aid}/simulation",
                  form_values({**PETIT_EHPAD, **changes}), htmx=htmx)


def audit_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


def test_page_starts_from_the_saved_answers(director: Director, draft: int) -> None:
    page = director.get(f"/evaluations/{draft}/simulation")
    assert page.status_code == 200
    assert "<h1>Simuler un changement de réponse</h1>" in page.text
    assert f"Palier inchangé ({P2})." in page.text
    assert "7 points vous séparent du palier 3." in page.text
    assert "Aucune réponse modifiée" in page.text
    # the saved answer is checked in the form: identitovigilance « partiel »
    assert 'value="partiel" checked' in page.text or 'value="partiel"  checked' in page.text


def test_a_lower_answer_drops_the_palier_and_saves_nothing(
        director: Director, draft: int, session: Session) -> None:
    before_answers, before_version = answers_of(session, draft), version_of(session, draft)
    events = audit_count(session)
    response = simulate(director, draft, dui_production="non")
    assert response.status_code == 200
    assert "<html" not in response.text  # the result panel only
    assert f"En baisse : {P1} au lieu du {P2}." in response.text
    assert "1 réponse modifiée dans la simulation" in response.text
    assert answers_of(session, draft) == before_answers
    assert answers_of(session, draft)["dui_production"] == "tous"
    assert version_of(session, draft) == before_version
    assert audit_count(session) == events


def test_one_requirement_met_narrows_the_gap(director: Director, draft: int) -> None:
    text = simulate(director, draft, identitovigilance="formalise").text
    assert f"Palier inchangé ({P2})." in text
    assert "6 points vous séparent du palier 3." in text
    assert "Toutes les structures : identitovigilance formalisée" not in text


def test_funding_eligibility_moves(director: Director, draft: int) -> None:
    text = simulate(director, draft, segur_vague2="engagee").text
    assert ("<strong>Ségur numérique vague 2 — médico-social (SONS)</strong> : Éligible "
            "d’après les réponses") in text
    assert "(actuellement : Non éligible en l’état)" in text


def test_without_javascript_the_whole_page_comes_back(director: Director,
                                                      draft: int) -> None:
    response = simulate(director, draft, htmx=False, identitovigilance="formalise")
    assert response.status_code == 200
    assert '<form method="post" action="/evaluations/' in response.text
    assert 'value="formalise" checked' in response.text


def test_a_refused_number_keeps_the_saved_value(director: Director, draft: int,
                                                session: Session) -> None:
    response = simulate(director, draft, htmx=False, part_pros_dui_quotidien="beaucoup")
    assert response.status_code == 422
    assert "1 réponse non prise en compte (valeur enregistrée conservée)" in response.text
    assert f"Palier inchangé ({P2})." in response.text
    assert answers_of(session, draft)["part_pros_dui_quotidien"] == 70
    htmx = simulate(director, draft, part_pros_dui_quotidien="beaucoup")
    assert htmx.status_code == 200  # htmx swaps 2xx only


def test_the_ars_simulates_a_submission_in_neutral_words(
        app_client: TestClient, session: Session, settings: Settings,
        ehpad: Structure) -> None:
    q = load_questionnaire(QUESTIONNAIRE)
    sub = make_assessment(session, ehpad, AssessmentStatus.submitted, answers=PETIT_EHPAD,
                          result=score(q, PETIT_EHPAD).to_dict(), tier_id="palier-2",
                          tier_level=2)
    session.commit()
    ars = as_user(app_client, session, settings,
                  make_user(session, Role.ars, region="84", name="Référente ARS"))
    text = simulate(ars, sub.id or 0, identitovigilance="formalise").text
    assert "6 points séparent la structure du palier 3." in text
    assert answers_of(session, sub.id or 0) == PETIT_EHPAD
