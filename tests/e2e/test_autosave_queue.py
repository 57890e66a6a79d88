"""Autosave in Chromium, what only the script does: quick answers leave one at a time in the
order they were given; a value typed but not saved yet survives a refresh of its question and
meets the other tab's value in a conflict ("Garder la valeur enregistrée"); a link waits for
pending saves; a draft submitted meanwhile is reported, nothing is saved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlmodel import Session

from app.assessments.models import Assessment
from app.db import utcnow
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account, LiveServer
from tests.e2e.helpers import (
    answer,
    autosave_answer,
    current_version,
    eventually_stored,
    login,
    question,
    question_box,
    start_assessment,
    start_in_two_tabs,
    stored,
    wait_saved,
)

pytestmark = pytest.mark.e2e

CAPACITE = "Capacité de la structure (places autorisées ou personnes accompagnées)"


def test_quick_answers_leave_one_at_a_time_in_the_order_given(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    login(page, director.email, director.password)
    assessment_id = start_assessment(page, director.structure_name)
    before = current_version(page)
    answer(page, question("public_accueilli"), "personnes_agees")
    answer(page, question("capacite"), 84)
    answer(page, question("modalite"), "hebergement")
    answer(page, question("effectif_etp"), 62.5)
    wait_saved(page, before)
    expected = {
        "public_accueilli": "personnes_agees",
        "capacite": 84,
        "modalite": "hebergement",
        "effectif_etp": 62.5,
    }
    eventually_stored(live_server.engine, assessment_id, expected)
    saved = stored(live_server.engine, assessment_id)
    # One request per answer, each on the version the previous one made.
    assert {qid: saved.answer_meta[qid]["revision"] for qid in expected} == {
        "public_accueilli": 1,
        "capacite": 2,
        "modalite": 3,
        "effectif_etp": 4,
    }
    expect(page.locator("#assessment-version")).to_have_value("4")


def test_unsaved_value_survives_a_refresh_and_the_saved_value_can_be_kept(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    assessment_id, other = start_in_two_tabs(
        page, director.email, director.password, director.structure_name
    )
    autosave_answer(other, question("capacite"), 40)

    # Typed, not sent yet (no change event); a radio saved meanwhile brings back the other
    # tab's capacity: the field keeps what was typed, then its save meets the conflict.
    field = question_box(page, "capacite").get_by_role("textbox")
    field.fill("12")
    answer(page, question("modalite"), "hebergement")
    alert = page.locator("#autosave-conflict-capacite")
    expect(alert).to_contain_text(f"Réponse modifiée entre-temps : « {CAPACITE} »")
    expect(alert).to_contain_text("Votre saisie : 12")
    expect(alert).to_contain_text(": 40")
    expect(alert).to_be_focused()
    expect(field).to_have_value("12")
    assert_accessible(page)
    eventually_stored(
        live_server.engine, assessment_id, {"capacite": 40, "modalite": "hebergement"}
    )

    alert.get_by_role("button", name="Garder la valeur enregistrée").click()
    expect(alert).to_have_count(0)
    expect(field).to_have_value("40")
    expect(field).to_be_focused()
    expect(page.locator("#save-status-text")).to_have_text(
        f"Valeur enregistrée conservée pour « {CAPACITE} »"
    )

    # A later change is based on the kept value: saved, no conflict.
    before = current_version(page)
    answer(page, question("capacite"), 50)
    wait_saved(page, before)
    assert stored(live_server.engine, assessment_id).answers == {
        "capacite": 50,
        "modalite": "hebergement",
    }
    other.close()


def test_a_link_waits_for_the_pending_save(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    login(page, director.email, director.password)
    assessment_id = start_assessment(page, director.structure_name)
    question_box(page, "capacite").get_by_role("textbox").fill("84")  # still being typed
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"^2\. Équipements")).click()
    expect(page).to_have_url(re.compile(rf"/evaluations/{assessment_id}/sections/s-equipement"))
    assert stored(live_server.engine, assessment_id).answers == {"capacite": 84}


def test_a_save_after_the_draft_was_submitted_elsewhere_is_refused_with_an_alert(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    login(page, director.email, director.password)
    assessment_id = start_assessment(page, director.structure_name)
    with Session(live_server.engine) as session:
        session.execute(
            update(Assessment)
            .where(Assessment.id == assessment_id)  # type: ignore[arg-type]
            .values(status="submitted", submitted_at=utcnow())
        )
        session.commit()

    answer(page, question("modalite"), "hebergement")
    alert = page.locator("#autosave-alerts").get_by_role("alert")
    expect(alert).to_contain_text("Évaluation déjà transmise")
    expect(alert).to_be_focused()
    expect(page.locator("#save-status-text")).to_have_text("Non enregistré : évaluation transmise")
    expect(question_box(page, "modalite")).to_have_class(re.compile("palier-question--unsaved"))
    assert_accessible(page)
    assert stored(live_server.engine, assessment_id).answers == {}
