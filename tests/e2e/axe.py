"""axe-core (bundled by axe-playwright-python) run in the page: no serious or critical
violation allowed, with a readable report otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axe_playwright_python.sync_playwright import Axe

if TYPE_CHECKING:
    from playwright.sync_api import Page

BLOCKING_IMPACTS = ("serious", "critical")
# WCAG 2.0/2.1 A and AA rules (RGAA 4.1 maps onto WCAG 2.1 AA), plus axe best practices.
RUN_OPTIONS: dict[str, Any] = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
}

_axe = Axe()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """All axe violations on the page as it is now (every impact)."""
    results = _axe.run(page, options=RUN_OPTIONS)
    return list(results.response["violations"])


def format_violations(violations: list[dict[str, Any]], url: str) -> str:
    lines = [f"axe: {len(violations)} serious/critical violation(s) on {url}"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}: {summary[:300]}")
            lines.append(f"       {' '.join(node['html'].split())[:200]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    ... and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail when axe finds a serious or critical violation on the page in its current state."""
    blocking = [v for v in axe_violations(page) if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, format_violations(blocking, page.url)
