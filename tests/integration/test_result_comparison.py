"""The comparison block of a result page places the result displayed, not the structure's
latest one (issue 10). Six EHPAD of 60 places in the Rhône (one group, region and nation):
Cèdres submitted 40 (dui 4/10) in January then 70 (dui 7/10) in March; the five others'
latest results are 30, 50, 60, 80, 90 (dui 3, 5, 6, 8, 9 out of 10)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import User
from app.assessments.models import Assessment
from app.config import Settings
from app.dashboard.service import refresh_structures
from app.permissions import Role
from app.structures.models import Structure
from tests.auth_helpers import log_in
from tests.factories import make_assessment, make_structure, make_user


@dataclass
class Data:
    cedres: Structure
    older: Assessment
    latest: Assessment
    other: Assessment  # another structure's
    director: User


def _submitted(
    session: Session, s: Structure, level: int, score: float, when: datetime
) -> Assessment:
    return make_assessment(
        session,
        s,
        "submitted",
        tier_level=level,
        global_score=score,
        domain_scores={"dui": (score / 10, 10)},
        submitted_at=when,
    )


@pytest.fixture
def data(session: Session) -> Data:
    cedres = make_structure(session, name="EHPAD Les Cèdres", capacity=60)
    older = _submitted(session, cedres, 1, 40.0, datetime(2026, 1, 10, 10, tzinfo=UTC))
    latest = _submitted(session, cedres, 3, 70.0, datetime(2026, 3, 10, 10, tzinfo=UTC))
    others = [
        _submitted(
            session,
            make_structure(session, name=f"EHPAD {i}", capacity=60),
            2,
            float(score),
            datetime(2026, 2, 1, tzinfo=UTC),
        )
        for i, score in enumerate((30, 50, 60, 80, 90))
    ]
    refresh_structures(session)
    session.commit()
    return Data(cedres, older, latest, others[0], make_user(session, Role.director, [cedres]))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _block(client: TestClient, data: Data, a: Assessment) -> str:
    """The result page of `a` points to its comparison block: that block's text."""
    page = client.get(f"/evaluations/{a.id}/resultat")
    url = f"/structures/{data.cedres.finess}/comparaison?evaluation={a.id}"
    assert f'hx-get="{url}"' in page.text and f'href="{url}"' in page.text
    return _text(client.get(url, headers={"HX-Request": "true"}).text)


def test_older_result_places_that_result(
    app_client: TestClient, session: Session, settings: Settings, data: Data
) -> None:
    log_in(app_client, session, settings, data.director)
    block = _block(app_client, data, data.older)
    # 40 among 30, 50, 60, 80, 90 and itself: 1 below, itself equal: (1 + 0.5) / 6 = 25 %;
    # dui 40 likewise.
    assert (
        "Position de l’évaluation transmise le 10 janvier 2026 à 11 h 00 (et non de la dernière)"
    ) in block
    assert block.count("Score global 40,0 25 e centile") == 2  # region and nation
    assert re.search(r"Dossier usager informatisé[^0-9]*40,0 25 e centile", block)
    assert "70,0" not in block


def test_latest_result_unchanged(
    app_client: TestClient, session: Session, settings: Settings, data: Data
) -> None:
    log_in(app_client, session, settings, data.director)
    block = _block(app_client, data, data.latest)
    # 70: 30, 50, 60 below, itself equal: (3 + 0.5) / 6 = 58,3 %, shown as the 58th.
    assert "Position de la dernière évaluation transmise" in block
    assert block.count("Score global 70,0 58 e centile") == 2
    plain = _text(
        app_client.get(
            f"/structures/{data.cedres.finess}/comparaison", headers={"HX-Request": "true"}
        ).text
    )
    assert plain.count("Score global 70,0 58 e centile") == 2


def test_another_structures_assessment_is_refused(
    app_client: TestClient, session: Session, settings: Settings, data: Data
) -> None:
    log_in(app_client, session, settings, data.director)
    r = app_client.get(f"/structures/{data.cedres.finess}/comparaison?evaluation={data.other.id}")
    assert r.status_code == 404
    r = app_client.get(f"/structures/{data.cedres.finess}/comparaison?evaluation=abc")
    assert r.status_code in (400, 422)
