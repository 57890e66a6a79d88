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


START_TIMEOUT_S = 60.0  # a loaded machine starts node slowly
START_ATTEMPTS = 2


def _start(public_url: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start the provider; its process and issuer URL. Both pipes are read by threads (stderr
    is drained so that node's warnings can never fill it and block the process)."""
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
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = process.stdout, process.stderr
    line: list[str] = []
    errors: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    threading.Thread(target=lambda: errors.extend(stderr), daemon=True).start()
    reader.start()
    reader.join(START_TIMEOUT_S)
    if line and line[0].strip():
        return process, str(json.loads(line[0])["issuer"])
    _stop(process)
    raise RuntimeError(
        f"the test OpenID Connect provider printed no issuer within {START_TIMEOUT_S:.0f} s "
        f"(exit code {process.returncode}); stderr: {''.join(errors)[-2000:]}"
    )


def _stop(process: subprocess.Popen[str]) -> None:
    stop_process(process)
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()


@contextmanager
def running_provider(public_url: str, **env: str) -> Iterator[str]:
    """A provider whose client accepts Palier at `public_url`; yields its issuer URL. A start
    that prints nothing in time is tried once more (seen once on a loaded CI machine)."""
    if not (DIR / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(
            "the test OpenID Connect provider is not installed: run `npm ci --prefix tests/oidc`"
        )
    for attempt in range(START_ATTEMPTS):
        try:
            process, issuer = _start(public_url, env)
            break
        except RuntimeError:
            if attempt + 1 == START_ATTEMPTS:
                raise
    try:
        yield issuer
    finally:
        _stop(process)


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
