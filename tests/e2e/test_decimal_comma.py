"""Issue 10: typing « 62,5 » in the ETP field saved 625 (Chromium's type="number" input read the
comma as a thousands separator before the page saw it). Typed key by key, as a person does."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account, LiveServer
from tests.e2e.helpers import (
    current_version,
    login,
    question_box,
    start_assessment,
    stored,
    wait_saved,
)

pytestmark = pytest.mark.e2e


def type_in(page: Page, qid: str, text: str) -> None:
    field = question_box(page, qid).get_by_role("textbox")
    field.click()
    field.press("Control+A")
    field.press("Delete")
    field.press_sequentially(text)
    field.press("Tab")


def test_decimal_comma_is_saved_and_shown_back_the_french_way(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    login(page, director.email, director.password)
    assessment_id = start_assessment(page, director.structure_name)
    etp = question_box(page, "effectif_etp").get_by_role("textbox")

    before = current_version(page)
    type_in(page, "effectif_etp", "62,5")
    wait_saved(page, before)
    expect(page.locator("#save-status-text")).to_have_text(re.compile(r"^Enregistré"))
    assert stored(live_server.engine, assessment_id).answers == {"effectif_etp": 62.5}

    page.reload()
    expect(etp).to_have_value("62,5")

    # Thousands with a space, in another field.
    before = current_version(page)
    type_in(page, "capacite", "1 234")
    wait_saved(page, before)
    assert stored(live_server.engine, assessment_id).answers == {
        "effectif_etp": 62.5, "capacite": 1234,
    }
    assert_accessible(page)


def test_ambiguous_number_is_refused_with_a_message_and_nothing_saved(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    login(page, director.email, director.password)
    assessment_id = start_assessment(page, director.structure_name)
    type_in(page, "effectif_etp", "62,5,3")
    box = question_box(page, "effectif_etp")
    expect(box).to_contain_text("Saisissez un nombre avec une seule virgule pour les décimales")
    etp = box.get_by_role("textbox")
    expect(etp).to_have_attribute("aria-invalid", "true")
    expect(etp).to_have_value("62,5,3")  # what was typed stays, to be corrected
    assert stored(live_server.engine, assessment_id).answers == {}
    assert_accessible(page)

    # Corrected: saved, the error goes away.
    before = current_version(page)
    type_in(page, "effectif_etp", "62,5")
    wait_saved(page, before)
    expect(box.locator(".fr-message--error")).to_have_count(0)
    assert stored(live_server.engine, assessment_id).answers == {"effectif_etp": 62.5}
