"""Which path served a request: lean paths (app/routes/section_page.py,
app/routes/api_autosave.py) hand a request to their route when a function of theirs gives
None."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def gave(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> Iterator[list[bool]]:
    """Within the block, whether each call of `module.name` gave something (not None)."""
    real = getattr(module, name)
    calls: list[bool] = []

    def spy(*args: Any) -> Any:
        out = real(*args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(module, name, spy)
    try:
        yield calls
    finally:
        monkeypatch.setattr(module, name, real)


@contextmanager
def declining(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> Iterator[None]:
    """Within the block, `module.name` gives None (the lean path hands every request on)."""
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *args: None)
    try:
        yield
    finally:
        monkeypatch.setattr(module, name, real)
