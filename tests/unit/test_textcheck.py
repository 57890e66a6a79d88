"""The one text rule (scoring.text, app.textcheck): expected messages written by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import textcheck
from scoring import MAX_TEXT_ANSWER, text_problem


@pytest.mark.parametrize(("value", "expected"), [
    ("", None),
    ("Éditeur « Logiciel » — v2\tok\r\nligne 2 😀", None),
    ("\u2028 et \u00a0 sont du texte", None),
    ("a\x00", "le texte contient un caractère de contrôle interdit (U+0000)"),
    ("\x0b", "le texte contient un caractère de contrôle interdit (U+000B)"),
    ("\x7f", "le texte contient un caractère de contrôle interdit (U+007F)"),
    ("\x9f", "le texte contient un caractère de contrôle interdit (U+009F)"),
    ("\ud800", "le texte contient un caractère Unicode invalide"),
    ("\udc00x", "le texte contient un caractère Unicode invalide"),
    ("x" * 101, "le texte est trop long (101 caractères, 100 au plus)"),
])
def test_text_problem(value: str, expected: str | None) -> None:
    assert text_problem(value, 100) == expected


def test_limits() -> None:
    assert (MAX_TEXT_ANSWER, textcheck.TEXT_ANSWER, textcheck.NAME, textcheck.COMMENT) == \
        (2000, 2000, 200, 5000)
    assert textcheck.problem(None, 1) is None
    with pytest.raises(textcheck.InvalidText) as caught:
        textcheck.check_text("Nom\x00", field="name", label="Nom", max_len=textcheck.NAME)
    assert (caught.value.status, caught.value.message, caught.value.to_dict()) == (
        422, "Nom : le texte contient un caractère de contrôle interdit (U+0000).",
        {"field": "name", "message": "Nom : le texte contient un caractère de contrôle "
                                     "interdit (U+0000)."})


@given(st.text(max_size=50))
def test_accepted_text_is_storable_everywhere(value: str) -> None:
    """What the rule accepts encodes to UTF-8 and holds no NUL (PostgreSQL, CSV, XLSX, PDF)."""
    if text_problem(value, 50) is None:
        value.encode("utf-8")
        assert "\x00" not in value
        assert all(c in "\t\n\r" or not (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F) for c in value)


@pytest.mark.parametrize(("raw", "expected"), [
    (None, ("", None)),
    ("  deux\r\nlignes \n", ("deux\nlignes", None)),
    ("abcdefghijklm", ("abcdefghijklm",
                       "La note ne doit pas dépasser 12 caractères (elle en compte 13).")),
    ("a\x00", ("a\x00", "Note : le texte contient un caractère de contrôle interdit "
                        "(U+0000).")),
])
def test_typed_text(raw: str | None, expected: tuple[str, str | None]) -> None:
    assert textcheck.typed_text(raw, 12, label="Note", noun="La note", pronoun="elle") \
        == expected
