"""Browser end-to-end tests: a live server and Playwright driving Debian's Chromium.

Every test under tests/e2e is marked `e2e` (added here, also declared in each module).

Running rules:
- PALIER_TEST_E2E=1 (CI, `.ci/run`): the tests run or fail; a missing Chromium or Playwright
  is an error, never a skip.
- unset: they run too when Chromium is there (/usr/bin/chromium, or PALIER_E2E_CHROMIUM);
  without it they are skipped with the reason. Deselect them with `-m "not e2e"`.

The server is `uvicorn app.main:create_app --factory` in a subprocess (its own settings
cache and engine, untouched by the in-process fixtures) on 127.0.0.1 and a free port, with
PALIER_ENV=test, against a fresh migrated database: a SQLite file by default (the
`make run` deployment), or a temporary PostgreSQL database when PALIER_E2E_DATABASE=postgresql
(needs PALIER_TEST_DATABASE_URL). Tests seed data through `db` (a real Session: commits are
real and visible to the server) and each creates its own accounts and structures, so tests
do not depend on each other.

Playwright's sync API marks an asyncio loop as running in the main thread while it is alive,
which breaks `asyncio.run()` in later tests: the server, Playwright and the browser are
package-scoped, so they stop as soon as the tests of tests/e2e are done.

    live_server   LiveServer(url, database_url, engine, log_path)    (package)
    browser       Chromium launched once                              (package)
    context       a fresh BrowserContext per test (base_url = the server)
    page          a page of that context; on failure a screenshot, the HTML and the server
                  log are saved under var/e2e-artifacts/<test> (PALIER_E2E_ARTIFACTS)
    db            a Session on the server's database
    director      a new structure and its director account (Account)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session

from tests.conftest import PG_URL, temporary_database
from tests.factories import DEFAULT_PASSWORD, make_structure, make_user
from tests.live import LiveServer, run_server, server_env  # noqa: F401 (used by tests)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright

ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
E2E_REQUIRED = os.environ.get("PALIER_TEST_E2E", "").strip() == "1"
CHROMIUM = os.environ.get("PALIER_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 15_000
# Screenshots and HTML of failed tests (var/ is ignored by git).
ARTIFACTS = Path(os.environ.get("PALIER_E2E_ARTIFACTS", ROOT / "var" / "e2e-artifacts"))


def chromium_available() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = None
    if not E2E_REQUIRED and not chromium_available():
        skip = pytest.mark.skip(
            reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium); "
            "set PALIER_TEST_E2E=1 to make this an error"
        )
    for item in items:
        if E2E_DIR not in item.path.parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if skip is not None:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Lets the page fixture know whether the test failed (to save artifacts).
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


# --- live server --------------------------------------------------------------------------


def _server_database(tmp: Path) -> Any:
    """Context manager yielding the URL of a fresh migrated database for the server."""
    backend = os.environ.get("PALIER_E2E_DATABASE", "sqlite").strip() or "sqlite"
    if backend == "postgresql" and not PG_URL:
        pytest.fail("PALIER_E2E_DATABASE=postgresql needs PALIER_TEST_DATABASE_URL")
    if backend not in ("sqlite", "postgresql"):
        pytest.fail(f"PALIER_E2E_DATABASE must be sqlite or postgresql, not {backend!r}")
    return temporary_database(backend, tmp, migrate=True)


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("e2e-server")
    with _server_database(tmp) as database_url, run_server(database_url, tmp) as server:
        yield server


@pytest.fixture
def db(live_server: LiveServer) -> Iterator[Session]:
    """A session on the server's database; commits are real (the server sees them)."""
    with Session(live_server.engine, expire_on_commit=False) as session:
        yield session


@dataclass
class Account:
    email: str
    password: str
    user_id: int
    structure_id: int
    structure_name: str
    finess: str
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def director(db: Session) -> Account:
    """A new EHPAD and a director account linked to it (unique per test)."""
    structure = make_structure(db, name=f"EHPAD Les Tilleuls {_unique()}", category_code="500")
    user = make_user(db, role="director", structures=[structure], name="Claire Martin")
    assert user.id is not None and structure.id is not None
    account = Account(
        email=user.email,
        password=DEFAULT_PASSWORD,
        user_id=user.id,
        structure_id=structure.id,
        structure_name=structure.name,
        finess=structure.finess,
    )
    # End the read transaction left by refresh(): on SQLite a session that read before
    # another connection wrote cannot write afterwards ("database is locked").
    db.commit()
    return account


_counter = iter(range(1, 1_000_000))


def _unique() -> int:
    return next(_counter)


# --- browser ------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    if not chromium_available():
        pytest.fail(
            f"PALIER_TEST_E2E=1 but Chromium is missing at {CHROMIUM}: "
            "apt-get install -y chromium (or set PALIER_E2E_CHROMIUM)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # the dev extra is not installed
        pytest.fail(f"playwright is not importable ({exc}): pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def new_context(browser: Browser, live_server: LiveServer, **kwargs: Any) -> BrowserContext:
    """A browser context on the live server, French locale, Paris time, downloads allowed."""
    options: dict[str, Any] = {
        "base_url": live_server.url,
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
        "accept_downloads": True,
        "viewport": {"width": 1280, "height": 900},
        **kwargs,
    }
    context = browser.new_context(**options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = new_context(browser, live_server)
    yield context
    context.close()


class PageErrors:
    """Uncaught JavaScript errors and CSP refusals seen by the pages of a test."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("console", self._on_console)
        return page

    def _on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" and "Content Security Policy" in text:
            self.errors.append(f"CSP: {text}")


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    context: BrowserContext,
    page_errors: PageErrors,
    live_server: LiveServer,
) -> Iterator[Page]:
    page = page_errors.watch(context.new_page())
    yield page
    if request.node.stash.get(_FAILED, False):
        save_artifacts(page, ARTIFACTS / _safe_name(request.node.name), live_server)
    else:
        assert page_errors.errors == [], "JavaScript errors:\n" + "\n".join(page_errors.errors)


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)[:120]


def save_artifacts(page: Page, directory: Path, live_server: LiveServer) -> None:
    """Screenshot, HTML and the server log tail of a failed test (paths printed)."""
    try:
        if page.is_closed():
            return
        directory.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=directory / "failure.png", full_page=True)
        (directory / "failure.html").write_text(page.content())
        (directory / "server.log").write_text(live_server.log_tail(200))
        print(f"e2e artifacts for {page.url}: {directory}")
    except Exception as exc:  # never hide the real failure
        print(f"could not save e2e artifacts: {exc}")
