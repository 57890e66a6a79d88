"""An open 2026.1 draft carried over to 2026.2 when its director opens it (issue 9 §3).

Answers are mapped with questionnaires/migrations/esms-maturite-numerique-2026.1-to-2026.2.yaml;
expected answers and notice texts are written by hand from that map and the 2026.2 labels.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.assessments.models import Assessment
from app.audit import AuditEvent
from app.config import Settings
from app.permissions import Role
from app.structures.models import Structure
from tests.director_client import as_user
from tests.factories import make_assessment, make_structure, make_user

OLD_ANSWERS: dict[str, Any] = {
    "public_accueilli": "personnes_agees", "modalite": "hebergement",
    "medicalise": "oui",  # renamed to medicalisation, "oui" must be given again
    "capacite": 30,
    "wifi": "complet",
    "messagerie_nominative": "tous",  # option renamed: partielle
    "dui_production": "tous",
    "dmp_alimentation": "parfois",
    "dmp_documents": ["vsm", "dlu"],  # VSM (received) dropped
    "ror": "non",  # "non, ou je ne sais pas": must be given again
}
NEW_ANSWERS: dict[str, Any] = {
    "public_accueilli": "personnes_agees", "modalite": "hebergement", "capacite": 30,
    "wifi": "complet", "messagerie_nominative": "partielle", "dui_production": "tous",
    "dmp_alimentation": "parfois", "dmp_documents": ["dlu"],
}


def reread(session: Session, a: Assessment) -> Assessment:
    session.expire_all()
    fresh = session.get(Assessment, a.id)
    assert fresh is not None
    return fresh


def carried_events(session: Session, a: Assessment) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(
        AuditEvent.action == "draft_carried_over", AuditEvent.object_id == str(a.id))).all())


def test_a_2026_1_draft_opened_by_its_director_moves_to_2026_2_with_a_notice(
        app_client: TestClient, session: Session, settings: Settings) -> None:
    ehpad = make_structure(session, name="EHPAD Les Tilleuls")
    user = make_user(session, Role.director, [ehpad])
    old = make_assessment(session, ehpad, "submitted", questionnaire_version="2026.1",
                          answers={"wifi": "partiel"}, tier_level=0, global_score=5.0)
    draft = make_assessment(session, ehpad, questionnaire_version="2026.1",
                            answers=OLD_ANSWERS, by=user)
    assert draft.version == 10
    director = as_user(app_client, session, settings, user)

    page = director.get(f"/evaluations/{draft.id}/sections/s-equipement")
    assert page.status_code == 200
    a = reread(session, draft)
    assert a.questionnaire_version == "2026.2"
    assert a.version == 11  # one write
    assert a.answers == NEW_ANSWERS
    # Moved answers are written by the carry-over; unchanged ones keep their history.
    assert a.answer_meta["messagerie_nominative"]["revision"] == 11
    assert a.answer_meta["messagerie_nominative"]["carried_from"] == "2026.1"
    assert a.answer_meta["dmp_documents"]["revision"] == 11
    assert a.answer_meta["wifi"]["revision"] == 1
    assert "medicalise" not in a.answer_meta and "ror" not in a.answer_meta
    [event] = carried_events(session, draft)
    assert event.user_id == user.id
    assert (event.details["from"], event.details["to"], event.details["version"]) == (
        "2026.1", "2026.2", 11)
    assert event.details["moved"] == [["messagerie_nominative", "messagerie_nominative"],
                                      ["dmp_documents", "dmp_documents"]]
    assert event.details["ask_again"] == ["medicalisation", "ror"]

    text = page.text
    assert "Questionnaire mis à jour" in text
    assert ("Cette évaluation en cours est passée de la version 2026.1 à la version 2026.2 du "
            "questionnaire ; vos réponses ont été reprises.") in text
    assert ("vérifiez-les : « Les professionnels disposent-ils d&#39;une messagerie "
            "professionnelle nominative ? » ; « Quels documents produits par la structure sont "
            "versés dans Mon espace santé (DMP) ? ».") in text
    assert ("Répondez de nouveau à : « Qui prescrit et administre les médicaments des "
            "personnes accompagnées ? » ; « L&#39;offre de la structure est-elle décrite dans "
            "le ROR ? ».") in text
    assert ("Nouvelles questions : « Quelle est la catégorie de la structure ? » ; « Votre "
            "éditeur prépare-t-il une version du DUI conforme à la vague 2 du Ségur numérique "
            "pour le médico-social ? » ; « Les professionnels consultent-ils Mon espace santé "
            "(DMP) des personnes accompagnées ? ».") in text
    assert "« Non » et « Je ne sais pas » sont désormais deux réponses distinctes" in text

    # Opening it again moves nothing more; the notice stays while answers are missing.
    again = director.get(f"/evaluations/{draft.id}/sections/s-profil")
    assert "Questionnaire mis à jour" in again.text
    assert reread(session, draft).version == 11 and len(carried_events(session, draft)) == 1

    # Once every answer asked for is given, the notice goes.
    for qid, value in (("categorie", "ehpad"), ("medicalisation", "equipe_medicale"),
                       ("ror", "a_jour"), ("segur_vague2", "ne_sait_pas"),
                       ("dui_consultation_dmp", "non")):
        version = reread(session, draft).version
        assert director.autosave(int(draft.id or 0), qid, value, version).status_code == 200
    done = director.get(f"/evaluations/{draft.id}/sections/s-profil")
    assert "Questionnaire mis à jour" not in done.text

    # The submitted 2026.1 assessment never changes.
    kept = reread(session, old)
    assert (kept.questionnaire_version, kept.answers, kept.version) == (
        "2026.1", {"wifi": "partiel"}, 1)


def test_resuming_from_the_structure_page_carries_over_too(
        app_client: TestClient, session: Session, settings: Settings) -> None:
    ehpad = make_structure(session)
    user = make_user(session, Role.director, [ehpad])
    draft = make_assessment(session, ehpad, questionnaire_version="2026.1",
                            answers={"medicalise": "non", "wifi": "complet"})
    director = as_user(app_client, session, settings, user)
    assert director.get(f"/structures/{ehpad.finess}").status_code == 200
    a = reread(session, draft)
    assert (a.questionnaire_version, a.answers, a.version) == (
        "2026.2", {"medicalisation": "non", "wifi": "complet"}, 3)
    response = director.post(f"/structures/{ehpad.finess}/evaluation")  # "Reprendre"
    assert response.status_code == 303
    assert reread(session, draft).version == 3  # nothing more to move


def test_an_ars_referent_or_an_admin_reading_it_does_not_carry_it_over(
        app_client: TestClient, session: Session, settings: Settings) -> None:
    ehpad: Structure = make_structure(session, department="69")
    make_user(session, Role.director, [ehpad])
    draft = make_assessment(session, ehpad, questionnaire_version="2026.1",
                            answers=OLD_ANSWERS)
    ars = as_user(app_client, session, settings, make_user(session, Role.ars, region="84"))
    assert ars.get(f"/structures/{ehpad.finess}").status_code == 200
    assert ars.get(f"/evaluations/{draft.id}/sections/s-profil").status_code == 403
    admin = as_user(app_client, session, settings, make_user(session, Role.admin))
    assert admin.get(f"/structures/{ehpad.finess}").status_code == 200
    assert admin.get(f"/evaluations/{draft.id}/sections/s-profil").status_code == 200
    a = reread(session, draft)
    assert (a.questionnaire_version, a.answers, a.version) == ("2026.1", OLD_ANSWERS, 10)
    assert carried_events(session, draft) == []


def test_a_new_draft_from_a_2026_1_submission_follows_the_map(
        app_client: TestClient, session: Session, settings: Settings) -> None:
    # Regression: "tous" (every professional who exchanges) was copied unchanged, and meant
    # more in 2026.2; "medicalise" was dropped without saying it was renamed.
    ehpad = make_structure(session)
    user = make_user(session, Role.director, [ehpad])
    old = make_assessment(session, ehpad, "submitted", questionnaire_version="2026.1",
                          answers={"messagerie_nominative": "tous", "medicalise": "non",
                                   "ror": "non"}, tier_level=0, global_score=5.0)
    director = as_user(app_client, session, settings, user)
    response = director.post(f"/structures/{ehpad.finess}/evaluation")
    location = response.headers["location"]
    assert location.endswith(f"?reprise={old.id}")
    new = session.exec(select(Assessment).where(Assessment.structure_id == ehpad.id,
                                                Assessment.status == "draft")).one()
    assert new.questionnaire_version == "2026.2"
    assert new.answers == {"messagerie_nominative": "partielle", "medicalisation": "non"}
    page = director.get(location)
    assert "reprend 2 réponses de l’évaluation transmise le" in page.text
    assert "« L&#39;offre de la structure est-elle décrite dans le ROR ? »" in page.text
