"""Bad input at the boundary (issue 8, defects 2, 6 and 9): poisoned text, NaN and huge
numbers, out-of-range ids, the API contract (strict version, declared error and file
schemas) and an upload body read only after authorisation. On every backend."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts import users
from app.assessments.models import Assessment
from app.config import Settings
from app.permissions import Role
from app.reference import finess_categories
from app.reviews.models import AssessmentReview, Evidence
from app.routes.schemas import ApiError
from app.structures import imports as service
from app.structures.adapters import EtalabCsvAdapter
from app.structures.imports import ImportOptions
from app.structures.models import Structure
from tests.auth_helpers import api_token, bearer, csrf_headers, log_in
from tests.factories import make_assessment, make_structure, make_user
from tests.fixtures.finess import et_line, write_file

TEXT_Q = "commentaires"  # a `text` question of the real questionnaire (always shown)
NUMBER_Q = "capacite"  # a `number` question (no bounds)


@pytest.fixture
def world(session: Session, app_client: TestClient) -> dict[str, Any]:
    s = make_structure(session, department="69", name="EHPAD Les Tilleuls")
    director = make_user(session, role=Role.director, structures=[s], email="dir@test.fr")
    make_user(session, role=Role.ars, region="84", email="ars84@test.fr")
    token = bearer(api_token(app_client, "dir@test.fr"))
    started = app_client.post(f"/api/v1/structures/{s.finess}/assessments", headers=token)
    assert started.status_code == 201, started.text
    return {"structure": s, "director": director, "dir": token, "aid": started.json()["id"],
            "ars": bearer(api_token(app_client, "ars84@test.fr"))}


def _patch(client: TestClient, w: dict[str, Any], answers: dict[str, Any],
           version: Any = 0) -> Any:
    # json.dumps escapes lone surrogates as \\udxxx, as a JavaScript client would send them.
    return client.patch(f"/api/v1/assessments/{w['aid']}/answers",
                        headers={**w["dir"], "Content-Type": "application/json"},
                        content=json.dumps({"version": version, "answers": answers}))


def _stored(session: Session, aid: int) -> Assessment:
    session.expire_all()
    a = session.get(Assessment, aid)
    assert a is not None
    return a


# ---- defect 2: poisoned text answers ---------------------------------------------------------


@pytest.mark.parametrize(("value", "message"), [
    ("\ud800", "le texte contient un caractère Unicode invalide"),
    ("DUI\udfffX", "le texte contient un caractère Unicode invalide"),
    ("a\x00b", "le texte contient un caractère de contrôle interdit (U+0000)"),
    ("bip\x07", "le texte contient un caractère de contrôle interdit (U+0007)"),
    ("x\x85", "le texte contient un caractère de contrôle interdit (U+0085)"),
    ("é" * 2001, "le texte est trop long (2001 caractères, 2000 au plus)"),
])
def test_poisoned_text_answer_is_refused_and_nothing_is_written(
        app_client: TestClient, session: Session, world: dict[str, Any], value: str,
        message: str) -> None:
    r = _patch(app_client, world, {TEXT_Q: value, NUMBER_Q: 40})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "Certaines réponses sont invalides."
    assert [(e["question"], e["message"]) for e in body["errors"]] == [(TEXT_Q, message)]
    a = _stored(session, world["aid"])
    assert (a.version, a.answers) == (0, {})  # the valid NUMBER_Q was not written either
    # The assessment still reads, prints and submits normally.
    assert app_client.get(f"/api/v1/assessments/{world['aid']}",
                          headers=world["dir"]).status_code == 200
    submit = app_client.post(f"/api/v1/assessments/{world['aid']}/submit",
                             headers=world["dir"])
    assert submit.status_code == 422  # incomplete, not 500
    assert _stored(session, world["aid"]).status == "draft"


def test_text_answer_with_tabs_and_line_breaks_up_to_the_limit_is_saved(
        app_client: TestClient, session: Session, world: dict[str, Any]) -> None:
    value = "Éditeur\tLogiciel\r\nversion 2 — « ok »" + "x" * 1964
    assert len(value) == 2000
    r = _patch(app_client, world, {TEXT_Q: value})
    assert r.status_code == 200, r.text
    assert _stored(session, world["aid"]).answers == {TEXT_Q: value}


def test_page_autosave_refuses_a_nul_byte(app_client: TestClient, session: Session,
                                          settings: Settings, world: dict[str, Any]) -> None:
    token = log_in(app_client, session, settings, world["director"])
    r = app_client.post(f"/evaluations/{world['aid']}/reponses",
                        data={"question": TEXT_Q, "version": "0", f"q_{TEXT_Q}": "a\x00b"},
                        headers=csrf_headers(token, htmx=True))
    assert r.status_code == 422
    assert r.headers["X-Palier-Outcome"] == "invalid"
    assert "caractère de contrôle interdit" in r.text
    assert _stored(session, world["aid"]).answers == {}


def test_poisoned_question_id_is_echoed_safely(app_client: TestClient,
                                                world: dict[str, Any]) -> None:
    r = _patch(app_client, world, {"q\ud800": "x"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"question": "q\\ud800", "value": "x",
                                   "message": "question inconnue"}]


def test_review_comment_and_evidence_note_are_checked(
        app_client: TestClient, session: Session, settings: Settings,
        world: dict[str, Any]) -> None:
    done = make_assessment(session, world["structure"], "submitted")
    r = app_client.post(f"/api/v1/assessments/{done.id}/review", headers=world["ars"],
                        json={"status": "a_revoir", "comment": "Revoir\x00"})
    assert r.status_code == 422
    assert r.json()["detail"] == ("Commentaire : le texte contient un caractère de contrôle "
                                  "interdit (U+0000).")
    assert session.exec(select(AssessmentReview)).all() == []
    token = log_in(app_client, session, settings, world["director"])
    r = app_client.post(f"/evaluations/{world['aid']}/preuves",
                        data={"question_id": "sdsi", "note": "Note\x1b"},
                        headers=csrf_headers(token))
    assert r.status_code == 422
    assert "Note : le texte contient un caractère de contrôle interdit (U+001B)." in r.text
    assert session.exec(select(Evidence)).all() == []


def test_user_names_are_checked(session: Session, settings: Settings) -> None:
    admin = make_user(session, role=Role.admin, email="admin@test.fr")
    from app.permissions import Actor
    actor = Actor(id=admin.id, role=Role.admin)
    with pytest.raises(users.InvalidUser) as caught:
        users.create_user(session, settings, actor,
                          users.NewUser(email="nul\x00@test.fr", name="Nom\x00", role="admin"))
    assert caught.value.errors["name"] == ("Nom : le texte contient un caractère de contrôle "
                                           "interdit (U+0000).")
    assert caught.value.errors["email"].startswith("Indiquez une adresse électronique valide")


def test_import_line_with_nul_is_a_rejected_line(session: Session, tmp_path: Path) -> None:
    good = et_line("690000039", "690000047", "EHPAD LES TILLEULS", "500", "69",
                   acheminement="69003 LYON")
    bad = et_line("690000054", "690000047", "SSIAD\x00DU RHONE", "354", "69",
                  acheminement="69100 VILLEURBANNE")
    path = write_file(tmp_path / "nul.csv", [good, bad])
    opts = ImportOptions(categories=frozenset(finess_categories()))
    job = service.create_job(session, filename=path.name, options=opts, user_id=None)
    report = service.run_import(session, job, EtalabCsvAdapter.from_path(path), opts)
    assert [(r.line, r.finess, r.status, r.message) for r in report.lines
            if r.status == "rejected"] == [
        (3, "", "rejected",
         "Ligne illisible : le texte contient un caractère de contrôle interdit (U+0000).")]
    session.refresh(job)
    assert job.status == "done"
    session.expire_all()
    assert session.exec(select(Structure)).all() == []  # a rejected line: nothing is applied


# ---- defect 6: numbers the database or JSON cannot hold --------------------------------------


@pytest.mark.parametrize(("raw", "echo"), [("NaN", "nan"), ("Infinity", "inf"),
                                           ("-Infinity", "-inf"), ("1e400", "inf")])
def test_non_finite_numbers_in_answers_are_422(app_client: TestClient, session: Session,
                                               world: dict[str, Any], raw: str,
                                               echo: str) -> None:
    r = app_client.patch(f"/api/v1/assessments/{world['aid']}/answers",
                         headers={**world["dir"], "Content-Type": "application/json"},
                         content=f'{{"version": 0, "answers": {{"{NUMBER_Q}": {raw}}}}}')
    assert r.status_code == 422
    assert r.json()["errors"] == [{"question": NUMBER_Q, "value": echo,
                                   "message": "un nombre est attendu"}]
    r = app_client.patch(f"/api/v1/assessments/{world['aid']}/answers",
                         headers={**world["dir"], "Content-Type": "application/json"},
                         content=f'{{"version": {raw}, "answers": {{}}}}')
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "version"]
    assert _stored(session, world["aid"]).version == 0


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30, -(2**63) - 1])
def test_ids_beyond_the_database_integers_are_422(app_client: TestClient, session: Session,
                                                  settings: Settings, world: dict[str, Any],
                                                  number: int) -> None:
    for url in (f"/api/v1/assessments/{number}", f"/api/v1/assessments/{number}/reviews",
                f"/api/v1/shortlists/{number}", f"/api/v1/exports/{number}",
                f"/api/v1/structures?offset={number}"):
        r = app_client.get(url, headers=world["ars"])
        assert r.status_code == 422, (url, r.status_code)
        ApiError.model_validate(r.json())
    log_in(app_client, session, settings, make_user(session, role=Role.admin,
                                                    email="admin@test.fr"))
    for url in (f"/evaluations/{number}", f"/evaluations/{number}/declaration.pdf",
                f"/preuves/{number}", f"/admin/structures/import/{number}"):
        assert app_client.get(url).status_code == 422, url
    assert app_client.get(f"/api/v1/assessments/{2**31 - 1}",
                          headers=world["dir"]).status_code == 404


def test_nul_bytes_in_query_text_are_not_a_server_error(app_client: TestClient,
                                                        world: dict[str, Any]) -> None:
    r = app_client.get("/api/v1/structures", params={"region": "8\x004"}, headers=world["ars"])
    assert r.status_code in (200, 422)  # SQLite finds nothing; PostgreSQL refuses NUL
    if r.status_code == 422:
        assert r.json() == {"detail": "Une valeur de la requête ne peut pas être enregistrée "
                                      "(caractère interdit ou nombre hors limites)."}
    else:
        assert r.json() == []


# ---- defect 9: API contract ------------------------------------------------------------------


@pytest.mark.parametrize("version", [False, True, 10**30, 2**31, -1, 1.0, "0"])
def test_version_is_a_strict_bounded_integer(app_client: TestClient, session: Session,
                                             world: dict[str, Any], version: Any) -> None:
    r = _patch(app_client, world, {NUMBER_Q: 40}, version=version)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "version"]
    assert _stored(session, world["aid"]).answers == {}


def test_422_bodies_match_the_declared_schema(app_client: TestClient,
                                              world: dict[str, Any]) -> None:
    schema = app_client.get("/openapi.json").json()
    for path, method in (("/api/v1/assessments/{assessment_id}/answers", "patch"),
                         ("/api/v1/score", "post"),
                         ("/api/v1/assessments/{assessment_id}/submit", "post")):
        declared = schema["paths"][path][method]["responses"]["422"]
        assert declared["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ApiError"}, path
    bodies = [
        _patch(app_client, world, {TEXT_Q: "\x00"}),  # service error
        _patch(app_client, world, {}, version=False),  # request validation error
        app_client.post("/api/v1/score", json={"questionnaire": "esms-maturite-numerique",
                                               "answers": {"wifi": "satellite"}}),
        app_client.post(f"/api/v1/assessments/{world['aid']}/submit", headers=world["dir"]),
    ]
    for r in bodies:
        assert r.status_code == 422
        ApiError.model_validate(r.json())
    assert "public_accueilli" in bodies[3].json()["missing"]


def test_declaration_pdf_is_documented_as_pdf(app_client: TestClient) -> None:
    schema = app_client.get("/openapi.json").json()
    ok = schema["paths"]["/evaluations/{assessment_id}/declaration.pdf"]["get"]["responses"]
    assert list(ok["200"]["content"]) == ["application/pdf"]
    export = schema["paths"]["/api/v1/shortlists/{shortlist_id}/export.pdf"]["get"]
    assert list(export["responses"]["200"]["content"]) == ["application/pdf"]
    assert list(export["responses"]["202"]["content"]) == ["application/json"]


def _api_routes(routes: list[Any]) -> Any:
    from fastapi.routing import APIRoute
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI >= 0.160: included routers
            yield from _api_routes(route.original_router.routes)


def test_every_integer_path_and_query_parameter_is_bounded(app_client: TestClient) -> None:
    seen = set()
    for route in _api_routes(app_client.app.routes):  # type: ignore[attr-defined]
        for param in route.dependant.path_params + route.dependant.query_params:
            if param.field_info.annotation is not int:
                continue
            bounds = {type(m).__name__ for m in param.field_info.metadata}
            assert {"Ge", "Le"} <= bounds, (route.path, param.name)
            seen.add((route.path, param.name))
    assert ("/api/v1/assessments/{assessment_id}", "assessment_id") in seen
    assert ("/preuves/{evidence_id}", "evidence_id") in seen
    assert ("/api/v1/structures", "offset") in seen
    assert len(seen) > 30


def test_anonymous_upload_is_refused_before_its_body_is_read(app_client: TestClient) -> None:
    """The import form's body (up to the import limit) is not read for an anonymous client."""
    app = app_client.app
    size = 5 * 1024 * 1024
    received = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 64 * 1024
        return {"type": "http.request", "body": b"x" * (64 * 1024),
                "more_body": received < size}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/admin/structures/import",
             "raw_path": b"/admin/structures/import", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
             "headers": [(b"host", b"testserver"), (b"content-length", str(size).encode()),
                         (b"content-type", b"multipart/form-data; boundary=xyz")]}
    anyio.run(app, scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 303
    assert dict(start["headers"])[b"location"].startswith(b"/connexion")
    assert received == 0


def test_importer_still_uploads(app_client: TestClient, session: Session, settings: Settings,
                                tmp_path: Path) -> None:
    admin = make_user(session, role=Role.admin, email="admin@test.fr")
    token = log_in(app_client, session, settings, admin)
    path = write_file(tmp_path / "f.csv", [et_line("690000039", "690000047", "EHPAD", "500",
                                                   "69", acheminement="69003 LYON")])
    r = app_client.post("/admin/structures/import", data={"partial": "1"},
                        files={"file": ("f.csv", io.BytesIO(path.read_bytes()), "text/csv")},
                        headers=csrf_headers(token), follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/admin/structures/import/")


def test_shortlist_name_is_checked(app_client: TestClient, world: dict[str, Any]) -> None:
    def create(name: str) -> Any:
        return app_client.post("/api/v1/shortlists",
                               headers={**world["ars"], "Content-Type": "application/json"},
                               content=json.dumps({"name": name, "region": "84", "size": 5}))

    surrogate = create("Vague\ud800")  # pydantic refuses it in a `str` field
    assert surrogate.status_code == 422
    assert [e["loc"] for e in surrogate.json()["detail"]] == [["body", "name"]]
    nul = create("Vague\x00 2027")
    assert nul.status_code == 422
    message = "Nom de la sélection : le texte contient un caractère de contrôle interdit (U+0000)."
    assert nul.json() == {"detail": message, "problems": [message]}
    ApiError.model_validate(nul.json())
    assert create("Vague 2027").status_code == 201
