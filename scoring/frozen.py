"""Read-only dicts and lists that the laid-out parts of many Results share (scoring/layoutgen.py):
the parts of the JSON that do not depend on the answers (a next step, a tier's heading, a
`to_meet` read from the questionnaire alone) are built once per questionnaire version instead
of once per Result, and lines that depend only on a few answers (a requirement's line in the
trace, a domain's dict, a programme's entry) once per combination of those answers that
occurs (`keep`, bounded).

A shared object is a `dict` or a `list` (isinstance, equality, `json.dumps` and templates see
no difference: the JSON is byte for byte the same) whose every mutation raises TypeError, so
that a caller changing one Result's output can never change another's. `dict(x)`, `list(x)`,
`x.copy()`, `{**x}`, `copy.copy`, `copy.deepcopy` and pickle give plain, mutable objects.
"""

from __future__ import annotations

import copy
from typing import Any, NoReturn

MESSAGE = "shared between results: copy it (dict(x), list(x)) to change it"
LINE_CACHE_SIZE = 1_000  # shared lines kept per requirement, domain or programme


def _refuse(self: object, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(f"{type(self).__name__} is {MESSAGE}")


class FrozenDict(dict[str, Any]):
    """A dict shared between Results: read-only (see the module's docstring)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any]]]:
        return dict, (dict(self),)

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return copy.deepcopy(dict(self), memo)


class FrozenList(list[Any]):
    """A list shared between Results: read-only (see the module's docstring)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self) -> tuple[type, tuple[list[Any]]]:
        return list, (list(self),)

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return copy.deepcopy(list(self), memo)


def freeze(x: Any) -> Any:
    """A read-only copy of JSON-like `x` (its dicts and lists at every depth)."""
    if isinstance(x, dict):
        return FrozenDict({k: freeze(v) for k, v in x.items()})
    if isinstance(x, list):
        return FrozenList(freeze(v) for v in x)
    return x


def choices(values: tuple[Any, ...]) -> bool:
    """Whether these answers are all strings or None: a key of them never mixes values that
    are equal but print differently in JSON (1, 1.0 and True)."""
    return all(v is None or v.__class__ is str for v in values)


def plain_number(v: Any) -> bool:
    """Whether a number answer can key a line under its class (`layoutgen.Layout._key`):
    None, an int, or a float that no other float of the same value prints differently from
    (not 0.0, which equals -0.0, nor NaN, which equals nothing)."""
    c = v.__class__
    return v is None or c is int or (c is float and v == v and v != 0)


def keep(cache: dict[Any, Any], line: dict[str, Any], cacheable: bool, *keys: Any) -> Any:
    """`line` made read-only and kept in `cache` under `keys` when `cacheable` and there is
    room (`room`); else `line` itself, this result's own (not frozen: nothing shares it)."""
    level = room(cache, keys) if cacheable else None
    if level is None:
        return line
    shared = level[keys[-1]] = freeze(line)
    return shared


def room(cache: dict[Any, Any], keys: tuple[Any, ...]) -> dict[Any, Any] | None:
    """The dict of `cache` (nested dicts, one level per key) that would hold the last of
    `keys`, its levels made as needed; None when a level is full (past LINE_CACHE_SIZE
    entries, lines are built every time)."""
    for key in keys[:-1]:
        inner = cache.get(key)
        if inner is None:
            if len(cache) >= LINE_CACHE_SIZE:
                return None
            inner = cache[key] = {}
        cache = inner
    return cache if len(cache) < LINE_CACHE_SIZE else None
