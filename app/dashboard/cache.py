"""The one cache of the dashboards: national comparators (domain score distributions and the
distribution over the paliers, nationally, under a set of filters).

They are the same for every region and the costliest figures (a scan of every structure's
domain scores), and they change only when the read model changes. Entries are keyed by the
read model's generation (`dashboard_state.generation`, a new random value written in the same
transaction as every submit or refresh: never reused, even after a rollback), read from the
database on each use: a submission invalidates the cache of every process at once, and nothing
stale is ever served. Regional figures are never cached.

Also the shortlists' population counts and ranked candidate lists (app.shortlists.sql), same
rules. Bounded (LRU: `MAX_ENTRIES`, and `MAX_LARGE` for values of one row per structure,
`large=True`); `enabled = False` turns it off (benchmarks measure both).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlmodel import Session

from app.dashboard.models import DashboardState

__all__ = ["MAX_ENTRIES", "MAX_LARGE", "bump", "cached", "clear", "enabled", "generation"]

MAX_ENTRIES = 256
MAX_LARGE = 8  # a national ranked list: ~3 MB
enabled = True

T = TypeVar("T")
_entries: OrderedDict[tuple[int, Hashable], Any] = OrderedDict()
_large: OrderedDict[tuple[int, Hashable], Any] = OrderedDict()
_lock = threading.Lock()
STATE = DashboardState.__table__  # type: ignore[attr-defined]


def generation(session: Session) -> int:
    value = session.execute(select(STATE.c.generation).where(STATE.c.id == 1)).scalar()
    return int(value or 0)


def bump(session: Session) -> None:
    """Invalidate: call in the transaction that changes the read model."""
    token = secrets.randbits(62)
    res = session.execute(update(STATE).where(STATE.c.id == 1).values(generation=token))
    if res.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(STATE.insert().values(id=1, generation=token))


def cached(session: Session, key: Hashable, compute: Callable[[], T], *,
           large: bool = False) -> T:
    """`compute()` once per generation of the read model and key (every time before the
    first one)."""
    if not enabled:
        return compute()
    current = generation(session)
    if current == 0:  # no read model built in this database yet: nothing to key on
        return compute()
    full = (current, key)
    entries, bound = (_large, MAX_LARGE) if large else (_entries, MAX_ENTRIES)
    with _lock:
        if full in entries:
            entries.move_to_end(full)
            return entries[full]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        entries[full] = value
        while len(entries) > bound:
            entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
        _large.clear()
