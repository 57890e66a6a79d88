"""JSON API v1: questionnaires, stateless scoring, structures and assessments."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.permissions import Role
from tests.answers import best
from tests.auth_helpers import api_token, bearer
from tests.factories import make_structure, make_user

QID, QV = "esms-maturite-numerique", "2026.2"  # the newest version: new drafts use it


def setup(session: Session, client: TestClient) -> dict[str, Any]:
    a = make_structure(session, department="69", name="EHPAD Les Tilleuls")
    b = make_structure(session, department="75", name="IME Les Sources", category_code="183",
                       category_label="Institut Médico-Educatif (I.M.E.)")
    c = make_structure(session, department="01", name="SSIAD du Pays de Gex",
                       category_code="354", category_label="Service de Soins Infirmiers A Domicile")
    make_user(session, role=Role.director, structures=[a], email="dir.a@test.fr")
    make_user(session, role=Role.director, structures=[b], email="dir.b@test.fr")
    make_user(session, role=Role.ars, region="84", email="ars84@test.fr")
    return {"a": a, "b": b, "c": c,
            "dir_a": bearer(api_token(client, "dir.a@test.fr")),
            "dir_b": bearer(api_token(client, "dir.b@test.fr")),
            "ars": bearer(api_token(client, "ars84@test.fr"))}


def test_questionnaires_are_public(app_client: TestClient) -> None:
    r = app_client.get("/api/v1/questionnaires")
    assert r.status_code == 200
    assert [(x["id"], x["version"], x["latest"]) for x in r.json()] == [
        (QID, "2026.1", False), (QID, QV, True)]
    full = app_client.get(f"/api/v1/questionnaires/{QID}/{QV}").json()
    assert list(full)[:3] == ["id", "version", "title"]
    assert full["tiers"][0]["id"] == "palier-0"
    assert app_client.get(f"/api/v1/questionnaires/{QID}/1999").status_code == 404


def test_stateless_score(app_client: TestClient) -> None:
    r = app_client.post("/api/v1/score", json={"questionnaire": QID, "answers": best("ehpad")})
    assert r.status_code == 200
    assert r.json()["tier"]["id"] == "palier-4"
    bad = app_client.post("/api/v1/score", json={"questionnaire": QID,
                                                 "answers": {"wifi": "satellite"}})
    assert bad.status_code == 422
    assert bad.json() == {"detail": "Certaines réponses sont invalides.",
                          "errors": [{"question": "wifi", "value": "satellite",
                                      "message": "option inconnue"}]}


def test_structures_in_scope(app_client: TestClient, session: Session) -> None:
    w = setup(session, app_client)
    r = app_client.get("/api/v1/structures", headers=w["dir_a"])
    assert [s["finess"] for s in r.json()] == [w["a"].finess]
    assert r.headers["X-Total-Count"] == "1"
    # ARS 84 sees the two structures of its region (69 and 01), sorted by name.
    r = app_client.get("/api/v1/structures", headers=w["ars"])
    assert [s["name"] for s in r.json()] == ["EHPAD Les Tilleuls", "SSIAD du Pays de Gex"]
    r = app_client.get("/api/v1/structures?department=01", headers=w["ars"])
    assert [s["name"] for s in r.json()] == ["SSIAD du Pays de Gex"]
    one = app_client.get(f"/api/v1/structures/{w['a'].finess}", headers=w["dir_a"]).json()
    assert {k: one[k] for k in ("finess", "name", "category", "department", "region")} == {
        "finess": w["a"].finess, "name": "EHPAD Les Tilleuls", "category": "500",
        "department": "69", "region": "84"}
    assert app_client.get(f"/api/v1/structures/{w['b'].finess}",
                          headers=w["dir_a"]).status_code == 404
    assert app_client.get("/api/v1/structures").status_code == 401


def test_assessment_lifecycle(app_client: TestClient, session: Session) -> None:
    w = setup(session, app_client)
    h = w["dir_a"]
    r = app_client.post(f"/api/v1/structures/{w['a'].finess}/assessments", headers=h)
    assert r.status_code == 201
    a = r.json()
    assert {k: a[k] for k in ("finess", "status", "version", "questionnaire", "answers")} == {
        "finess": w["a"].finess, "status": "draft", "version": 0,
        "questionnaire": {"id": QID, "version": QV}, "answers": {}}
    again = app_client.post(f"/api/v1/structures/{w['a'].finess}/assessments", headers=h)
    assert again.json()["id"] == a["id"]
    url = f"/api/v1/assessments/{a['id']}"
    r = app_client.patch(f"{url}/answers", headers=h,
                         json={"version": 0, "answers": {"medicalisation": "non"}})
    assert r.status_code == 200 and r.json()["version"] == 1
    stale = app_client.patch(f"{url}/answers", headers=h,
                             json={"version": 0, "answers": {"medicalisation": "soins_infirmiers"}})
    assert stale.status_code == 409
    assert stale.json()["conflicts"][0]["theirs"] == "non"
    assert stale.json()["conflicts"][0]["yours"] == "soins_infirmiers"
    invalid = app_client.patch(f"{url}/answers", headers=h,
                               json={"version": 1, "answers": {"capacite": "beaucoup"}})
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["question"] == "capacite"
    incomplete = app_client.post(f"{url}/submit", headers=h)
    assert incomplete.status_code == 422
    assert "public_accueilli" in incomplete.json()["missing"]
    r = app_client.patch(f"{url}/answers", headers=h, json={"version": 1,
                                                            "answers": best("ehpad")})
    assert r.status_code == 200
    done = app_client.post(f"{url}/submit", headers=h)
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["tier"]) == ("submitted", "palier-4")
    result = app_client.get(f"{url}/result", headers=h).json()
    assert result["tier"]["id"] == "palier-4" and result["complete"] is True
    frozen = app_client.patch(f"{url}/answers", headers=h,
                              json={"version": done.json()["version"],
                                    "answers": {"wifi": "aucun"}})
    assert frozen.status_code == 409
    # ARS of the region reads it; a director of another structure gets 404.
    assert app_client.get(url, headers=w["ars"]).status_code == 200
    assert app_client.get(url, headers=w["dir_b"]).status_code == 404
    assert app_client.post(f"/api/v1/structures/{w['a'].finess}/assessments",
                           headers=w["ars"]).status_code == 403
