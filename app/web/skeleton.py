"""Templates rendered once with holes, then filled per request (issue 14, lean requests).

A page whose layout depends on few inputs (a questionnaire version's section, the actor's
menu...) is rendered once with *marks* in place of the values that change from one request
to the next: a mark is `hole(name)`, a string of letters that escaping (HTML, JSON, URL)
leaves as it is, so it may stand for a value the template prints with `{{ }}` or passes
through `|tojson` or `|urlencode`; a block of the template that depends on the request is
overridden by `{{ hole(name) }}` in a child template. The output, split on the marks, is a
`Skeleton`; `fill(values)` puts each hole's text back: the same bytes as a full render whose
values print where the marks were (tests/integration/test_section_page_lean.py checks it
page by page). Values put in holes are already HTML (escape them: `markupsafe.escape`).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from markupsafe import Markup

_PREFIX, _SUFFIX = "ZqPalierHole", "Zq"
_MARK = re.compile(_PREFIX + r"([a-z_]+)" + _SUFFIX)

V = TypeVar("V")


def hole(name: str) -> Markup:
    """The mark of the hole `name` (lower-case letters and underscores)."""
    if not re.fullmatch(r"[a-z_]+", name):
        raise ValueError(f"bad hole name {name!r}")
    return Markup(f"{_PREFIX}{name}{_SUFFIX}")


@dataclass(frozen=True)
class Skeleton:
    """Static text and hole names, alternating: static, name, static, ..., static."""

    parts: tuple[str, ...]

    @property
    def holes(self) -> frozenset[str]:
        return frozenset(self.parts[1::2])

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with each hole replaced by `values[name]` (a missing name: KeyError)."""
        parts = self.parts
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 3:  # one hole (a question and its assessment's id)
            return parts[0] + values[parts[1]] + parts[2]
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            out.append(values[parts[i]])
            out.append(parts[i + 1])
        return "".join(out)


def split(text: str) -> Skeleton:
    """`text` (a render with marks) as a Skeleton."""
    return Skeleton(tuple(_MARK.split(text)))


class BoundedCache(Generic[V]):
    """A thread-safe LRU mapping of at most `size` entries; values are built outside the
    lock (two threads may build the same one: the last stored wins, both are equal)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
