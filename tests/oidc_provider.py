"""The real OpenID Connect provider of the tests (tests/oidc/provider.mjs, npm `oidc-provider`):
start it on a free loopback port, and play the browser's part on its pages.

    with running_provider(public_url) as issuer: ...
    callback = provider_login(browser, authorize_url, "agent@ars.sante.fr")  # Palier URL

`npm ci --prefix tests/oidc` installs it (.ci/run does).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import httpx

from tests.live import stop_process

DIR = Path(__file__).parent / "oidc"
CLIENT_ID = "palier-test"
CLIENT_SECRET = "palier-test-secret-0123456789"


@contextmanager
def running_provider(public_url: str, **env: str) -> Iterator[str]:
    """A provider whose client accepts Palier at `public_url`; yields its issuer URL."""
    if not (DIR / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(
            "the test OpenID Connect provider is not installed: run `npm ci --prefix tests/oidc`"
        )
    process = subprocess.Popen(
        ["node", str(DIR / "provider.mjs")],
        cwd=DIR,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={
            **os.environ,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REDIRECT_URIS": f"{public_url}/proconnect/retour",
            "OIDC_POST_LOGOUT_REDIRECT_URIS": f"{public_url}/proconnect/deconnecte",
            **env,
        },
    )
    try:
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(process.stdout.readline() if process.stdout else "")
        )
        reader.start()
        reader.join(90)  # a loaded machine starts node slowly
        if not line or not line[0].strip():
            process.kill()
            raise RuntimeError(
                "the test OpenID Connect provider did not start: "
                + (process.stderr.read() if process.stderr else "")
            )
        yield str(json.loads(line[0])["issuer"])
    finally:
        stop_process(process)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def follow_provider(
    browser: httpx.Client,
    response: httpx.Response,
    issuer: str,
) -> httpx.Response | str:
    """Follow redirects while they stay on the provider; a redirect elsewhere is returned as
    its URL (Palier's callback)."""
    while response.is_redirect:
        url = urljoin(str(response.url), response.headers["location"])
        if not url.startswith(issuer):
            return url
        response = browser.get(url)
    return response


def provider_login(browser: httpx.Client, authorize_url: str, issuer: str, email: str) -> str:
    """Open Palier's authorization URL at the provider, log in as `email` on its interaction
    page; the URL the provider sends the browser back to."""
    page = follow_provider(browser, browser.get(authorize_url), issuer)
    if isinstance(page, str):  # already logged in at the provider
        return page
    assert page.status_code == 200, page.text
    action = page.text.split('action="', 1)[1].split('"', 1)[0]
    done = follow_provider(
        browser, browser.post(urljoin(str(page.url), action), data={"login": email}), issuer
    )
    assert isinstance(done, str), done.text
    return done


def provider_logout(browser: httpx.Client, end_session_url: str, issuer: str) -> str:
    """Confirm the logout on the provider's page; the URL it sends the browser back to."""
    page = follow_provider(browser, browser.get(end_session_url), issuer)
    assert not isinstance(page, str) and page.status_code == 200, page
    form = page.text.split("<form", 1)[1].split("</form>", 1)[0]
    action = form.split('action="', 1)[1].split('"', 1)[0]
    xsrf = form.split('name="xsrf" value="', 1)[1].split('"', 1)[0]
    done = follow_provider(
        browser,
        browser.post(urljoin(str(page.url), action), data={"xsrf": xsrf, "logout": "yes"}),
        issuer,
    )
    assert isinstance(done, str), done
    return done
