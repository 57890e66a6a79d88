"""Typed FastAPI dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from sqlmodel import Session

from app.config import Settings, get_settings
from app.db import get_session

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# Ids and counters fit PostgreSQL INTEGER (SQLite allows 2**63): a larger number in a path or
# a query is refused (422) before it reaches the database.
MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifiant (entier positif).")]
PageQuery = Annotated[int, Query(ge=1, le=100_000, description="Numéro de page.")]
