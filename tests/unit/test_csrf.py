"""CSRF primitives, exemption rules, and the local-path check of login redirects."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.requests import Request

from app.accounts.tokens import token_hash, tokens_match
from app.web.auth_deps import local_path, login_url
from app.web.security import (
    csrf_exempt,
    new_anonymous_csrf_token,
    submitted_csrf_token,
    valid_anonymous_csrf_token,
)

KEY = "a-test-secret-key-of-at-least-32-characters"


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on its own loop, in a thread: another test (Playwright's sync API)
    may leave an event loop running in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def make_request(
    method: str = "POST", path: str = "/x", headers: dict[str, str] | None = None, body: bytes = b""
) -> Request:
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": raw_headers,
        "query_string": b"",
        "scheme": "http",
        "server": ("testserver", 80),
    }
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def test_token_hash_is_sha256_hex() -> None:
    assert token_hash("abc") == ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_anonymous_token_is_signed() -> None:
    token = new_anonymous_csrf_token(KEY)
    value, dot, signature = token.partition(".")
    assert dot == "." and len(value) >= 43 and len(signature) == 64
    assert valid_anonymous_csrf_token(KEY, token)
    assert new_anonymous_csrf_token(KEY) != token  # random


@pytest.mark.parametrize("bad", [None, "", ".", "abc", "abc.", ".abc", "abc.def"])
def test_malformed_anonymous_tokens(bad: str | None) -> None:
    assert not valid_anonymous_csrf_token(KEY, bad)


def test_anonymous_token_of_another_key_or_tampered() -> None:
    token = new_anonymous_csrf_token(KEY)
    assert not valid_anonymous_csrf_token("another-secret-key-of-32-characters-xx", token)
    value, _, signature = token.partition(".")
    assert not valid_anonymous_csrf_token(KEY, value + "x." + signature)
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert not valid_anonymous_csrf_token(KEY, f"{value}.{flipped}")


@pytest.mark.parametrize(
    ("expected", "given", "match"),
    [
        ("abc", "abc", True),
        ("abc", "abd", False),
        ("abc", "ab", False),
        ("", "", False),
        (None, None, False),
        ("abc", None, False),
        (None, "abc", False),
        ("abc", "àbc", False),  # non-ASCII input does not raise
    ],
)
def test_tokens_match(expected: str | None, given: str | None, match: bool) -> None:
    assert tokens_match(expected, given) is match


@pytest.mark.parametrize(
    ("method", "path", "cookie", "bearer", "exempt"),
    [
        ("GET", "/structures", True, False, True),
        ("HEAD", "/", True, False, True),
        ("OPTIONS", "/api/v1/me", True, False, True),
        ("POST", "/connexion", False, False, False),
        ("POST", "/deconnexion", True, False, False),
        ("PATCH", "/api/v1/assessments/1/answers", True, False, False),
        ("PATCH", "/api/v1/assessments/1/answers", False, False, True),
        ("PATCH", "/api/v1/assessments/1/answers", False, True, True),
        ("PATCH", "/api/v1/assessments/1/answers", True, True, True),
        ("DELETE", "/api/v1/auth/token", False, True, True),
        ("POST", "/structures/1/evaluation", False, True, True),
        ("PUT", "/structures/1", True, False, False),
    ],
)
def test_csrf_exemptions(method: str, path: str, cookie: bool, bearer: bool, exempt: bool) -> None:
    headers = {"cookie": "palier_session=abc"} if cookie else {}
    assert csrf_exempt(make_request(method, path, headers), bearer=bearer) is exempt


def test_submitted_token_from_header_then_form() -> None:
    header = make_request(
        headers={
            "X-CSRF-Token": "from-header",
            "content-type": "application/x-www-form-urlencoded",
        },
        body=b"csrf_token=from-form",
    )
    assert run(submitted_csrf_token(header)) == "from-header"
    form = make_request(
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"a=1&csrf_token=from-form",
    )
    assert run(submitted_csrf_token(form)) == "from-form"
    json_body = make_request(
        headers={"content-type": "application/json"}, body=b'{"csrf_token": "ignored"}'
    )
    assert run(submitted_csrf_token(json_body)) is None
    none = make_request(headers={"content-type": "application/x-www-form-urlencoded"}, body=b"a=1")
    assert run(submitted_csrf_token(none)) is None


def test_form_stays_readable_after_the_check() -> None:
    request = make_request(
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"email=a%40b.fr&csrf_token=t",
    )

    async def check_then_read() -> object:
        assert await submitted_csrf_token(request) == "t"
        form = await request.form()
        return form["email"]

    assert run(check_then_read()) == "a@b.fr"


@pytest.mark.parametrize(
    ("target", "result"),
    [
        ("/", "/"),
        ("/structures/750000001", "/structures/750000001"),
        ("/a?b=c&d=e#f", "/a?b=c&d=e#f"),
        (None, None),
        ("", None),
        ("structures", None),
        ("//evil.example", None),
        ("///evil.example", None),
        ("/\\evil.example", None),
        ("\\\\evil.example", None),
        ("https://evil.example/x", None),
        ("javascript:alert(1)", None),
        ("/ok\r\nSet-Cookie: x=y", None),
        ("/ok\x00", None),
    ],
)
def test_local_path(target: str | None, result: str | None) -> None:
    assert local_path(target) == result


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("/admin/utilisateurs", "/connexion?suivant=/admin/utilisateurs"),
        ("/a?b=c&d=e", "/connexion?suivant=/a%3Fb%3Dc%26d%3De"),
        ("/", "/connexion"),
        (None, "/connexion"),
        ("https://evil.example", "/connexion"),
    ],
)
def test_login_url(target: str | None, url: str) -> None:
    assert login_url(target) == url
