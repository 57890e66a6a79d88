"""Looking up a row by the sha256 of a secret token, with the user it belongs to."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.tokens import token_hash


class _OwnedRow(Protocol):
    user_id: Any


T = TypeVar("T", bound=_OwnedRow)


def row_with_active_user(
    session: Session, model: type[T], hash_column: Any, raw: str
) -> tuple[T, User] | None:
    """The `model` row whose `hash_column` is the hash of `raw`, and its user; None when
    there is no such row or the user is not active."""
    row = session.exec(
        select(model, User)
        .join(User, col(User.id) == col(model.user_id))
        .where(hash_column == token_hash(raw))
    ).first()
    if row is None or not row[1].active:
        return None
    return row[0], row[1]
