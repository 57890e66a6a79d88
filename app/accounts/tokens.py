"""Secret tokens (sessions, API tokens, reset links, invitations): a random value for the
user, its sha256 for the database. Also the one way to compare a secret the client sent
(`tokens_match`) and to sign a random value for a cookie (`sign` / `signed_value`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def token_hash(raw: str) -> str:
    """sha256 hex of a secret token: what the database stores instead of the token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; empty or missing tokens never match. Any text compares
    (a client may send non-ASCII: `hmac.compare_digest` refuses such `str`)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _signature(purpose: str, secret_key: str, value: str) -> str:
    key = purpose.encode() + b"\x00" + secret_key.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def sign(purpose: str, secret_key: str, value: str) -> str:
    """`<value>.<hmac>`, the hmac keyed by the secret key and `purpose` (one per cookie)."""
    return f"{value}.{_signature(purpose, secret_key, value)}"


def signed_value(purpose: str, secret_key: str, token: str | None) -> str | None:
    """The value of a `sign`ed token, or None when missing, malformed or forged."""
    value, _, signature = (token or "").partition(".")
    if value and tokens_match(_signature(purpose, secret_key, value), signature):
        return value
    return None
