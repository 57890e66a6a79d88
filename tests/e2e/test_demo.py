"""The README path: `palier db upgrade`, `palier demo --if-empty` (what `make run` does), then
the demo director logs in with the documented account and reaches a result page. axe on the
pages as they look with realistic data, desktop and 360 px."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import temporary_database
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import ROOT, LiveServer, PageErrors, new_context, run_server, server_env
from tests.e2e.helpers import SECTION_URL, login

pytestmark = pytest.mark.e2e

PALIER_CLI = str(Path(sys.executable).parent / "palier")
DEMO_DIRECTOR = "directeur@demo.palier.fr"
DEMO_PASSWORD = "demo-palier-2026"  # documented in README.md


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("e2e-demo")
    with temporary_database("sqlite", tmp, migrate=False) as url:
        env = server_env(url, tmp)
        for command in (["db", "upgrade"], ["demo", "--if-empty"]):
            done = subprocess.run(
                [PALIER_CLI, *command], env=env, cwd=ROOT, capture_output=True, text=True
            )
            assert done.returncode == 0, f"palier {' '.join(command)}:\n{done.stderr}"
        with run_server(url, tmp) as server:
            yield server


@pytest.fixture
def demo_page(browser: Browser, demo_server: LiveServer, page_errors: PageErrors) -> Iterator[Page]:
    context = new_context(browser, demo_server)
    yield page_errors.watch(context.new_page())
    context.close()
    assert page_errors.errors == [], "JavaScript errors:\n" + "\n".join(page_errors.errors)


def check_accessible_desktop_and_narrow(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_demo_director_reaches_a_result_page(demo_page: Page) -> None:
    page = demo_page
    login(page, DEMO_DIRECTOR, DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/mes-structures$"))
    # README: six structures of one organisme gestionnaire.
    expect(page.locator("main").get_by_role("heading", level=2)).to_have_count(6)
    check_accessible_desktop_and_narrow(page)

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"^Voir le résultat")).first.click()
    expect(page).to_have_url(re.compile(r"/evaluations/\d+/resultat$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Résultat de l’autodiagnostic")
    badge = page.get_by_role("region", name="Votre palier").locator(".palier-badge")
    expect(badge).to_have_text(re.compile(r"^Palier [0-4] — "))
    expect(page.get_by_role("region", name="Prochaines étapes")).to_be_visible()
    check_accessible_desktop_and_narrow(page)


def test_demo_director_resumes_a_draft(demo_page: Page) -> None:
    page = demo_page
    login(page, DEMO_DIRECTOR, DEMO_PASSWORD)
    resume = page.get_by_role("button", name=re.compile(r"^Reprendre l’évaluation de "))
    expect(resume.first).to_be_visible()
    with page.expect_navigation():
        resume.first.click()
    expect(page).to_have_url(SECTION_URL)
    expect(page.locator("#progress-label")).to_contain_text(re.compile(r"Section \d+ sur 8"))
    check_accessible_desktop_and_narrow(page)
