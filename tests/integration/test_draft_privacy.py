"""Issue 8: a draft is its director's working space. ARS referents and committees see that a
draft exists and its progress, never its answers, evidence or notes, until it is submitted.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts import auth
from app.accounts.models import User
from app.assessments.models import Assessment
from app.config import Settings
from app.permissions import Role
from app.reviews.models import Evidence
from app.structures.models import Structure
from tests.answers import PETIT_EHPAD
from tests.auth_helpers import bearer, csrf_headers, log_in
from tests.factories import make_structure, make_user

NOTE = "Note privée du directeur : inventaire en cours"
HIDDEN = ("Cette évaluation est en cours : ses réponses restent celles du directeur "
          "jusqu’à sa transmission.")


@pytest.fixture
def ehpad(session: Session) -> Structure:
    return make_structure(session, name="EHPAD Les Tilleuls", department="69")


@pytest.fixture
def director(session: Session, ehpad: Structure) -> User:
    return make_user(session, Role.director, [ehpad])


def _draft(client: TestClient, session: Session, settings: Settings, director: User,
           ehpad: Structure) -> tuple[int, int, str]:
    """A complete draft with a file and a note; (assessment id, file evidence id, token)."""
    token = log_in(client, session, settings, director)
    response = client.post(f"/structures/{ehpad.finess}/evaluation",
                           headers=csrf_headers(token), follow_redirects=False)
    match = re.match(r"/evaluations/(\d+)/", response.headers["location"])
    assert match
    aid = int(match.group(1))
    a = session.get(Assessment, aid)
    assert a is not None
    a.answers, a.version = dict(PETIT_EHPAD), 1
    session.add(a)
    session.commit()
    added = client.post(f"/evaluations/{aid}/preuves", headers=csrf_headers(token),
                        data={"question_id": "wifi", "note": NOTE},
                        files={"fichier": ("plan.txt", b"Plan du wifi\n", "text/plain")},
                        follow_redirects=False)
    assert added.status_code == 303, added.text
    evidence = session.exec(
        select(Evidence).where(Evidence.assessment_id == aid)).all()
    file_id = next(e.id for e in evidence if e.stored_name)
    assert file_id is not None
    return aid, file_id, token


@pytest.mark.parametrize("role,region", [("ars", "84"), ("committee", "84"),
                                         ("committee", None)])
def test_draft_hidden_until_submitted(app_client: TestClient, session: Session,
                                      settings: Settings, director: User, ehpad: Structure,
                                      role: str, region: str | None) -> None:
    aid, file_id, _ = _draft(app_client, session, settings, director, ehpad)
    reader = make_user(session, role, region=region)
    api = bearer(auth.issue_api_token(session, settings, reader).token)
    log_in(app_client, session, settings, reader)

    page = app_client.get(f"/structures/{ehpad.finess}")
    assert page.status_code == 200
    assert "Évaluation en cours" in page.text  # that it exists, and its progress
    assert "% des questions répondues" in page.text
    assert "Consulter les réponses en cours" not in page.text
    assert "Les réponses restent celles du directeur jusqu’à la transmission" in page.text

    for url in (f"/evaluations/{aid}", f"/evaluations/{aid}/sections/s-equipement",
                f"/evaluations/{aid}/resultat", f"/evaluations/{aid}/impression",
                f"/evaluations/{aid}/declaration.pdf", f"/evaluations/{aid}/transmettre",
                f"/evaluations/{aid}/preuves?question=wifi", f"/preuves/{file_id}"):
        response = app_client.get(url, follow_redirects=False)
        assert response.status_code == 403, url
        assert NOTE not in response.text
    for url in (f"/api/v1/assessments/{aid}", f"/api/v1/assessments/{aid}/result",
                f"/api/v1/assessments/{aid}/reviews"):
        response = app_client.get(url, headers=api)
        assert response.status_code == 403, url
        assert HIDDEN in response.text
        assert "fibre" not in response.text

    # Submitted: now theirs to read.
    token = log_in(app_client, session, settings, director)
    submitted = app_client.post(f"/evaluations/{aid}/transmettre", data={"declaration": "oui"},
                                headers=csrf_headers(token), follow_redirects=False)
    session.expire_all()
    a = session.get(Assessment, aid)
    assert a is not None and a.status == "submitted", submitted.text
    answers = app_client.get(f"/api/v1/assessments/{aid}", headers=api)
    assert answers.status_code == 200
    assert answers.json()["answers"] == PETIT_EHPAD
    log_in(app_client, session, settings, reader)
    download = app_client.get(f"/preuves/{file_id}", follow_redirects=False)
    assert download.status_code == 200
    assert download.content == b"Plan du wifi\n"


def test_director_and_admin_read_the_draft(app_client: TestClient, session: Session,
                                           settings: Settings, director: User,
                                           ehpad: Structure) -> None:
    aid, file_id, _ = _draft(app_client, session, settings, director, ehpad)
    assert app_client.get(f"/preuves/{file_id}").status_code == 200
    own = app_client.get(f"/evaluations/{aid}/preuves?question=wifi")
    assert own.status_code == 200 and NOTE in own.text
    admin = make_user(session, "admin")
    log_in(app_client, session, settings, admin)
    page = app_client.get(f"/structures/{ehpad.finess}")
    assert "Consulter les réponses en cours" in page.text
    assert app_client.get(f"/preuves/{file_id}").status_code == 200


def test_exports_and_comparisons_never_carry_a_draft(app_client: TestClient, session: Session,
                                                     settings: Settings, director: User,
                                                     ehpad: Structure) -> None:
    aid, _, _ = _draft(app_client, session, settings, director, ehpad)
    a = session.get(Assessment, aid)
    assert a is not None
    a.answers = {**PETIT_EHPAD, "dui_logiciel": "Logiciel-secret-du-brouillon"}
    session.add(a)
    session.commit()
    ars = make_user(session, "ars", region="84")
    log_in(app_client, session, settings, ars)
    for url in ("/regions/84/export.csv", "/regions/84/structures",
                f"/structures/{ehpad.finess}/comparaison", f"/structures/{ehpad.finess}"):
        response = app_client.get(url)
        assert response.status_code == 200, url
        assert "Logiciel-secret-du-brouillon" not in response.text, url
        assert NOTE not in response.text, url
