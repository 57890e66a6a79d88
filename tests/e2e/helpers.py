"""Browser helpers: log in, and answer the real questionnaire through its form controls.

The questionnaire's structure (sections, types, option labels) is read straight from the YAML
file with PyYAML, not through the code under test; the answers come from the hand-written
answer sets of tests/unit/test_real_questionnaire.py (`best(profile)`).

Selectors follow the question partials (templates/partials/questions/): each question sits
in `#question-<id>`; inside it controls are found by role and label (radios and checkboxes
by their option label, a select by role combobox, a number (a text input) and a
text by role textbox).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import yaml
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session

from app.assessments.models import Assessment
from tests.factories import DEFAULT_TOTP_SECRET

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRE = ROOT / "questionnaires" / "esms-maturite-numerique-2026.2.yaml"
SELECT_BEYOND = 5  # single choice: radios up to 5 options, a select beyond


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: str
    options: dict[str, str]  # value -> label
    conditional: bool

    @property
    def uses_select(self) -> bool:
        return self.type == "single_choice" and len(self.options) > SELECT_BEYOND


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    questions: tuple[Question, ...]


@cache
def sections() -> tuple[Section, ...]:
    data = yaml.safe_load(QUESTIONNAIRE.read_text(encoding="utf-8"))
    return tuple(
        Section(
            id=s["id"],
            title=s["title"],
            questions=tuple(
                Question(
                    id=q["id"],
                    type=q["type"],
                    label=" ".join(str(q["label"]).split()),
                    options={str(o["value"]): str(o["label"]) for o in q.get("options", [])},
                    conditional="show_if" in q,
                )
                for q in s["questions"]
            ),
        )
        for s in data["sections"]
    )


def question(question_id: str) -> Question:
    for section in sections():
        for q in section.questions:
            if q.id == question_id:
                return q
    raise KeyError(question_id)


# --- login ---------------------------------------------------------------------------------


def login(page: Page, email: str, password: str, *, path: str = "/connexion",
          totp_secret: str | None = DEFAULT_TOTP_SECRET) -> None:
    """Fill in and send the login form (does not check where it lands). When the second
    step is asked, type the phone's code (`totp_secret` None: stay on the code page)."""
    page.goto(path)
    submit_login_form(page, email, password)
    if totp_secret is not None and urlsplit(page.url).path == "/connexion/code":
        type_code(page, totp_secret)


def submit_login_form(page: Page, email: str, password: str) -> None:
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def submit_code(page: Page, code: str, *, remember: bool = False) -> None:
    page.get_by_label("Code à 6 chiffres").fill(code)
    if remember:
        page.locator("#remember-code").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Valider le code").click()


def type_code(page: Page, secret: str = DEFAULT_TOTP_SECRET, *, remember: bool = False) -> None:
    """The phone's current code; if it served already (another login of the account within
    30 s), the next one, as a person would wait for it."""
    totp = pyotp.TOTP(secret)
    for offset in (0, 30, 30):
        submit_code(page, totp.at(time.time() + offset), remember=remember)
        if urlsplit(page.url).path != "/connexion/code" \
                or "déjà été utilisé" not in page.content():
            return
        if offset:
            time.sleep(30.2 - time.time() % 30)


# --- answering -----------------------------------------------------------------------------


def question_box(page: Page, question_id: str) -> Locator:
    return page.locator(f"#question-{question_id}")


def option(box: Locator, label: str) -> Locator:
    """The label of a radio or checkbox: people click the label (the DSFR draws the control
    on it); Playwright checks the control the label is for."""
    return box.locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))


def format_number(value: float | int) -> str:
    """As a French person types it: 62.5 -> '62,5'."""
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")


def answer(page: Page, q: Question, value: Any) -> None:
    """Answer one question with the keyboard and mouse, the way a person would."""
    box = question_box(page, q.id)
    expect(box).to_be_visible()
    if q.type == "single_choice" and q.uses_select:
        box.get_by_role("combobox").select_option(label=q.options[str(value)])
    elif q.type == "single_choice":
        option(box, q.options[str(value)]).check()
    elif q.type == "multiple_choice":
        chosen = {str(v) for v in value}
        for option_value, option_label in q.options.items():
            option(box, option_label).set_checked(option_value in chosen)
    elif q.type in ("number", "text"):
        control = box.get_by_role("textbox")
        control.fill(format_number(value) if q.type == "number" else str(value))
        control.press("Tab")  # leave the field: a `change` event, as when a person moves on
    else:  # pragma: no cover - the format has no other type
        raise AssertionError(f"unknown question type {q.type}")


def expect_answer(page: Page, q: Question, value: Any) -> None:
    """The control of `q` shows `value` (e.g. after a reload)."""
    box = question_box(page, q.id)
    if q.type == "single_choice" and q.uses_select:
        expect(box.get_by_role("combobox")).to_have_value(str(value))
    elif q.type == "single_choice":
        expect(box.get_by_label(q.options[str(value)], exact=True)).to_be_checked()
    elif q.type == "multiple_choice":
        chosen = {str(v) for v in value}
        for option_value, option_label in q.options.items():
            expect(box.get_by_label(option_label, exact=True)).to_be_checked(
                checked=option_value in chosen
            )
    elif q.type == "number":
        expect(box.get_by_role("textbox")).to_have_value(format_number(value))
    else:
        expect(box.get_by_role("textbox")).to_have_value(str(value))


def fill_section(
    page: Page,
    section: Section,
    answers: Mapping[str, Any],
    *,
    after_each: Callable[[Question], None] | None = None,
) -> list[str]:
    """Answer, in order, every question of `section` that has a value in `answers` (each must
    be shown by then: conditional ones appear once their condition is answered). Returns
    the ids answered. `after_each` runs after every answer (e.g. wait for the autosave)."""
    answered: list[str] = []
    for q in section.questions:
        if q.id not in answers:
            continue
        answer(page, q, answers[q.id])
        answered.append(q.id)
        if after_each is not None:
            after_each(q)
    return answered


def section_heading(section: Section) -> re.Pattern[str]:
    return re.compile(re.escape(section.title))


# --- the director's flow -------------------------------------------------------------------

SECTION_URL = re.compile(r"/evaluations/(\d+)/sections/([\w-]+)")


def start_assessment(page: Page, structure_name: str) -> int:
    """From "Mes structures", start (or resume) the self-assessment; returns its id."""
    if not page.url.endswith("/mes-structures"):
        page.goto("/mes-structures")
    start = page.get_by_role(
        "button",
        name=re.compile(
            rf"(Commencer l’autodiagnostic|Reprendre l’évaluation) de "
            rf"{re.escape(structure_name)}"
        ),
    )
    with page.expect_navigation():  # waits for `load`: autosave.js (deferred) is listening
        start.click()
    expect(page).to_have_url(SECTION_URL)
    match = SECTION_URL.search(page.url)
    assert match is not None
    return int(match.group(1))


def start_in_two_tabs(
    page: Page, email: str, password: str, structure_name: str
) -> tuple[int, Page]:
    """Log in, start the self-assessment and open its first section in a second tab of the
    same browser context; returns the assessment id and the second tab."""
    login(page, email, password)
    assessment_id = start_assessment(page, structure_name)
    other = page.context.new_page()
    other.goto(page.url)
    return assessment_id, other


def current_version(page: Page) -> int:
    return int(page.locator("#assessment-version").input_value())


def wait_saved(page: Page, before: int) -> None:
    """Wait until the autosave has stored a change made after version `before` and nothing is
    pending: the version went up, the status says "Enregistré", no question is unsaved."""
    page.wait_for_function(
        """(before) => {
            const version = parseInt(document.getElementById('assessment-version').value, 10);
            const status = document.getElementById('save-status-text');
            return version > before && status !== null
                && status.textContent.trim().startsWith('Enregistré')
                && document.querySelector('.palier-question--unsaved') === null;
        }""",
        arg=before,
    )


def autosave_answer(page: Page, q: Question, value: Any) -> None:
    """Answer `q` and wait until the autosave has stored it."""
    before = current_version(page)
    answer(page, q, value)
    wait_saved(page, before)


def save_and_continue(page: Page) -> None:
    """Post the section and wait for the next page to be loaded (with JavaScript, the form
    first waits for pending autosaves)."""
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer et continuer").click()


def stored(engine: Engine, assessment_id: int) -> Assessment:
    """The assessment as the database holds it now (a fresh session)."""
    with Session(engine) as session:
        assessment = session.get(Assessment, assessment_id)
        assert assessment is not None
        session.expunge(assessment)
        return assessment


def eventually_stored(
    engine: Engine, assessment_id: int, expected: Mapping[str, Any], timeout: float = 10.0
) -> None:
    """Wait until the stored answers equal `expected` (saves still in flight may land)."""
    deadline = time.monotonic() + timeout
    answers: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answers = dict(stored(engine, assessment_id).answers)
        if answers == dict(expected):
            return
        time.sleep(0.1)
    raise AssertionError(f"stored answers {answers!r} != expected {dict(expected)!r}")
