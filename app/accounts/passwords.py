"""Password hashing (argon2 via pwdlib) and the password policy."""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.config import get_settings

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 hashes anything; refuse absurd inputs early


# argon2id with pwdlib's recommended parameters (64 MiB, 3 passes, 4 lanes): about 0.1 s per
# hash or check, by design. The test suite (PALIER_ENV=test, never a deployment's value: see
# docs/deploy.md) hashes thousands of passwords and recovery codes: it uses the same
# algorithm at the smallest cost, so its hashes still read "$argon2id$".


@cache
def _hasher() -> PasswordHash:
    if get_settings().env == "test":
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """False for a wrong password or an unreadable hash (never raises on bad input)."""
    try:
        return _hasher().verify(password, password_hash)
    except Exception:  # malformed or unknown hash: treat as a mismatch
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash uses outdated parameters: rehash after a successful login."""
    current = _hasher().current_hasher
    try:
        return not current.identify(password_hash) or current.check_needs_rehash(password_hash)
    except Exception:  # unreadable hash
        return True


def password_problems(password: str) -> list[str]:
    """What is wrong with a new password, in French (empty list: acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Le mot de passe doit comporter au moins {MIN_LENGTH} caractères.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Le mot de passe ne peut dépasser {MAX_LENGTH} caractères.")
    if password.strip() == "":
        problems.append("Le mot de passe ne peut pas être vide.")
    return problems
