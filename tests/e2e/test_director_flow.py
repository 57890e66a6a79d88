"""The director's whole path in Chromium, with JavaScript (autosave): log in, start the
self-assessment, answer every question section by section (a conditional question appears
live), reload midway and find the answers, submit, read the palier and the next steps,
download the PDF declaration. axe on the form, submit (with its recap and refused without the
declaration) and result pages."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.formatting import PARIS
from app.structures.models import Structure
from tests.answers import best, shown_only
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account, LiveServer
from tests.e2e.helpers import (
    answer,
    autosave_answer,
    current_version,
    eventually_stored,
    expect_answer,
    login,
    question,
    question_box,
    save_and_continue,
    sections,
    start_assessment,
    stored,
    wait_saved,
)
from tests.factories import make_assessment

pytestmark = pytest.mark.e2e

# A medicalised EHPAD, exemplary except for the daily use of its DUI (40 % < 50 %): it stops
# on palier 1 with a single next step (worked out in tests/unit/test_real_questionnaire.py,
# test_missing_palier_2_requirement_caps_at_palier_1).
ANSWERS = shown_only(best("ehpad", part_pros_dui_quotidien=40))
PALIER_1 = "Palier 1 — Socle d'équipement, d'organisation et d'obligations"
PALIER_2 = "Palier 2 — Dossier usager informatisé déployé, données protégées"
NEXT_STEP = "Faire du DUI l'outil quotidien des équipes"
DUI_SOFTWARE_LABEL = "Quel logiciel de DUI utilisez-vous ou avez-vous choisi (éditeur et nom) ?"
DECLARATION = ("Je certifie que les réponses transmises sont exactes et complètes à ma "
               "connaissance.")
SECTION_IDS = [
    "s-profil", "s-equipement", "s-dui", "s-services-socles", "s-coordination",
    "s-gouvernance", "s-securite", "s-competences",
]  # fmt: skip


def test_director_fills_in_submits_and_downloads_the_declaration(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    assert [s.id for s in sections()] == SECTION_IDS
    login(page, director.email, director.password)
    expect(page).to_have_url(re.compile(r"/mes-structures$"))
    assessment_id = start_assessment(page, director.structure_name)
    expect(page).to_have_url(re.compile(rf"/evaluations/{assessment_id}/sections/s-profil$"))
    assert_accessible(page)  # the empty form

    for number, section in enumerate(sections(), start=1):
        expect(page).to_have_url(re.compile(rf"/sections/{section.id}(\?|$)"))
        expect(page.get_by_role("heading", level=1)).to_have_text(section.title)
        expect(page.locator("#progress-label")).to_contain_text(
            f"Section {number} sur {len(SECTION_IDS)}"
        )
        if section.id == "s-dui":
            fill_dui_section_with_reload(page, live_server, assessment_id)
        else:
            for q in section.questions:
                if q.id in ANSWERS:
                    autosave_answer(page, q, ANSWERS[q.id])
        save_and_continue(page)

    # Every answer is stored exactly as given (and nothing else).
    saved = stored(live_server.engine, assessment_id)
    assert saved.status == "draft"
    assert saved.answers == ANSWERS

    expect(page).to_have_url(re.compile(rf"/evaluations/{assessment_id}/transmettre"))
    expect(page.get_by_text("Toutes les questions obligatoires ont une réponse")).to_be_visible()
    expect(page.locator(".palier-badge")).to_have_text(f"{PALIER_1} (provisoire)")
    # The recap: every answer by section, each linked to its field.
    recap = page.get_by_role("region", name="3. Dossier usager informatisé")
    expect(recap.get_by_role("link", name=DUI_SOFTWARE_LABEL)).to_have_attribute(
        "href", f"/evaluations/{assessment_id}/sections/s-dui#q_dui_logiciel")
    assert_accessible(page)
    # Without the declaration: refused, the error summary focused, nothing submitted.
    page.get_by_role("button", name="Transmettre l’autodiagnostic").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary")).to_contain_text(
        "Transmission impossible : déclaration non cochée")
    assert stored(live_server.engine, assessment_id).status == "draft"
    assert_accessible(page)
    page.get_by_text(DECLARATION).click()
    expect(page.get_by_label(DECLARATION)).to_be_checked()
    page.get_by_role("button", name="Transmettre l’autodiagnostic").click()

    expect(page).to_have_url(re.compile(rf"/evaluations/{assessment_id}/resultat\?transmis=1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Résultat de l’autodiagnostic")
    expect(page.get_by_role("status").filter(has_text="Autodiagnostic transmis")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Autodiagnostic transmis")).to_contain_text(
        f"accusé de réception n° PAL-{datetime.now(PARIS).year}-{assessment_id:06d}")
    palier = page.get_by_role("region", name="Votre palier")
    expect(palier.locator(".palier-badge")).to_have_text(PALIER_1)
    steps = page.get_by_role("region", name="Prochaines étapes")
    expect(steps.get_by_role("heading", level=3)).to_have_text(f"Pour atteindre le {PALIER_2}")
    expect(steps.get_by_role("listitem").filter(has_text=NEXT_STEP)).to_have_count(1)
    assert_accessible(page)

    submitted = stored(live_server.engine, assessment_id)
    assert (submitted.status, submitted.tier_id, submitted.tier_level) == (
        "submitted",
        "palier-1",
        1,
    )

    with page.expect_download(timeout=90_000) as download_info:
        page.get_by_role("link", name="Télécharger la déclaration (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def fill_dui_section_with_reload(page: Page, live_server: LiveServer, assessment_id: int) -> None:
    """The DUI section: questions that depend on `dui_production` are hidden until it is
    answered, then appear; the medication circuit question is there because the structure
    said it is medicalised (profile section). Midway, a reload shows the saved answers."""
    for hidden in ("dui_logiciel", "dui_segur", "dui_fonctions", "part_pros_dui_quotidien"):
        expect(question_box(page, hidden)).to_be_hidden()
    expect(question_box(page, "circuit_medicament")).to_be_visible()
    expect(question_box(page, "acces_nomade_dui")).to_be_hidden()  # not a home service

    first = ["dui_production", "dui_logiciel", "dui_segur", "dui_fonctions"]
    for qid in first:
        autosave_answer(page, question(qid), ANSWERS[qid])
        if qid == "dui_production":  # the conditional questions appeared, live
            expect(question_box(page, "dui_fonctions")).to_be_visible()
            expect(
                page.get_by_role("group", name=re.compile("blocs fonctionnels|fonctions")).first
            ).to_be_visible()

    assert_accessible(page)  # the form with answers, conditional questions shown

    saved = stored(live_server.engine, assessment_id).answers
    assert {qid: saved.get(qid) for qid in first} == {qid: ANSWERS[qid] for qid in first}

    page.reload()
    for qid in first:
        expect_answer(page, question(qid), ANSWERS[qid])
    expect(question_box(page, "dui_fonctions")).to_be_visible()

    for q in sections()[2].questions:
        if q.id in ANSWERS and q.id not in first:
            autosave_answer(page, q, ANSWERS[q.id])


def test_last_value_wins_when_answers_change_quickly(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    """Several quick changes of the same questions, without waiting: the saved values are the
    last ones (requests leave in order)."""
    login(page, director.email, director.password)
    assessment_id = start_assessment(page, director.structure_name)
    before = current_version(page)
    modalite = question("modalite")
    for value in ("domicile", "accueil_jour", "mixte", "hebergement"):
        answer(page, modalite, value)
    capacite = question("capacite")
    for value in (10, 25, 60):
        answer(page, capacite, value)
    wait_saved(page, before)
    last = {"modalite": "hebergement", "capacite": 60}
    eventually_stored(live_server.engine, assessment_id, last)
    expect(page.locator("#save-status-text")).to_have_text(re.compile(r"^Enregistré à"))


def test_result_page_is_accessible_on_a_narrow_screen(
    page: Page, director: Account, db: Session
) -> None:
    """360 px wide: wide tables scroll inside a container that must take keyboard focus."""
    structure = db.get(Structure, director.structure_id)
    assert structure is not None
    draft = make_assessment(db, structure, answers=ANSWERS)
    db.commit()
    login(page, director.email, director.password)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/evaluations/{draft.id}/resultat")
    expect(page.get_by_role("heading", level=1)).to_have_text("Résultat provisoire")
    assert_accessible(page)


def test_keyboard_answer_keeps_focus_while_questions_appear(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    """Radios answered with the arrow keys: each change is saved, the questions it reveals
    appear, and focus stays on the radio the person is using."""
    login(page, director.email, director.password)
    assessment_id = start_assessment(page, director.structure_name)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"^3\. Dossier usager informatisé")).click()
    expect(question_box(page, "dui_segur")).to_be_hidden()

    first = question_box(page, "dui_production").get_by_role("radio").first
    first.focus()
    before = current_version(page)
    page.keyboard.press("Space")  # "Non"
    wait_saved(page, before)
    before = current_version(page)
    page.keyboard.press("ArrowDown")  # "Non, un projet est engagé…"
    wait_saved(page, before)
    expect(question_box(page, "dui_segur")).to_be_visible()  # shown for a DUI project
    expect(question_box(page, "dui_fonctions")).to_be_hidden()  # only once in production
    focused = page.locator(":focus")
    expect(focused).to_have_attribute("name", "q_dui_production")
    expect(focused).to_have_attribute("value", "projet")

    before = current_version(page)
    page.keyboard.press("ArrowDown")  # "Oui, pour une partie…"
    wait_saved(page, before)
    expect(question_box(page, "dui_fonctions")).to_be_visible()
    expect(page.locator(":focus")).to_have_attribute("value", "partiel")
    assert stored(live_server.engine, assessment_id).answers == {"dui_production": "partiel"}
