"""Fixtures shared by the director's page tests: the EHPAD Les Tilleuls (Lyon) and its
director Claire Martin, logged in (modules that need other ones define their own)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.permissions import Role
from app.structures.models import Structure
from tests.director_client import Director, as_user
from tests.factories import make_structure, make_user


@pytest.fixture
def ehpad(session: Session) -> Structure:
    return make_structure(session, name="EHPAD Les Tilleuls", city="Lyon")


@pytest.fixture
def director(app_client: TestClient, session: Session, settings: Settings,
             ehpad: Structure) -> Director:
    user = make_user(session, Role.director, [ehpad], name="Claire Martin",
                     email="claire.martin@tilleuls.example.fr")
    return as_user(app_client, session, settings, user)
