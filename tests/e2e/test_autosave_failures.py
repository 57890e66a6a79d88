"""Autosave failures in Chromium: the network cut, the session expired, a conflicting save
from another tab. Each shows a focused alert (role=alert); nothing is lost or overwritten."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import update
from sqlmodel import Session

from app.accounts.models import AuthSession
from app.db import utcnow
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account, LiveServer
from tests.e2e.helpers import (
    answer,
    autosave_answer,
    expect_answer,
    login,
    question,
    question_box,
    start_assessment,
    start_in_two_tabs,
    stored,
    submit_login_form,
)

pytestmark = pytest.mark.e2e


def test_save_while_offline_shows_alert_and_is_sent_when_back_online(
    page: Page, context: BrowserContext, director: Account, live_server: LiveServer
) -> None:
    login(page, director.email, director.password)
    assessment_id = start_assessment(page, director.structure_name)
    autosave_answer(page, question("public_accueilli"), "personnes_agees")

    context.set_offline(True)
    answer(page, question("modalite"), "hebergement")
    alert = page.locator("#autosave-alerts").get_by_role("alert")
    expect(alert).to_contain_text("Connexion perdue : réponses non enregistrées")
    expect(alert).to_contain_text(
        "Réponse en attente : Sous quelle modalité la structure accompagne-t-elle les personnes ?"
    )
    expect(alert).to_be_focused()
    expect(page.locator("#save-status-text")).to_have_text("Réponses non enregistrées")
    expect(question_box(page, "modalite")).to_have_class(re.compile("palier-question--unsaved"))
    # Still offline: another answer waits in the queue too.
    answer(page, question("medicalisation"), "equipe_medicale")
    assert_accessible(page)  # the page with its failure alert
    assert stored(live_server.engine, assessment_id).answers == {
        "public_accueilli": "personnes_agees"
    }

    context.set_offline(False)  # the browser's `online` event: the queue is sent
    expect(page.locator("#save-status-text")).to_have_text(re.compile(r"^Enregistré à"))
    recovered = page.locator("#autosave-failure")
    expect(recovered).to_have_attribute("role", "status")
    expect(recovered).to_contain_text("Enregistrement rétabli")
    expect(page.locator(".palier-question--unsaved")).to_have_count(0)
    assert stored(live_server.engine, assessment_id).answers == {
        "public_accueilli": "personnes_agees",
        "modalite": "hebergement",
        "medicalisation": "equipe_medicale",
    }

    page.reload()
    expect_answer(page, question("modalite"), "hebergement")
    expect_answer(page, question("medicalisation"), "equipe_medicale")


def test_save_after_session_expired_shows_alert_and_is_saved_after_login_elsewhere(
    page: Page,
    context: BrowserContext,
    director: Account,
    live_server: LiveServer,
) -> None:
    login(page, director.email, director.password)
    assessment_id = start_assessment(page, director.structure_name)
    autosave_answer(page, question("public_accueilli"), "personnes_agees")

    # The session reaches its absolute limit while the page stays open.
    with Session(live_server.engine) as session:
        session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == director.user_id)  # type: ignore[arg-type]
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()

    answer(page, question("capacite"), 84)
    alert = page.locator("#autosave-alerts").get_by_role("alert")
    expect(alert).to_contain_text("Session expirée : réponses non enregistrées")
    expect(alert).to_contain_text("Réponse en attente : Capacité de la structure")
    expect(alert).to_be_focused()
    assert_accessible(page)
    assert "capacite" not in stored(live_server.engine, assessment_id).answers
    # The typed value stays on the page.
    expect(question_box(page, "capacite").get_by_role("textbox")).to_have_value("84")

    # Log in again in another tab of the same browser, from the alert's link.
    with context.expect_page() as new_tab:
        alert.get_by_role("link", name="Se reconnecter (nouvel onglet)").click()
    other = new_tab.value
    expect(other).to_have_url(re.compile(r"/connexion\?suivant="))
    submit_login_form(other, director.email, director.password)
    expect(other).to_have_url(re.compile(rf"/evaluations/{assessment_id}/sections/s-profil"))
    other.close()

    page.bring_to_front()
    alert.get_by_role("button", name="Réessayer").click()
    expect(page.locator("#save-status-text")).to_have_text(re.compile(r"^Enregistré à"))
    expect(page.locator("#autosave-failure")).to_contain_text("Enregistrement rétabli")
    saved = stored(live_server.engine, assessment_id)
    assert saved.answers == {"public_accueilli": "personnes_agees", "capacite": 84}
    assert saved.answer_meta["capacite"]["by"] == director.user_id


def test_conflicting_save_from_another_tab_shows_both_values_and_overwrites_nothing(
    page: Page, director: Account, live_server: LiveServer
) -> None:
    assessment_id, other = start_in_two_tabs(
        page, director.email, director.password, director.structure_name
    )

    autosave_answer(page, question("modalite"), "hebergement")
    answer(other, question("modalite"), "domicile")

    alert = other.locator("#autosave-alerts").get_by_role("alert")
    expect(alert).to_contain_text(
        "Réponse modifiée entre-temps : « Sous quelle modalité la structure accompagne-t-elle "
        "les personnes ? »"
    )
    expect(alert).to_contain_text("Votre saisie : Intervention au domicile des personnes")
    expect(alert).to_contain_text(
        "Valeur enregistrée par vous-même (dans un autre onglet ou une autre fenêtre)"
    )
    expect(alert).to_contain_text(": Hébergement (internat, résidence)")
    expect(alert).to_be_focused()
    assert_accessible(other)
    assert stored(live_server.engine, assessment_id).answers == {"modalite": "hebergement"}

    alert.get_by_role("button", name="Réappliquer ma saisie").click()
    expect(other.locator("#save-status-text")).to_have_text(re.compile(r"^Enregistré à"))
    expect(alert).to_have_count(0)
    assert stored(live_server.engine, assessment_id).answers == {"modalite": "domicile"}
