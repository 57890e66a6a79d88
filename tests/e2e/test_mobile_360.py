"""At 360 px wide no page is wider than the screen (issue 10): wide tables scroll inside
their own region, pages never. For each role of the demo dataset (README accounts), the test
visits the role's menu and every kind of page reachable from it by a link (one URL per
kind: numbers in the path stand for any record), plus the draft's pages, the region
comparison and an organisme page, and fails listing every page whose document is wider than
the 360 px viewport or whose charts' labels render smaller than 10 px."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Page

from tests.e2e.helpers import login
from tests.e2e.test_demo import DEMO_PASSWORD, demo_page, demo_server  # noqa: F401

pytestmark = pytest.mark.e2e

WIDTH = 360
ACCOUNTS = {
    "director": "directeur@demo.palier.fr",
    "ars": "ars@demo.palier.fr",
    "committee": "comite@demo.palier.fr",
    "admin": "admin@demo.palier.fr",
}
SKIP = re.compile(r"\.(csv|xlsx|pdf)$|/fichier$|^/preuves/|^/docs|^/metrics|^/deconnexion"
                  r"|^/connexion|^/api/|^/(accessibilite|mentions-legales|donnees-personnelles)$")
MAX_PAGES = 45


def demo_login(page: Page, email: str) -> None:
    """Log a demo account in; an ARS, committee or admin account enrols its second factor
    at its first login (a fresh demo database per module), as a person would."""
    login(page, email, DEMO_PASSWORD, totp_secret=None)
    if urlsplit(page.url).path == "/connexion/activation":
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.get_by_label("Code à 6 chiffres affiché par l’application").fill(
            pyotp.TOTP(secret).now())
        with page.expect_navigation():
            page.get_by_role("button", name="Activer").click()
        page.get_by_role("link", name="J’ai conservé mes codes, continuer").click()
        page.wait_for_load_state()


def kind(path: str) -> str:
    """/evaluations/12/resultat and /evaluations/40/resultat are the same kind of page."""
    return re.sub(r"\d+", "N", path)


def links(page: Page) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        "main a[href], header nav a[href]", "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        parts = urlsplit(href or "")
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if not SKIP.search(parts.path):
            out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


CULPRITS = """() => {
  const w = window.innerWidth, out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right <= w + 1 || r.width === 0) continue;
    const p = el.parentElement && el.parentElement.getBoundingClientRect();
    if (p && p.right > w + 1) continue;
    out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
             + (el.className && typeof el.className === "string"
                ? "." + el.className.trim().split(/\\s+/).join(".") : ""));
  }
  return out.slice(0, 3);
}"""


# The smallest rendered size of a chart's base font (13 px in the SVG's own units).
CHART_FONT = """() => Math.min(999, ...[...document.querySelectorAll("svg.palier-chart")].map(
  svg => svg.getBoundingClientRect().width / svg.viewBox.baseVal.width
         * parseFloat(svg.getAttribute("font-size"))))"""
MIN_FONT = 10  # px


def crawl(page: Page, start: list[str]) -> tuple[list[str], list[str]]:
    """Visit `start` then one URL of each kind of page linked; (visited, too wide)."""
    queue, seen, visited, wide = list(start), set(), [], []
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        key = kind(urlsplit(url).path)
        if key in seen:
            continue
        seen.add(key)
        response = page.goto(url)
        if response is None or response.status >= 400:
            continue
        visited.append(url)
        if (extra := overflow(page)) > 0:
            wide.append(f"{url}: {extra} px too wide ({', '.join(page.evaluate(CULPRITS))})")
        if (font := float(page.evaluate(CHART_FONT))) < MIN_FONT:
            wide.append(f"{url}: chart labels at {font:.1f} px")
        found = links(page)
        if m := re.match(r"/evaluations/(\d+)/resultat$", url):  # its review loads by htmx
            found.append(f"/evaluations/{m.group(1)}/revue")
        queue += [u for u in found if kind(urlsplit(u).path) not in seen]
    return visited, wide


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_no_page_is_wider_than_360_px(demo_page: Page, role: str) -> None:  # noqa: F811
    page = demo_page
    page.set_viewport_size({"width": WIDTH, "height": 740})
    demo_login(page, ACCOUNTS[role])
    start = [urlsplit(page.url).path]
    if role == "director":  # the draft's pages are behind the "Reprendre" button (a POST)
        page.get_by_role("button", name=re.compile(r"^Reprendre l’évaluation de ")).first.click()
        page.wait_for_url(re.compile(r"/evaluations/\d+/sections/"))
        path = urlsplit(page.url).path
        start += [path, path.split("/sections/")[0] + "/transmettre"]
    if role in ("ars", "admin"):
        page.goto("/regions/84/structures")
        finess = re.findall(r"/structures/(\d{9})\b", page.content())[:3]
        start.append("/regions/84/comparer?" + "&".join(f"finess={f}" for f in finess))
        start.append(f"/structures/{finess[0]}/comparaison")
        if role == "admin":  # the organisme page is linked from the structure's admin page
            page.goto(f"/admin/structures/{finess[0]}")
            start.append(f"/admin/structures/{finess[0]}")
            start += re.findall(r'href="(/organismes/\d{9})"', page.content())[:1]
    visited, wide = crawl(page, start)
    assert len(visited) >= 4, visited
    assert wide == [], "Pages wider than 360 px:\n" + "\n".join(wide)
