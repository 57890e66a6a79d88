"""The director's flow through the app: home, structure, sections (form posts and autosave),
submit, result, print view, PDF, permissions. Expected texts are written by hand from the real
questionnaire (questionnaires/esms-maturite-numerique-2026.1.yaml)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.accounts.models import AuthSession
from app.assessments.models import Assessment, AssessmentStatus
from app.config import Settings
from app.db import utcnow
from app.files import StoredFile
from app.permissions import Role
from app.structures.models import Structure
from tests.answers import PETIT_EHPAD, best
from tests.auth_helpers import csrf_token, login
from tests.director_client import Director, as_user, form_values, start, submitted
from tests.factories import answers_of, fill, make_assessment, make_structure, make_user
from tests.unit.test_real_questionnaire import PETIT_EHPAD as PETIT_EHPAD_2026_1

HTMX = {"HX-Request": "true"}
SECTIONS = ["s-profil", "s-equipement", "s-dui", "s-services-socles", "s-coordination",
            "s-gouvernance", "s-securite", "s-competences"]


# ---- helpers ---------------------------------------------------------------------------------


# ---- home and structures --------------------------------------------------------------------


def test_root_sends_directors_to_their_structures(director: Director) -> None:
    response = director.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/mes-structures"


def test_home_lists_structures_and_starts_one_draft(director: Director, session: Session,
                                                    ehpad: Structure) -> None:
    page = director.get("/mes-structures")
    assert page.status_code == 200
    assert page.template.name == "pages/director/home.html"
    assert [c.structure.finess for c in page.context["cards"]] == [ehpad.finess]
    assert "EHPAD Les Tilleuls" in page.text
    assert "Commencer l’autodiagnostic" in page.text
    assert ehpad.finess[:2] + " " + ehpad.finess[2:5] in page.text  # formatted FINESS

    first = start(director, ehpad)
    second = start(director, ehpad)
    assert first == second
    drafts = session.exec(select(Assessment).where(
        Assessment.structure_id == ehpad.id, Assessment.status == "draft")).all()
    assert len(drafts) == 1

    page = director.get("/mes-structures")
    assert "Reprendre l’évaluation" in page.text
    assert "Évaluation en cours" in page.text


def test_resuming_a_saved_draft_goes_to_the_first_open_section(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    profile = {k: best("ehpad")[k] for k in ("categorie", "public_accueilli", "modalite",
                                             "medicalisation", "capacite", "effectif_etp",
                                             "gestionnaire_multi", "finess_propre",
                                             "regroupement")}
    fill(session, aid, profile)
    response = director.post(f"/structures/{ehpad.finess}/evaluation")
    assert response.headers["location"] == (
        f"/evaluations/{aid}/sections/s-equipement?reprise=brouillon")
    page = director.get(response.headers["location"])
    assert "Vous reprenez l’évaluation en cours" in page.text


def test_new_evaluation_is_prefilled_and_says_what_did_not_carry_over(
        director: Director, session: Session, ehpad: Structure) -> None:
    old = make_assessment(session, ehpad, "submitted",
                          answers={"medicalisation": "equipe_medicale", "capacite": 80,
                                   "question_supprimee": "oui"},
                          tier_level=0, global_score=10.0)
    response = director.post(f"/structures/{ehpad.finess}/evaluation")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.endswith(f"/sections/s-profil?reprise={old.id}")
    page = director.get(location)
    assert page.status_code == 200
    text = page.text
    assert "Évaluation préremplie" in text
    assert "reprend 2 réponses de l’évaluation transmise le" in text
    assert "« question_supprimee »" in text
    aid = int(location.split("/")[2])
    assert answers_of(session, aid) == {"medicalisation": "equipe_medicale", "capacite": 80}


def test_structure_page_shows_identity_draft_result_and_history(
        director: Director, session: Session, ehpad: Structure) -> None:
    def result(tier: int, label: str, score: float, dui: float) -> dict[str, Any]:
        return {"tier": {"id": f"palier-{tier}", "level": tier, "label": label},
                "global_score": score,
                "domains": [{"id": "equipement", "label": "Équipements et infrastructures",
                             "score": 50.0, "earned": 5, "max": 10},
                            {"id": "dui", "label": "Dossier usager informatisé",
                             "score": dui, "earned": 1, "max": 8}]}
    make_assessment(session, ehpad, "submitted", result=result(1, "Palier 1 — Socle", 40.0, 20.0),
                    submitted_at=datetime(2025, 3, 10, 9, 0, tzinfo=UTC))
    make_assessment(session, ehpad, "submitted",
                    result=result(2, "Palier 2 — DUI déployé", 52.5, 32.5),
                    submitted_at=datetime(2026, 2, 4, 9, 0, tzinfo=UTC))
    page = director.get(f"/structures/{ehpad.finess}")
    assert page.status_code == 200
    assert page.template.name == "pages/director/structure.html"
    text = page.text
    assert "EHPAD Les Tilleuls" in text
    assert "Palier 2 — DUI déployé" in text
    assert "4 février 2026" in text and "10 mars 2025" in text
    assert "52,5 <span class=\"palier-delta\">(+12,5)</span>" in text
    assert ("<li>Dossier usager informatisé : 32,5 <span class=\"palier-delta\">(+12,5)</span>"
            "</li>") in text
    assert ("<li>Équipements et infrastructures : 50,0 <span class=\"palier-delta\">(0,0)</span>"
            "</li>") in text
    assert "<caption id=\"history-caption\">Évaluations transmises de EHPAD Les Tilleuls" in text
    assert "Nouvelle évaluation" in text


# ---- the section pages ----------------------------------------------------------------------


def test_section_page_renders_its_questions_with_labels_and_hints_wired(
        director: Director, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    page = director.get(f"/evaluations/{aid}/sections/s-profil")
    assert page.status_code == 200
    assert page.template.name == "pages/director/section.html"
    ctx = page.context
    assert [s.question.id for s in ctx["slots"]] == [
        "categorie", "public_accueilli", "modalite", "medicalisation", "capacite",
        "effectif_etp", "gestionnaire_multi", "finess_propre", "regroupement"]
    assert (ctx["number"], ctx["total"]) == (1, 8)
    text = page.text
    # A select (8 options) with its label, hint and messages.
    assert '<label class="fr-label" for="q_public_accueilli">Quel est le public principal' in text
    assert ('<select class="fr-select" id="q_public_accueilli" name="q_public_accueilli" '
            'aria-describedby="q_public_accueilli-hint q_public_accueilli-messages"') in text
    assert 'id="q_public_accueilli-hint"' in text
    # Radios in a fieldset described by the hint.
    assert ('<fieldset class="fr-fieldset" id="q_medicalisation" aria-labelledby='
            '"q_medicalisation-legend q_medicalisation-messages" '
            'aria-describedby="q_medicalisation-hint">') in text
    # A number with its bounds.
    assert 'aria-describedby="q_capacite-hint q_capacite-messages"' in text
    assert "Nombre entre 1 et 10" in text
    # Side menu, progress, autosave wiring, no-JS form.
    assert 'class="fr-sidemenu' in text
    assert 'aria-current="page"' in text
    assert "Section 1 sur 8 · 0 % des questions répondues" in text
    assert f'action="/evaluations/{aid}/sections/s-profil"' in text
    assert f'hx-post="/evaluations/{aid}/reponses" hx-trigger="autosave"' in text
    assert '<input type="hidden" id="assessment-version" name="version" value="0">' in text
    assert 'src="/static/js/autosave.js"' in text
    assert "Enregistrer et continuer" in text


def test_show_if_medication_questions_follow_the_profile(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    fill(session, aid, {"public_accueilli": "personnes_agees", "modalite": "hebergement",
                        "medicalisation": "non"})
    page = director.get(f"/evaluations/{aid}/sections/s-dui")
    assert 'name="q_circuit_medicament"' not in page.text
    assert ('<div id="question-circuit_medicament" class="palier-question '
            'palier-question--hidden" hidden></div>') in page.text
    counts = {sp.id: sp.applicable for sp in page.context["progress"].sections}
    assert counts["s-dui"] == 1  # dui_production only

    response = director.autosave(aid, "medicalisation", "equipe_medicale", version=1)
    assert response.status_code == 200, response.text
    # The side menu counts come back: the medication question now applies in s-dui.
    assert ('<span id="section-count-s-dui" class="palier-section-count">'
            '<span aria-hidden="true">0/2</span>') in response.text
    page = director.get(f"/evaluations/{aid}/sections/s-dui")
    assert 'name="q_circuit_medicament"' in page.text
    assert "Le circuit du médicament (prescription, dispensation, administration)" in page.text


def test_show_if_in_the_same_section_comes_back_in_the_autosave_response(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    fill(session, aid, {"public_accueilli": "personnes_agees", "modalite": "hebergement",
                        "medicalisation": "non"})
    response = director.autosave(aid, "dui_production", "tous", version=1)
    assert response.status_code == 200
    text = response.text
    for qid in ("dui_logiciel", "dui_segur", "segur_vague2", "dui_fonctions",
                "part_pros_dui_quotidien", "part_dui_actifs"):
        assert f'<div id="question-{qid}" class="palier-question">' in text, qid
    assert 'name="q_dui_fonctions"' in text
    assert "question-dui_production" not in text  # the saved one is left as the user set it
    assert "question-circuit_medicament" not in text  # still hidden: untouched

    assert ". 6 nouvelles questions sont apparues dans cette section." in text

    response = director.autosave(aid, "dui_production", "non", version=2)
    assert response.status_code == 200
    assert ". 6 questions ne s’appliquent plus et ont été masquées." in response.text
    for qid in ("dui_logiciel", "dui_segur", "segur_vague2", "dui_fonctions",
                "part_pros_dui_quotidien", "part_dui_actifs"):
        assert (f'<div id="question-{qid}" class="palier-question palier-question--hidden" '
                "hidden></div>") in response.text, qid


def test_autosave_saves_one_question_and_returns_the_new_version(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    response = director.autosave(aid, "capacite", "85", version=0)
    assert response.status_code == 200
    assert response.headers["X-Palier-Outcome"] == "saved"
    assert response.headers["X-Palier-Version"] == "1"
    assert '<input type="hidden" id="assessment-version" name="version" value="1">' in response.text
    assert re.search(r'<span id="save-status-text" [^>]*>Enregistré à \d{1,2} h \d\d\.</span>',
                     response.text)
    assert "Section 1 sur 8 · " in response.text
    assert answers_of(session, aid) == {"capacite": 85}
    # Multiple choice: values in option order; none checked clears the answer.
    fill(session, aid, {"medicalisation": "equipe_medicale", "dui_production": "tous"})
    response = director.autosave(aid, "dui_fonctions", ["soins", "admission"], version=1)
    assert response.status_code == 200
    assert answers_of(session, aid)["dui_fonctions"] == ["admission", "soins"]
    response = director.autosave(aid, "dui_fonctions", None, version=2)
    assert response.status_code == 200
    assert "dui_fonctions" not in answers_of(session, aid)


def test_autosave_conflict_shows_both_values(
        app_client: TestClient, director: Director, session: Session, settings: Settings,
        ehpad: Structure) -> None:
    aid = start(director, ehpad)
    colleague = make_user(session, Role.director, [ehpad], name="Paul Durand")
    # The colleague saves "Oui" at version 1 (through the same client, as another session).
    other = as_user(app_client, session, settings, colleague)
    assert other.autosave(aid, "finess_propre", "oui", version=0).status_code == 200
    me = as_user(app_client, session, settings, director.user)
    response = me.autosave(aid, "finess_propre", "non", version=0)
    assert response.status_code == 409
    assert response.headers["X-Palier-Outcome"] == "conflict"
    assert response.headers["X-Palier-Version"] == "1"
    text = response.text
    assert 'id="autosave-conflict-finess_propre"' in text
    assert 'role="alert"' in text
    assert "Votre saisie : <strong>Non</strong> — Valeur enregistrée par Paul Durand le " in text
    assert " : <strong>Oui</strong>" in text
    assert 'data-autosave-action="keep"' in text
    assert 'data-autosave-action="reapply" data-question="finess_propre" data-version="1"' in text
    assert answers_of(session, aid)["finess_propre"] == "oui"
    # A different question from the same stale version merges.
    assert me.autosave(aid, "capacite", "12", version=0).status_code == 200
    # Re-applying with the version from the alert wins.
    assert me.autosave(aid, "finess_propre", "non", version=1).status_code == 200
    assert answers_of(session, aid)["finess_propre"] == "non"
    # "Keep theirs": the question with its saved value.
    fragment = me.get(f"/evaluations/{aid}/questions/finess_propre", headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.headers["X-Palier-Version"] == "3"
    assert 'value="non" checked' in fragment.text


def test_autosave_refreshes_questions_changed_by_someone_else(
        app_client: TestClient, director: Director, session: Session, settings: Settings,
        ehpad: Structure) -> None:
    aid = start(director, ehpad)
    colleague = make_user(session, Role.director, [ehpad])
    other = as_user(app_client, session, settings, colleague)
    assert other.autosave(aid, "capacite", "40", version=0).status_code == 200
    me = as_user(app_client, session, settings, director.user)
    response = me.autosave(aid, "effectif_etp", "30", version=0, seen=0)
    assert response.status_code == 200
    assert '<div id="question-capacite" class="palier-question">' in response.text
    assert 'value="40"' in response.text


def test_autosave_invalid_values_answer_422_at_the_question(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    response = director.autosave(aid, "capacite", "20000", version=0)
    assert response.status_code == 422
    assert response.headers["X-Palier-Outcome"] == "invalid"
    assert '<div id="question-capacite" class="palier-question">' in response.text
    assert "fr-input-group--error" in response.text
    assert "Le nombre doit être inférieur ou égal à 10\u202f000." in response.text
    assert 'aria-invalid="true"' in response.text
    response = director.autosave(aid, "capacite", "beaucoup", version=0)
    assert response.status_code == 422
    assert "Saisissez un nombre, par exemple 12 ou 12,5." in response.text
    response = director.autosave(aid, "circuit_medicament", "complet", version=0)
    assert response.status_code == 422
    assert "ne s’applique pas à votre structure" in response.text
    assert answers_of(session, aid) == {}


def test_autosave_after_the_session_expired_answers_401_to_htmx(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    for row in session.exec(select(AuthSession).where(AuthSession.user_id == director.user.id)):
        row.expires_at = utcnow() - timedelta(minutes=1)
        session.add(row)
    session.commit()
    response = director.autosave(aid, "capacite", "10", version=0)
    assert response.status_code == 401
    assert "session a expiré" in response.text
    assert answers_of(session, aid) == {}


def test_autosave_after_logging_out_is_refused(app_client: TestClient, director: Director,
                                               session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    assert director.post("/deconnexion", {"csrf_token": director.token}).status_code == 303
    # With the page's old token: refused (the script then reloads the page to get a fresh
    # token, lands on the login page and shows the session-expired alert).
    response = director.autosave(aid, "capacite", "10", version=0)
    assert response.status_code == 403
    assert director.get(f"/evaluations/{aid}/sections/s-profil").headers["location"] == (
        f"/connexion?suivant=/evaluations/{aid}/sections/s-profil")
    # With a valid (anonymous) token: 401 for htmx.
    anonymous = Director(app_client, csrf_token(app_client), director.user)
    response = anonymous.autosave(aid, "capacite", "10", version=0)
    assert response.status_code == 401
    assert "session a expiré" in response.text
    assert answers_of(session, aid) == {}


def test_real_login_then_form_post_path(app_client: TestClient, session: Session,
                                        ehpad: Structure) -> None:
    user = make_user(session, Role.director, [ehpad], email="dir@example.fr")
    assert login(app_client, user.email).status_code == 303
    page = app_client.get("/mes-structures")
    assert page.status_code == 200
    token = page.context["csrf_token"]
    response = app_client.post(f"/structures/{ehpad.finess}/evaluation",
                               data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    aid = int(response.headers["location"].split("/")[2])
    profile = {k: v for k, v in best("ehpad").items()
               if k in ("categorie", "public_accueilli", "modalite", "medicalisation",
                        "capacite", "effectif_etp", "gestionnaire_multi", "finess_propre",
                        "regroupement")}
    response = app_client.post(f"/evaluations/{aid}/sections/s-profil",
                               data={"csrf_token": token, "version": "0",
                                     **form_values(profile)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/evaluations/{aid}/sections/s-equipement?enregistre=s-profil")
    assert answers_of(session, aid) == profile
    page = app_client.get(response.headers["location"])
    assert "Section « Profil de la structure » enregistrée." in page.text


def test_form_post_errors_are_shown_at_the_questions(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    response = director.post(f"/evaluations/{aid}/sections/s-profil", {
        "version": "0", "q_capacite": "quatre-vingts", "q_effectif_etp": "-3",
        "q_medicalisation": "equipe_medicale"})
    assert response.status_code == 422
    assert response.template.name == "pages/director/section.html"
    text = response.text
    assert "<title>Erreur : Profil de la structure" in text
    assert 'id="error-summary"' in text and 'role="alert"' in text
    assert "Rien n’a été enregistré : 2 réponses à corriger" in text
    assert '<a href="#q_capacite">Capacité de la structure' in text
    assert "Saisissez un nombre, par exemple 12 ou 12,5." in text
    assert "Le nombre doit être supérieur ou égal à 0." in text
    assert 'value="quatre-vingts"' in text  # what was typed is kept
    assert answers_of(session, aid) == {}


def test_form_post_clears_emptied_fields_and_unchecked_boxes(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    fill(session, aid, {"medicalisation": "equipe_medicale", "dui_production": "tous",
                        "dui_logiciel": "Logiciel X", "dui_fonctions": ["soins"],
                        "part_dui_actifs": 80})
    response = director.post(f"/evaluations/{aid}/sections/s-dui", {
        "version": "1", "q_dui_production": "tous", "q_dui_logiciel": "  ",
        "q_part_dui_actifs": "80", "q_dui_segur": "oui"})
    assert response.status_code == 303
    assert answers_of(session, aid) == {"medicalisation": "equipe_medicale",
                                        "dui_production": "tous", "part_dui_actifs": 80,
                                        "dui_segur": "oui"}


def test_form_post_that_reveals_questions_stays_on_the_section(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    response = director.post(f"/evaluations/{aid}/sections/s-dui", {
        "version": "0", "q_dui_production": "tous"})
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/evaluations/{aid}/sections/s-dui?enregistre=s-dui&nouvelles=1#question-dui_logiciel")


def test_form_post_conflict_keeps_the_input_and_names_both_values(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    assert director.autosave(aid, "capacite", "50", version=0).status_code == 200
    response = director.post(f"/evaluations/{aid}/sections/s-profil", {
        "version": "0", "q_capacite": "60"})
    assert response.status_code == 409
    text = response.text
    assert "des réponses ont été modifiées entre-temps" in text
    assert "valeur enregistrée « 50 »" in text and "Votre saisie « 60 »" in text
    assert '<input type="hidden" id="assessment-version" name="version" value="1">' in text
    assert answers_of(session, aid)["capacite"] == 50


# ---- submit and result ----------------------------------------------------------------------


def test_submit_lists_missing_questions_then_submits(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = start(director, ehpad)
    answers = best("ehpad")
    partial = {k: v for k, v in answers.items() if k not in ("capacite", "sdsi")}
    fill(session, aid, partial)
    page = director.get(f"/evaluations/{aid}/transmettre")
    assert page.status_code == 200
    assert "2 questions obligatoires sans réponse" in page.text
    assert (f'<a href="/evaluations/{aid}/sections/s-profil#question-capacite">Capacité de la '
            "structure") in page.text
    assert f'href="/evaluations/{aid}/sections/s-gouvernance#question-sdsi"' in page.text
    response = director.post(f"/evaluations/{aid}/transmettre", {"declaration": "oui"})
    assert response.status_code == 422
    assert "Transmission impossible : 2 questions obligatoires sans réponse" in response.text
    assert session.get(Assessment, aid).status == "draft"  # type: ignore[union-attr]

    fill(session, aid, answers)
    response = director.post(f"/evaluations/{aid}/transmettre", {"declaration": "oui"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/evaluations/{aid}/resultat?transmis=1"
    a = session.get(Assessment, aid)
    assert a is not None
    session.refresh(a)
    assert a.status == AssessmentStatus.submitted
    assert a.tier_level == 4


def submitted_2026_1(director: Director, session: Session, structure: Structure,
                     answers: dict[str, Any]) -> int:
    """A 2026.1 draft (from before 2026.2) submitted by its director: it stays 2026.1."""
    a = make_assessment(session, structure, questionnaire_version="2026.1", answers=answers)
    assert director.post(f"/evaluations/{a.id}/transmettre",
                         {"declaration": "oui"}).status_code == 303
    return int(a.id or 0)


def test_result_page_shows_palier_chart_table_trace_steps_and_funding(
        director: Director, session: Session, ehpad: Structure) -> None:
    # A 2026.1 submission: its labels (the page for 2026.2 results: int-display's tests).
    aid = submitted_2026_1(director, session, ehpad, PETIT_EHPAD_2026_1)
    page = director.get(f"/evaluations/{aid}/resultat?transmis=1")
    assert page.status_code == 200
    assert page.template.name == "pages/director/result.html"
    text = page.text
    assert "Autodiagnostic transmis" in text
    assert "Palier 2 — Dossier usager informatisé déployé" in text
    assert "Résultat provisoire" not in text
    assert "<svg" in text and '<title id="scores-' in text
    assert "<caption id=\"scores-table-caption\">Scores par domaine" in text
    assert '<th scope="row">Dossier usager informatisé</th>' in text
    # Trace with option labels, not raw values; questions not asked are said so.
    assert "Connexion internet suffisante pour l&#39;usage" in text
    assert ("<li>Quelle connexion internet dessert la structure ? — "
            "<em>Fibre ou très haut débit</em></li>") in text
    assert ("<li>Part des personnes accompagnées dont l&#39;INS est qualifiée (%) — "
            "<em>Question non posée (sans objet pour cette structure)</em></li>") in text
    assert "Palier 2 — Dossier usager informatisé déployé : atteint" in text
    assert "Palier 3 — DUI relié aux services socles : non atteint" in text
    # Next steps by tier with effort, and funding with links.
    assert "Pour atteindre le Palier 3 — DUI relié aux services socles" in text
    assert "Qualifier l&#39;identité nationale de santé (INS) des personnes accompagnées" in text
    assert "Effort moyen" in text and "Effort faible" in text
    assert ('title="Programme ESMS numérique - nouvelle fenêtre">Programme ESMS numérique</a>, '
            "Ségur numérique vague 2 — médico-social") in text
    assert "Éligible d’après les réponses" in text


def test_draft_result_is_labelled_provisional(director: Director, session: Session,
                                              ehpad: Structure) -> None:
    aid = start(director, ehpad)
    fill(session, aid, {"medicalisation": "equipe_medicale"})
    page = director.get(f"/evaluations/{aid}/resultat")
    assert page.status_code == 200
    assert "Résultat provisoire" in page.text
    assert "Sans réponse" in page.text


def test_print_view_and_pdf_hold_result_and_every_answer(
        director: Director, session: Session, ehpad: Structure, settings: Settings) -> None:
    aid = submitted(director, session, ehpad, PETIT_EHPAD)
    page = director.get(f"/evaluations/{aid}/impression")
    assert page.status_code == 200
    assert page.template.name == "pages/director/print.html"
    text = page.text
    assert "Déclaration d’autodiagnostic" in text
    assert "Réponses déclarées" in text
    assert "Quelle connexion internet dessert la structure ?" in text
    assert "Logiciel de l&#39;éditeur retenu par la grappe" in text
    assert 'href="/static/css/director-print.css"' in text

    assert stored_pdfs(session, aid) == []
    response = director.get(f"/evaluations/{aid}/declaration.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["X-Palier-Cache"] == "miss"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 20_000
    [blob] = stored_pdfs(session, aid)
    assert blob.data == response.content
    again = director.get(f"/evaluations/{aid}/declaration.pdf")
    assert again.headers["X-Palier-Cache"] == "hit"
    assert again.content == response.content


def stored_pdfs(session: Session, aid: int) -> list[StoredFile]:
    """The assessment's PDFs in the file storage (the database)."""
    return list(session.exec(select(StoredFile).where(
        col(StoredFile.key).startswith(f"pdf/{aid}-"))).all())


def test_draft_pdf_is_not_cached(director: Director, session: Session, ehpad: Structure,
                                 settings: Settings) -> None:
    aid = start(director, ehpad)
    fill(session, aid, {"medicalisation": "equipe_medicale"})
    response = director.get(f"/evaluations/{aid}/declaration.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert response.headers["X-Palier-Cache"] == "miss"
    assert stored_pdfs(session, aid) == []


def test_submitted_assessment_is_read_only_everywhere(
        director: Director, session: Session, ehpad: Structure) -> None:
    aid = submitted(director, session, ehpad, best("ehpad"))
    page = director.get(f"/evaluations/{aid}/sections/s-profil")
    assert page.status_code == 200
    assert page.context["editable"] is False
    assert "lecture seule" in page.text
    assert 'id="section-form"' not in page.text
    assert "autosave.js" not in page.text
    assert 'id="q_medicalisation" aria-labelledby' in page.text and " disabled>" in page.text
    response = director.autosave(aid, "capacite", "12", version=99)
    assert response.status_code == 409
    assert response.headers["X-Palier-Outcome"] == "closed"
    assert director.post(f"/evaluations/{aid}/sections/s-profil",
                         {"version": "99"}).status_code == 409
    assert director.post(f"/evaluations/{aid}/transmettre").status_code == 409
    assert director.get(f"/evaluations/{aid}/transmettre").status_code == 303
    assert answers_of(session, aid)["capacite"] == 60


# ---- permissions ----------------------------------------------------------------------------


def test_other_director_gets_404_everywhere(
        app_client: TestClient, director: Director, session: Session, settings: Settings,
        ehpad: Structure) -> None:
    aid = start(director, ehpad)
    other_structure = make_structure(session)
    stranger = as_user(app_client, session, settings,
                       make_user(session, Role.director, [other_structure]))
    for url in (f"/structures/{ehpad.finess}", f"/evaluations/{aid}",
                f"/evaluations/{aid}/sections/s-profil", f"/evaluations/{aid}/transmettre",
                f"/evaluations/{aid}/resultat", f"/evaluations/{aid}/impression",
                f"/evaluations/{aid}/declaration.pdf",
                f"/evaluations/{aid}/questions/capacite"):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/structures/{ehpad.finess}/evaluation").status_code == 404
    assert stranger.autosave(aid, "capacite", "1", version=0).status_code == 404
    assert stranger.post(f"/evaluations/{aid}/sections/s-profil",
                         {"version": "0"}).status_code == 404
    assert stranger.post(f"/evaluations/{aid}/transmettre").status_code == 404
    page = stranger.get("/mes-structures")
    assert [c.structure.id for c in page.context["cards"]] == [other_structure.id]


def test_ars_of_the_region_views_but_cannot_change(
        app_client: TestClient, director: Director, session: Session, settings: Settings,
        ehpad: Structure) -> None:
    aid = submitted(director, session, ehpad, PETIT_EHPAD)
    draft = start(director, ehpad)
    ars = as_user(app_client, session, settings,
                  make_user(session, Role.ars, region=ehpad.region))
    assert ars.get("/mes-structures").status_code == 403
    page = ars.get(f"/structures/{ehpad.finess}")
    assert page.status_code == 200
    assert "Reprendre l’évaluation" not in page.text
    result = ars.get(f"/evaluations/{aid}/resultat")
    assert result.status_code == 200
    assert "Palier 2 — Dossier usager informatisé déployé" in result.text
    assert ars.get(f"/evaluations/{aid}/declaration.pdf").status_code == 200
    # the draft is the director's working space: its progress only, on the structure page
    assert "Évaluation en cours" in page.text
    assert ars.get(f"/evaluations/{draft}/sections/s-profil").status_code == 403
    assert ars.autosave(draft, "capacite", "1", version=0).status_code == 403
    assert ars.post(f"/evaluations/{draft}/sections/s-profil",
                    {"version": "0"}).status_code == 403
    assert ars.post(f"/evaluations/{draft}/transmettre").status_code == 403
    assert ars.post(f"/structures/{ehpad.finess}/evaluation").status_code == 403

    elsewhere = as_user(app_client, session, settings,
                        make_user(session, Role.ars, region="11"))
    assert elsewhere.get(f"/evaluations/{aid}/resultat").status_code == 404


def test_anonymous_visitors_are_sent_to_login(app_client: TestClient, session: Session,
                                              ehpad: Structure) -> None:
    a = make_assessment(session, ehpad)
    for url in ("/mes-structures", f"/structures/{ehpad.finess}",
                f"/evaluations/{a.id}/sections/s-profil", f"/evaluations/{a.id}/resultat"):
        response = app_client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/connexion?suivant=")


# ---- parsing posted values (pure) -----------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    (["12"], (12, None)),
    (["12,5"], (12.5, None)),
    (["1\u202f000"], (1000, None)),
    ([" 7.0 "], (7, None)),
    ([""], (None, None)),
    ([], (None, None)),
    (["douze"], (None, "Saisissez un nombre, par exemple 12 ou 12,5.")),
    (["NaN"], (None, "Saisissez un nombre, par exemple 12 ou 12,5.")),
])
def test_parse_number(raw: list[str], expected: tuple[Any, str | None]) -> None:
    from app.assessments.views import parse_value
    from scoring import Question

    question = Question(id="n", type="number", label="N", min=0, max=10000)
    assert parse_value(question, raw) == expected


def test_parse_choices_and_text() -> None:
    from app.assessments.views import parse_value
    from scoring.model import Option, Question

    options = [Option(value="a", label="A"), Option(value="b", label="B"),
               Option(value="c", label="C")]
    multi = Question(id="m", type="multiple_choice", label="M", options=options)
    single = Question(id="s", type="single_choice", label="S", options=options)
    text = Question(id="t", type="text", label="T")
    assert parse_value(multi, ["c", "a", "c"]) == (["a", "c"], None)
    assert parse_value(multi, []) == (None, None)
    assert parse_value(single, ["b"]) == ("b", None)
    assert parse_value(single, [""]) == (None, None)
    assert parse_value(text, ["  "]) == (None, None)
    assert parse_value(text, ["Ligne 1\r\nLigne 2 "]) == ("Ligne 1\nLigne 2 ", None)
