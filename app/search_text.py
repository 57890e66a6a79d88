"""Accent-, case- and punctuation-insensitive text search.

Searchable rows keep a `search` column holding `normalise(...)` of their searchable texts
(structure: name and commune; account: name and e-mail), written with the row (see the
models' hooks and column defaults) and indexed (a trigram GIN index on PostgreSQL). A query is
normalised the same way and each of its words must appear in the row (`LIKE '%word%'`, all
ANDed: « ehpad epinal » finds the EHPAD of Épinal); no `%`, `_` or `\\` can reach the
pattern (the normalised text holds only `a-z`, `0-9` and single spaces):

    normalise("Saint-Étienne")  == "saint etienne"
    normalise("  L'ŒUVRE  ")    == "l oeuvre"
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, Index, and_
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlmodel import Field

__all__ = ["MAX_WORDS", "SEPARATOR", "joined", "matches", "normalise", "search_field",
           "search_index"]

MAX_WORDS = 8  # words of a query that are matched (the others are ignored)

# Between the texts of one row (a word of a query, normalised, cannot span it).
SEPARATOR = " | "
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"})
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str | None) -> str:
    """Lower case, accents and ligatures folded to ASCII, anything but letters and digits
    turned to one space, trimmed."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", ascii_text).strip()


def joined(*texts: str | None) -> str:
    """The `search` value of a row from its searchable texts."""
    return SEPARATOR.join(normalise(t) for t in texts)


def matches(column: Any, query: str) -> ColumnElement[bool] | None:
    """The condition "every word of the query appears in `column`" (a `search` column);
    None if nothing is left once normalised (punctuation only, empty)."""
    words = normalise(query).split()[:MAX_WORDS]
    if not words:
        return None
    return and_(*(column.like(f"%{word}%") for word in dict.fromkeys(words)))


def search_field(*names: str) -> Any:
    """The `search` column of a model whose searchable texts are the columns `names`: rows
    inserted with Core (imports, demo) without a value get `joined(...)` of theirs; the
    models' ORM hooks set it on every insert and update."""

    def default(context: DefaultExecutionContext) -> str:
        params = context.get_current_parameters()  # type: ignore[no-untyped-call]
        return joined(*(params.get(name) for name in names))

    return Field(default="", sa_column_kwargs={"default": default, "server_default": ""})


def search_index(table: str) -> Index:
    """The index of a `search` column: trigram GIN on PostgreSQL (it serves `LIKE '%…%'`),
    a plain one on SQLite (which scans anyway; kept so both schemas match the models)."""
    return Index(f"ix_{table}_search", "search", postgresql_using="gin",
                 postgresql_ops={"search": "gin_trgm_ops"})
