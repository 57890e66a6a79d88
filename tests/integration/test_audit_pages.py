"""The audit trail pages: admins only, filters (action, user, object, date range), paging,
CSV export (itself audited), and no route that edits or deletes the trail."""

from __future__ import annotations

import csv
import io
from contextlib import nullcontext
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import User
from app.audit import AuditEvent
from app.config import Settings
from app.permissions import Role
from tests.auth_helpers import csrf_headers, log_in
from tests.factories import make_user
from tests.routes import api_routes


@pytest.fixture
def trail(session: Session) -> dict[str, User]:
    alice = make_user(session, Role.ars, region="84", email="alice@ars.fr")
    bob = make_user(session, Role.committee, email="bob@comite.fr")

    def add(at: datetime, user: User | None, action: str, otype: str | None = None,
            oid: str | None = None) -> None:
        session.add(AuditEvent(at=at, user_id=user.id if user else None, action=action,
                               object_type=otype, object_id=oid, details={"n": 1},
                               ip="10.0.0.1"))

    # 23:30 UTC on 31 January is 00:30 on 1 February in Paris.
    add(datetime(2026, 1, 10, 9, 0, tzinfo=UTC), alice, "login")
    add(datetime(2026, 1, 31, 23, 30, tzinfo=UTC), bob, "shortlist_created", "shortlist", "7")
    add(datetime(2026, 2, 3, 8, 0, tzinfo=UTC), bob, "export", "shortlist", "7")
    add(datetime(2026, 2, 4, 8, 0, tzinfo=UTC), alice, "export", "region", "84")
    add(datetime(2026, 2, 5, 8, 0, tzinfo=UTC), None, "login_failed")
    session.commit()
    return {"alice": alice, "bob": bob}


def admin_client(client: TestClient, session: Session, settings: Settings) -> str:
    return log_in(client, session, settings, make_user(session, Role.admin))


def actions(response: object) -> list[str]:
    return [row["e"].action for row in response.context["events"]]  # type: ignore[attr-defined]


def test_journal_lists_newest_first(app_client: TestClient, session: Session,
                                    settings: Settings, trail: dict[str, User]) -> None:
    admin_client(app_client, session, settings)
    r = app_client.get("/admin/journal")
    assert r.status_code == 200
    # the admin's own login (now) comes first
    assert actions(r) == ["login", "login_failed", "export", "export", "shortlist_created",
                          "login"]
    assert r.context["total"] == 6  # type: ignore[attr-defined]
    assert "bob@comite.fr" in r.text and "Sélection n° 7" in r.text
    # French labels, never the codes, in the table and in the filters' choices
    assert '<th scope="row">Échec de connexion</th>' in r.text
    assert '<option value="shortlist_created">Sélection créée</option>' in r.text
    assert '<option value="region">Région</option>' in r.text
    assert ">shortlist_created<" not in r.text and ">login_failed<" not in r.text


@pytest.mark.parametrize(("query", "expected"), [
    ({"action": "export"}, ["export", "export"]),
    ({"utilisateur": "alice@"}, ["export", "login"]),
    ({"objet": "shortlist"}, ["export", "shortlist_created"]),
    ({"objet": "region", "identifiant": "84"}, ["export"]),
    # Paris days: 1 February starts at 23:00 UTC on 31 January
    ({"du": "2026-02-01", "au": "2026-02-03"}, ["export", "shortlist_created"]),
    ({"au": "2026-01-31"}, ["login"]),
])
def test_filters(app_client: TestClient, session: Session, settings: Settings,
                 trail: dict[str, User], query: dict[str, str], expected: list[str]) -> None:
    admin_client(app_client, session, settings)
    assert actions(app_client.get("/admin/journal", params=query)) == expected


def test_filter_by_user_id_and_bad_date(app_client: TestClient, session: Session,
                                        settings: Settings, trail: dict[str, User]) -> None:
    admin_client(app_client, session, settings)
    r = app_client.get("/admin/journal", params={"utilisateur": str(trail["bob"].id)})
    assert actions(r) == ["export", "shortlist_created"]
    bad = app_client.get("/admin/journal", params={"du": "31/01/2026"})
    assert bad.status_code == 200
    assert "Date invalide : utilisez le format AAAA-MM-JJ." in bad.text


def test_htmx_returns_the_results_block(app_client: TestClient, session: Session,
                                        settings: Settings, trail: dict[str, User]) -> None:
    admin_client(app_client, session, settings)
    r = app_client.get("/admin/journal", params={"action": "login"},
                       headers={"HX-Request": "true"})
    assert r.text.lstrip().startswith('<div id="resultats">')
    assert "<html" not in r.text


def test_paging(app_client: TestClient, session: Session, settings: Settings) -> None:
    for i in range(55):
        session.add(AuditEvent(at=datetime(2026, 3, 1, 8, i, tzinfo=UTC), action="login",
                               object_id=str(i)))
    session.commit()
    admin_client(app_client, session, settings)
    # 55 events + the admin's own login: 56, two pages
    first = app_client.get("/admin/journal", params={"action": "login"})
    assert len(actions(first)) == 50 and first.context["pages"] == 2  # type: ignore[attr-defined]
    second = app_client.get("/admin/journal", params={"action": "login", "page": 2})
    assert second.context["total"] == 56  # type: ignore[attr-defined]
    rows = second.context["events"]  # type: ignore[attr-defined]
    assert [row["e"].object_id for row in rows] == ["5", "4", "3", "2", "1", "0"]
    assert "action=login&amp;page=1" in second.text


@pytest.fixture
def stream_sessions(app_client: TestClient, session: Session,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The streamed export reads through the test's session, in pages of 2 rows."""
    from app import audit_trail
    from app.shortlists import jobs

    monkeypatch.setattr(audit_trail, "EXPORT_PAGE", 2)
    app_client.app.dependency_overrides[jobs.session_factory] = (  # type: ignore[attr-defined]
        lambda: (lambda: nullcontext(session)))


def test_csv_export_is_filtered_and_audited(app_client: TestClient, session: Session,
                                            settings: Settings, trail: dict[str, User],
                                            stream_sessions: None) -> None:
    admin_client(app_client, session, settings)
    r = app_client.get("/admin/journal/export.csv", params={"action": "export"})
    assert r.status_code == 200
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["Identifiant", "Date (heure de Paris, AAAA-MM-JJ HH:MM:SS)",
                       "Utilisateur (id)", "Utilisateur (courriel)", "Action",
                       "Code de l’action", "Type d’objet", "Code du type d’objet", "Objet",
                       "Adresse IP", "Détails (JSON)"]
    assert [row[1:] for row in rows[1:]] == [  # 08:00 UTC is 09:00 in Paris in February
        ["2026-02-04 09:00:00", str(trail["alice"].id), "alice@ars.fr", "Export de données",
         "export", "Région", "region", "84", "10.0.0.1", '{"n":1}'],
        ["2026-02-03 09:00:00", str(trail["bob"].id), "bob@comite.fr", "Export de données",
         "export", "Sélection", "shortlist", "7", "10.0.0.1", '{"n":1}'],
    ]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "audit_exported")).one()
    assert event.details == {"filters": {"action": "export"}}
    # unfiltered, read in pages of 2: every event once, newest first (the admin's login and
    # the first export's audit event included)
    everything = list(csv.reader(io.StringIO(
        app_client.get("/admin/journal/export.csv").content.decode("utf-8-sig"))))[1:]
    assert [row[5] for row in everything] == [
        "audit_exported", "audit_exported", "login", "login_failed", "export", "export",
        "shortlist_created", "login"]
    assert len({row[0] for row in everything}) == 8


@pytest.mark.parametrize("role", [Role.ars, Role.committee, Role.director])
def test_only_admins(app_client: TestClient, session: Session, settings: Settings,
                     role: Role) -> None:
    log_in(app_client, session, settings, make_user(session, role, region="84"))
    assert app_client.get("/admin/journal").status_code == 403
    assert app_client.get("/admin/journal/export.csv").status_code == 403


def test_the_trail_cannot_be_edited_or_deleted(app_client: TestClient, session: Session,
                                               settings: Settings,
                                               trail: dict[str, User]) -> None:
    from app.main import create_app

    journal = [r for r in api_routes(create_app()) if r.path.startswith("/admin/journal")]
    assert sorted(r.key for r in journal) == [("GET", "/admin/journal"),
                                              ("GET", "/admin/journal/export.csv")]
    token = admin_client(app_client, session, settings)
    event = session.exec(select(AuditEvent)).first()
    assert event is not None
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/admin/journal", f"/admin/journal/{event.id}"):
            r = app_client.request(method, path, headers=csrf_headers(token))
            assert r.status_code in (404, 405), (method, path, r.status_code)
    assert len(session.exec(select(AuditEvent)).all()) >= 5
