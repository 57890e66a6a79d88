"""Secret tokens (sessions, API tokens, reset links, invitations): a random value for the
user, its sha256 for the database."""

from __future__ import annotations

import hashlib
import secrets


def token_hash(raw: str) -> str:
    """sha256 hex of a secret token: what the database stores instead of the token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)
