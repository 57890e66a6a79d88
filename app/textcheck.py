"""Text checks at the boundary, shared by every text input of the application.

One rule (scoring.text.text_problem: well-formed Unicode, no control characters but tab and
line breaks) and one length limit per kind of field:

    TEXT_ANSWER  2,000   a `text` answer of a questionnaire (checked by validate_answers)
    NAME           200   names and titles: user, structure, organisme, shortlist, city
    SHORT          320   e-mail addresses, codes and other one-line fields
    COMMENT      5,000   review comments, evidence notes, invitation messages

A refused text raises InvalidText (422) naming the field, with a French message.
"""

from __future__ import annotations

from typing import Any

from app.errors import Unprocessable
from scoring.text import MAX_TEXT_ANSWER, text_problem

TEXT_ANSWER = MAX_TEXT_ANSWER
NAME = 200
SHORT = 320
COMMENT = 5000


class InvalidText(Unprocessable):

    def __init__(self, field: str, label: str, problem: str) -> None:
        super().__init__(f"{label} : {problem}.")
        self.field = field
        self.label = label
        self.problem = problem

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message}


def problem(value: str | None, max_len: int) -> str | None:
    """Why `value` is refused (French), or None. None and "" are acceptable."""
    if not value:
        return None
    return text_problem(value, max_len)


def typed_text(raw: str | None, max_len: int, *, label: str, noun: str,
               pronoun: str = "il") -> tuple[str, str | None]:
    """A multi-line text a user typed (review comment, evidence note, message): stripped,
    Windows line ends made plain; and why it is refused (French), else None. `label` names
    the field in a character problem ("Note : ..."), `noun` and `pronoun` in a length one
    ("La note ne doit pas dépasser ... (elle en compte ...)")."""
    text = (raw or "").strip().replace("\r\n", "\n")
    if (bad := problem(text, len(text))) is not None:
        return text, f"{label} : {bad}."
    if len(text) > max_len:
        return text, (f"{noun} ne doit pas dépasser {max_len} caractères "
                      f"({pronoun} en compte {len(text)}).")
    return text, None


def check_text(value: str | None, *, field: str, label: str, max_len: int) -> str | None:
    """`value` unchanged if acceptable, else raise InvalidText."""
    found = problem(value, max_len)
    if found is not None:
        raise InvalidText(field, label, found)
    return value
