"""The browser tooling itself: the axe helper does report violations (it is not a no-op)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.e2e

BAD_PAGE = """<!doctype html><html><head><title>t</title></head><body><main>
<h1>Formulaire</h1><form><input type="text" id="x"><button type="submit"></button></form>
</main></body></html>"""


def test_axe_helper_reports_serious_violations(page: Page) -> None:
    page.set_content(BAD_PAGE)
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    report = str(failure.value)
    assert "html-has-lang (serious)" in report
    assert "button-name (critical)" in report
    assert "label (critical)" in report
    assert "at #x:" in report
    assert "https://dequeuniversity.com/rules/axe/" in report
