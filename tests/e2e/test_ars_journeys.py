"""In Chromium, the ARS referent's journeys of issue 10, axe clean on every new page:
- the "à revoir" review follows the director (structure page, correction draft with the
  concerned question flagged) and they exchange messages (e-mails read in the server log);
- an ARS opens a campaign, previews and sends the reminders (e-mails read in the log), and
  sends nothing the second time the same day;
- the structure list's search, and the admin's account page with its role and scope form.

Data: region 04 (La Réunion, 974) and 06 (Mayotte, 976), which other browser tests do
not use; accounts unique per run."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.campaigns.service import today
from app.reviews.models import AssessmentReview
from scoring import load_questionnaire, score
from tests.answers import PETIT_EHPAD
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import login, option, question_box
from tests.factories import DEFAULT_PASSWORD, make_assessment, make_structure, make_user
from tests.live import LiveServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRE = ROOT / "questionnaires" / "esms-maturite-numerique-2026.2.yaml"
_runs = iter(range(1, 1000))


def _mails(server: LiveServer, to: str) -> list[str]:
    """The e-mails the server wrote to its log (console backend) for `to`."""
    text = server.log_path.read_text(errors="replace")
    mails = re.findall(r"----- e-mail -----\n(.*?)------------------", text, re.S)
    return [m for m in mails if f"\nTo: {to}\n" in m]


def test_review_follows_the_director_and_the_thread(page: Page, db: Session,
                                                     live_server: LiveServer) -> None:
    run = next(_runs)
    q = load_questionnaire(QUESTIONNAIRE)
    s = make_structure(db, name=f"EHPAD Bois-Rouge {run}", department="974")
    director = make_user(db, "director", [s], email=f"dir{run}@bois-rouge.re",
                         name="Claire Payet")
    ars = make_user(db, "ars", region="04", email=f"ars{run}@ars-reunion.fr",
                    name="Karim Hoarau")
    result = score(q, PETIT_EHPAD)
    a = make_assessment(db, s, "submitted", answers=PETIT_EHPAD, result=result.to_dict(),
                        tier_level=result.tier_level, global_score=result.global_score,
                        questionnaire_version=q.version,
                        submitted_at=datetime.now(UTC) - timedelta(days=2))
    db.add(AssessmentReview(assessment_id=a.id or 0, status="a_revoir", reviewer_id=ars.id,
                            comment="Joignez le contrat de sauvegarde.",
                            questions=["acces_internet", "segur_vague2"]))
    db.commit()

    login(page, director.email, DEFAULT_PASSWORD)
    page.goto(f"/structures/{s.finess}")
    expect(page.locator(".palier-review-notice")).to_contain_text(
        "Joignez le contrat de sauvegarde.")
    page.get_by_role("button", name="Nouvelle évaluation").click()
    page.goto(page.url.split("/sections/")[0] + "/sections/s-equipement")
    expect(page.locator(".palier-correction-notice")).to_contain_text(
        "Joignez le contrat de sauvegarde.")
    expect(page.locator("#revoir-acces_internet")).to_have_text("À revoir selon l’ARS")
    assert_accessible(page)

    # A flagged question hidden then shown again by autosaves keeps a single badge, inside
    # the question that the responses replace.
    page.goto(page.url.split("/sections/")[0] + "/sections/s-dui")
    flag = page.locator("#revoir-segur_vague2")
    expect(page.locator("#question-segur_vague2 #revoir-segur_vague2")).to_have_count(1)
    production = question_box(page, "dui_production")
    option(production, "Non, un projet est engagé (logiciel choisi ou en déploiement)").check()
    expect(page.locator("#question-segur_vague2")).to_be_hidden()
    expect(flag).to_have_count(0)
    option(production, "Oui, pour toutes les personnes accompagnées").check()
    expect(page.locator("#question-segur_vague2")).to_be_visible()
    expect(flag).to_have_count(1)
    expect(page.locator("#question-segur_vague2 #revoir-segur_vague2")).to_have_text(
        "À revoir selon l’ARS")
    page.goto(page.url.split("/sections/")[0] + "/sections/s-equipement")

    page.locator(".palier-correction-notice").get_by_role("link", name="Répondre à l’ARS").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Messages entre la structure et l’ARS")
    assert_accessible(page)
    page.get_by_label("Votre message").fill("Le contrat est joint à la nouvelle évaluation.")
    page.get_by_role("button", name="Envoyer le message").click()
    expect(page.locator(".fr-alert--success")).to_contain_text("Message envoyé.")
    expect(page.locator("#fil")).to_contain_text("Le contrat est joint à la nouvelle évaluation.")
    assert_accessible(page)
    mails = _mails(live_server, ars.email)
    assert len(mails) == 1 and "Le contrat est joint à la nouvelle évaluation." in mails[0]
    assert f"Subject: Palier : nouveau message sur « {s.name} »" in mails[0]

    # An empty message: the error is announced and focused.
    page.get_by_role("button", name="Envoyer le message").click()
    expect(page.locator("#error-summary")).to_contain_text("Écrivez votre message")
    assert_accessible(page)


def test_campaign_and_reminders(page: Page, db: Session, live_server: LiveServer) -> None:
    run = next(_runs)
    late = make_structure(db, name=f"EHPAD Mamoudzou {run}", department="976")
    directors = [make_user(db, "director", [late], email=f"d{run}-{i}@mamoudzou.yt")
                 for i in (1, 2)]
    ars = make_user(db, "ars", region="06", email=f"ars{run}@ars-mayotte.fr")
    db.commit()
    login(page, ars.email, DEFAULT_PASSWORD)
    page.goto("/regions/06/campagnes")
    assert_accessible(page)
    page.get_by_label("Nom de la campagne").fill(f"Campagne Mayotte {run}")
    page.get_by_label("Date de début").fill(today().isoformat())
    page.get_by_label("Date limite").fill((today() + timedelta(days=20)).isoformat())
    page.locator('input[name="categories"][value="500"]').check(force=True)
    page.get_by_role("button", name="Ouvrir la campagne").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Campagne Mayotte {run}")
    expect(page.locator("main")).to_contain_text(late.name)
    assert_accessible(page)

    page.get_by_role("link", name="Préparer les relances par courriel").click()
    expect(page.locator("main")).to_contain_text("Objet : Palier : rappel")
    assert_accessible(page)
    page.get_by_role("button", name="Envoyer 1 relance").click()
    expect(page.locator(".fr-alert--success")).to_contain_text(
        "1 structure relancée par courriel.")
    for d in directors:
        mails = _mails(live_server, d.email)
        assert len(mails) == 1, d.email
        assert f"« Campagne Mayotte {run} »" in mails[0] and late.name in mails[0]

    page.get_by_role("link", name="Préparer les relances par courriel").click()
    expect(page.locator("main")).to_contain_text("Aucune structure à relancer maintenant.")
    expect(page.locator("main")).to_contain_text("Déjà relancées aujourd’hui")
    assert_accessible(page)


def test_structure_search_and_admin_accounts(page: Page, db: Session) -> None:
    run = next(_runs)
    s = make_structure(db, name=f"EHPAD Saint-Pierre {run}", department="974",
                       city="Saint-Pierre")
    ars = make_user(db, "ars", region="04", email=f"ars-list{run}@ars-reunion.fr")
    admin = make_user(db, "admin", email=f"admin{run}@palier.fr")
    user = make_user(db, "director", [s], email=f"dir-list{run}@saint-pierre.re")
    db.commit()
    login(page, ars.email, DEFAULT_PASSWORD)
    page.goto("/regions/04/structures")
    page.get_by_label("Rechercher une structure").fill("saint-pierre")
    page.get_by_role("button", name="Appliquer les filtres").click()
    expect(page.locator("#region-list")).to_contain_text(s.name)
    expect(page.locator("#region-list")).to_contain_text("Saint-Pierre")
    assert_accessible(page)

    page.context.clear_cookies()
    login(page, admin.email, DEFAULT_PASSWORD)
    page.goto(f"/admin/utilisateurs?recherche={user.email}")
    expect(page.locator("#users-table")).to_contain_text(s.name)
    assert_accessible(page)
    page.get_by_role("link", name=f"Rôle et périmètre de {user.email}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rôle et périmètre")
    assert_accessible(page)
    page.get_by_label("Rôle").select_option("ars")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Un compte ARS doit avoir une région.")
    assert_accessible(page)
