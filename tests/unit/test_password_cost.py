"""Password hashes: argon2id at the recommended cost everywhere but the test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.accounts import passwords
from app.config import get_settings


def _renew() -> None:
    get_settings.cache_clear()
    passwords._hasher.cache_clear()


@pytest.fixture
def fresh_hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The hasher chosen again from the settings (production needs its base URL)."""
    monkeypatch.setenv("PALIER_BASE_URL", "https://palier.example.fr")
    _renew()
    yield
    monkeypatch.undo()
    _renew()


@pytest.mark.parametrize(("env", "prefix"), [
    ("production", "$argon2id$v=19$m=65536,t=3,p=4$"),
    ("development", "$argon2id$v=19$m=65536,t=3,p=4$"),
    ("test", "$argon2id$v=19$m=1024,t=1,p=1$"),
])
def test_hash_cost_by_environment(monkeypatch: pytest.MonkeyPatch, fresh_hasher: None,
                                  env: str, prefix: str) -> None:
    monkeypatch.setenv("PALIER_ENV", env)
    _renew()
    h = passwords.hash_password("cheval-batterie-agrafe")
    assert h.startswith(prefix)
    assert passwords.verify_password("cheval-batterie-agrafe", h)
    assert not passwords.verify_password("cheval-batterie-agrafé", h)
    assert not passwords.needs_rehash(h)


def test_a_test_cost_hash_is_upgraded_at_the_next_production_login(
        monkeypatch: pytest.MonkeyPatch, fresh_hasher: None) -> None:
    cheap = passwords.hash_password("cheval-batterie-agrafe")  # PALIER_ENV=test (conftest)
    monkeypatch.setenv("PALIER_ENV", "production")
    _renew()
    assert passwords.verify_password("cheval-batterie-agrafe", cheap)
    assert passwords.needs_rehash(cheap)
