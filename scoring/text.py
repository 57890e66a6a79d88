"""Well-formed text: the one check every free-text input goes through (answers, names,
comments, notes, import fields). Pure; app/textcheck.py wraps it for the application.

A text is refused when it holds a lone surrogate (not encodable as UTF-8: it breaks JSON,
CSV, XLSX and PDF output), a control character other than tab, line feed and carriage return
(NUL is refused by PostgreSQL and invisible everywhere), or more than `max_len` characters.
"""

from __future__ import annotations

import re

MAX_TEXT_ANSWER = 2000  # a `text` answer: a short free comment, not a document

# C0 controls except \t \n \r, DEL, C1 controls, and UTF-16 surrogates (never valid alone).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, max_len: int) -> str | None:
    """Why `value` is not acceptable text (French), or None."""
    bad = FORBIDDEN.search(value)
    if bad is not None:
        code = ord(bad.group())
        if 0xD800 <= code <= 0xDFFF:
            return "le texte contient un caractère Unicode invalide"
        return f"le texte contient un caractère de contrôle interdit (U+{code:04X})"
    if len(value) > max_len:
        return f"le texte est trop long ({len(value)} caractères, {max_len} au plus)"
    return None
