"""With JavaScript disabled, the whole path works with plain form posts: log in, start, each
section saved with "Enregistrer et continuer" (questions that a new answer makes appear are
shown on the same section after the post), submit, result page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.answers import best, shown_only
from tests.e2e.conftest import Account, LiveServer, PageErrors, new_context
from tests.e2e.helpers import (
    Section,
    answer,
    login,
    question_box,
    save_and_continue,
    sections,
    start_assessment,
    stored,
)

pytestmark = pytest.mark.e2e

# A home-care service with care (SAD, questionnaire 2026.2), exemplary except that it has no
# MSSanté mailbox: palier 2, one next step toward palier 3 (the medication circuit does not
# apply to it: its residents' GPs prescribe, the community pharmacy dispenses).
ANSWERS = shown_only(best("ssiad", mssante="non"))
PALIER_2 = "Palier 2 — Dossier usager informatisé déployé, données protégées"
PALIER_3 = "Palier 3 — DUI relié aux services socles et utilisé"
NEXT_STEP = "Intégrer MSSanté au DUI et l'utiliser avec vos partenaires"
NEW_QUESTIONS = "Vos réponses font apparaître de nouvelles questions dans cette section"


@pytest.fixture
def no_js_page(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> Iterator[Page]:
    context: BrowserContext = new_context(browser, live_server, java_script_enabled=False)
    page = page_errors.watch(context.new_page())
    yield page
    context.close()
    assert page_errors.errors == [], "JavaScript errors:\n" + "\n".join(page_errors.errors)


def fill_section_with_posts(page: Page, section: Section) -> list[int]:
    """Answer the questions shown, post the section; when the post reveals new questions
    (same section again), answer those and post again. Returns how many questions were
    answered at each round."""
    done: set[str] = set()
    rounds: list[int] = []
    for _ in range(4):
        shown = [
            q
            for q in section.questions
            if q.id in ANSWERS and q.id not in done and question_box(page, q.id).is_visible()
        ]
        for q in shown:
            answer(page, q, ANSWERS[q.id])
            done.add(q.id)
        rounds.append(len(shown))
        save_and_continue(page)
        if f"/sections/{section.id}?" not in page.url:
            break
        expect(page.get_by_role("status").filter(has_text=NEW_QUESTIONS)).to_be_visible()
    expected = {q.id for q in section.questions if q.id in ANSWERS}
    assert done == expected, f"{section.id}: not answered: {sorted(expected - done)}"
    return rounds


def test_fill_and_submit_without_javascript(
    no_js_page: Page, director: Account, live_server: LiveServer
) -> None:
    page = no_js_page
    login(page, director.email, director.password)
    expect(page).to_have_url(re.compile(r"/mes-structures$"))
    assessment_id = start_assessment(page, director.structure_name)

    rounds: dict[str, list[int]] = {}
    for section in sections():
        expect(page).to_have_url(re.compile(rf"/sections/{section.id}(\?|$)"))
        expect(page.get_by_role("heading", level=1)).to_have_text(section.title)
        rounds[section.id] = fill_section_with_posts(page, section)

    # The DUI section needed a second post: its seven detailed questions (software, Ségur
    # referencing, Ségur vague 2 readiness, functions, two usage rates, mobile access for a
    # home service) appear once the DUI is said to be in production; the medication circuit
    # is never shown to a home-care service (questionnaire 2026.2).
    assert rounds["s-dui"] == [1, 7]
    assert rounds["s-profil"] == [9]  # 2026.2 adds the FINESS-like category
    assert stored(live_server.engine, assessment_id).answers == ANSWERS

    expect(page).to_have_url(re.compile(rf"/evaluations/{assessment_id}/transmettre"))
    expect(page.get_by_text("Toutes les questions obligatoires ont une réponse")).to_be_visible()
    page.get_by_role("button", name="Transmettre l’autodiagnostic").click()
    # The declaration is required: refused without it, then ticked.
    expect(page.locator("#error-summary")).to_contain_text(
        "Transmission impossible : déclaration non cochée")
    page.get_by_text("Je certifie que les réponses transmises sont exactes").click()
    page.get_by_role("button", name="Transmettre l’autodiagnostic").click()

    expect(page).to_have_url(re.compile(rf"/evaluations/{assessment_id}/resultat\?transmis=1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Résultat de l’autodiagnostic")
    palier = page.get_by_role("region", name="Votre palier")
    expect(palier.locator(".palier-badge")).to_have_text(PALIER_2)
    steps = page.get_by_role("region", name="Prochaines étapes")
    expect(steps.get_by_role("heading", level=3)).to_have_text(f"Pour atteindre le {PALIER_3}")
    expect(steps.get_by_role("listitem").filter(has_text=NEXT_STEP)).to_have_count(1)

    submitted = stored(live_server.engine, assessment_id)
    assert (submitted.status, submitted.tier_level) == ("submitted", 2)
