"""app.web.skeleton (issue 14): marks survive escaping, a skeleton gives its text back with
the holes filled, the bounded cache forgets the least recently used entry."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from markupsafe import escape

from app.web.skeleton import BoundedCache, Skeleton, hole, split


def test_a_mark_survives_html_json_and_url_escaping() -> None:
    mark = str(hole("csrf"))
    assert str(escape(mark)) == mark
    assert json.dumps({"t": mark}) == '{"t": "' + mark + '"}'
    assert quote(f"/evaluations/{mark}/x") == f"/evaluations/{mark}/x"
    with pytest.raises(ValueError):
        hole("Bad-Name")


def test_split_and_fill() -> None:
    text = f"<p>{hole('name')} ({hole('id')})</p><a href=\"/e/{hole('id')}\">x</a>"
    skeleton = split(text)
    assert skeleton.parts == ("<p>", "name", " (", "id", ")</p><a href=\"/e/", "id",
                              "\">x</a>")
    assert skeleton.holes == {"name", "id"}
    assert skeleton.fill({"name": "A &amp; B", "id": "12"}) == \
        '<p>A &amp; B (12)</p><a href="/e/12">x</a>'
    with pytest.raises(KeyError):
        skeleton.fill({"name": "x"})
    assert split("no hole").fill({}) == "no hole"
    assert Skeleton(("only",)).holes == frozenset()


def test_bounded_cache_keeps_the_most_recent() -> None:
    cache: BoundedCache[str] = BoundedCache(2)
    built: list[str] = []

    def build(v: str) -> str:
        built.append(v)
        return v.upper()

    assert cache.get("a", lambda: build("a")) == "A"
    assert cache.get("b", lambda: build("b")) == "B"
    assert cache.get("a", lambda: build("a")) == "A"  # a hit, now the most recent
    assert cache.get("c", lambda: build("c")) == "C"  # b goes
    assert cache.get("a", lambda: build("a")) == "A"
    assert cache.get("b", lambda: build("b")) == "B"
    assert built == ["a", "b", "c", "b"]
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0
