"""HTTP security: response headers (CSP...), CSRF tokens, cookies.

CSRF contract (enforced by `app.web.auth_deps.load_user` on POST, PUT, PATCH and DELETE):
- a logged-in browser session has one token, `AuthSession.csrf_token`;
- an anonymous visitor gets a signed double-submit cookie `palier_csrf` whose value is the
  token (so the login and password-reset forms are protected too);
- the token of the current request is `request.state.csrf_token` (templates: `csrf_token`);
  send it back in the `X-CSRF-Token` header (htmx: `hx-headers` on `<body>`) or in the form
  field `csrf_token`;
- exempt: requests authenticated by `Authorization: Bearer` (browsers never attach one on
  their own), and `/api/` requests that carry no session cookie (no ambient credential).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.tokens import new_token, sign, signed_value

SESSION_COOKIE = "palier_session"
CSRF_COOKIE = "palier_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSRF_PURPOSE = "palier-csrf"  # keys the signature of anonymous tokens

_PENDING_COOKIES = "palier_pending_cookies"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

HSTS = "max-age=31536000; includeSubDomains"  # one year

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# --- CSRF tokens--------------------------------------------------------------------------------


def new_anonymous_csrf_token(secret_key: str) -> str:
    """`<random>.<hmac>`: the value of the `palier_csrf` cookie and of the form token."""
    return sign(CSRF_PURPOSE, secret_key, new_token())


def valid_anonymous_csrf_token(secret_key: str, token: str | None) -> bool:
    return signed_value(CSRF_PURPOSE, secret_key, token) is not None


def csrf_exempt(request: Request, *, bearer: bool) -> bool:
    """True when the request cannot be forged by another site (see the module docstring)."""
    if request.method in SAFE_METHODS or bearer:
        return True
    return request.url.path.startswith("/api/") and SESSION_COOKIE not in request.cookies


async def submitted_csrf_token(request: Request) -> str | None:
    """The token sent with the request: `X-CSRF-Token` header, else the `csrf_token` field
    of a form body (Starlette caches the parsed form, so routes can still read it)."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(FORM_TYPES):
        return None
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


# --- cookies --------------------------------------------------------------------------------


def is_secure(request: Request, base_url: str) -> bool:
    return request.url.scheme == "https" or base_url.startswith("https://")


def set_cookie(
    response: Response,
    request: Request,
    base_url: str,
    key: str,
    value: str,
    *,
    max_age: int | None,
    httponly: bool = True,
) -> None:
    response.set_cookie(
        key,
        value,
        max_age=max_age,
        path="/",
        secure=is_secure(request, base_url),
        httponly=httponly,
        samesite="lax",
    )


def delete_cookie(response: Response, request: Request, base_url: str, key: str) -> None:
    response.delete_cookie(
        key, path="/", secure=is_secure(request, base_url), httponly=True, samesite="lax"
    )


def queue_cookie(request: Request, header_value: str) -> None:
    """A Set-Cookie header added to whatever response this request ends with (by
    `SecurityHeadersMiddleware`): dependencies cannot reach the route's response."""
    pending: list[str] = request.scope.setdefault("state", {}).setdefault(_PENDING_COOKIES, [])
    pending.append(header_value)


def cookie_header(
    request: Request,
    base_url: str,
    key: str,
    value: str | None,
    *,
    max_age: int | None = None,
    httponly: bool = True,
) -> str:
    """The Set-Cookie value that sets (or, with value=None, deletes) a cookie."""
    response = Response()
    if value is None:
        delete_cookie(response, request, base_url, key)
    else:
        set_cookie(response, request, base_url, key, value, max_age=max_age, httponly=httponly)
    return response.headers["set-cookie"]


def _raw(name: str, value: str) -> tuple[bytes, bytes]:
    return name.lower().encode("latin-1"), value.encode("latin-1")


def _cookie_name(header_value: str) -> str:
    return header_value.split("=", 1)[0].strip()


# --- middleware -----------------------------------------------------------------------------


class SecurityHeadersMiddleware:
    """Adds the security headers to every response (static files and errors included) and
    the cookies queued by `queue_cookie`. Headers a route already set are kept.

    HSTS when the application is served over https: its base URL is https, or the request
    came over https (directly, or per X-Forwarded-Proto from a trusted proxy, which
    `ProxyHeadersMiddleware` outside this one has written into the scope)."""

    def __init__(
        self, app: ASGIApp, *, https_base: bool = False, form_origins: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.https_base = https_base
        # Origins forms may lead to (ProConnect: login and logout redirect to the provider).
        self.csp = CSP.replace(
            "form-action 'self'", " ".join(("form-action 'self'", *form_origins))
        )
        self._defaults = [_raw("Content-Security-Policy", self.csp),
                          *(_raw(name, value) for name, value in SECURITY_HEADERS.items())]
        self._defaults_https = [*self._defaults, _raw("Strict-Transport-Security", HSTS)]
        self._default_names = frozenset(name for name, _ in self._defaults_https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.add_headers(scope, state, message)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def add_headers(self, scope: Scope, state: dict[str, Any], message: Message) -> None:
        """The headers of an `http.response.start` message, as `MutableHeaders.setdefault`
        and `.append` would add them (raw names compared as they are, lower-case added)."""
        raw: list[tuple[bytes, bytes]] = list(message["headers"])
        message["headers"] = raw
        present = {name for name, _ in raw}
        https = self.https_base or scope.get("scheme") == "https"
        defaults = self._defaults_https if https else self._defaults
        if present.isdisjoint(self._default_names):
            raw.extend(defaults)  # the common case: the route set none of them
        else:
            for header in defaults:
                if header[0] not in present:
                    raw.append(header)
        if ((state.get("user") is not None or state.get("actor") is not None)
                and b"cache-control" not in present):
            # Personal pages: not kept by caches nor shown again after logout. (Lean
            # API routes set only the actor: app.web.api_caller.mark_token_caller.)
            raw.append(_NO_STORE)
        pending = state.pop(_PENDING_COOKIES, ())
        if pending:
            # A cookie the route set itself wins over a queued one of the same name
            # (logging in with a stale session cookie: the new session, not its deletion).
            own = {_cookie_name(v.decode("latin-1")) for k, v in raw if k.lower() == b"set-cookie"}
            for cookie in pending:
                if _cookie_name(cookie) not in own:
                    raw.append((b"set-cookie", cookie.encode("latin-1")))
                    own.add(_cookie_name(cookie))


_NO_STORE = (b"cache-control", b"no-store")


# ---- request size ----------------------------------------------------------------------

DEFAULT_MAX_BODY = 1024 * 1024  # forms and JSON: answers, criteria, reviews
LARGE_BODIES: tuple[tuple[re.Pattern[str], int | None], ...] = (
    # Evidence uploads are bounded by app.web.upload_limit.UploadSizeLimit (path-specific).
    (re.compile(r"^/evaluations/\d+/preuves/?$"), None),
    # FINESS extractions: the settings' import limit plus room for the form fields.
    (re.compile(r"^/admin/structures/import/?$"), -1),
)


class BodySizeLimit:
    """Refuse a request body larger than the route allows before anything reads it.

    The CSRF check parses form bodies before any route runs, so without this an anonymous
    client could make the app buffer an arbitrary body. A body without Content-Length on a
    route with a limit gets 411.
    """

    def __init__(self, app: ASGIApp, import_max_bytes: int) -> None:
        self.app = app
        self.import_max_bytes = import_max_bytes

    def _limit(self, path: str) -> int | None:
        for pattern, limit in LARGE_BODIES:
            if pattern.match(path):
                return self.import_max_bytes + 64 * 1024 if limit == -1 else limit
        return DEFAULT_MAX_BODY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = self.refusal(scope) if scope["type"] == "http" else None
        if refused is None:
            await self.app(scope, receive, send)
        else:
            await plain_error(send, *refused)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(411 or 413, message) for an HTTP request this refuses, else None."""
        if scope["method"] in SAFE_METHODS:
            return None
        limit = self._limit(scope["path"])
        if limit is None:
            return None
        length: int | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else limit + 1
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if length is None and chunked:
            return 411, "Longueur de la requête requise."
        if length is not None and length > limit:
            return 413, "Requête trop volumineuse."
        return None


async def plain_error(send: Send, status: int, message: str) -> None:
    body = message.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
