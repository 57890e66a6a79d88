"""In Chromium: the trend chart of a structure's submissions and the like-for-like position
chart (demo data) are axe clean, and the result page loads the position block."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.structures.models import Structure
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import Account
from tests.e2e.helpers import login
from tests.e2e.test_demo import demo_page, demo_server  # noqa: F401
from tests.e2e.test_mobile_360 import demo_login
from tests.integration.test_trend import submission

pytestmark = pytest.mark.e2e


def test_trend_on_the_structure_page(page: Page, db: Session, director: Account) -> None:
    s = db.get(Structure, director.structure_id)
    assert s is not None
    submission(db, s, datetime(2026, 3, 2, 9, tzinfo=UTC), 2, 40.0, 50.0)
    aid = submission(db, s, datetime(2026, 9, 14, 9, tzinfo=UTC), 3, 60.0, 75.0)
    login(page, director.email, director.password)
    page.goto(f"/structures/{director.finess}")
    expect(page.get_by_role("img", name="Évolution des scores de la structure")).to_be_visible()
    assert_accessible(page)
    page.goto(f"/evaluations/{aid}/resultat")
    expect(page.locator("#comparaison h2")).to_have_text(
        "Comparaison avec des structures semblables")
    assert_accessible(page)


def test_position_chart_on_demo_data(demo_page: Page) -> None:  # noqa: F811
    page = demo_page
    demo_login(page, "ars@demo.palier.fr")
    page.goto("/regions/84/structures")
    href = page.locator("main a[href^='/structures/']").first.get_attribute("href")
    page.goto(f"{href}/comparaison")
    expect(page.locator("svg.palier-chart").first).to_be_visible()
    assert_accessible(page)
