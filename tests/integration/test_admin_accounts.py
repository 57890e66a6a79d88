"""The administrators' account page (issue 10): search, pages, structures by name, and the
change of an account's role and scope, audited. Expected values written by hand."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.accounts import admin_users
from app.accounts.models import DirectorStructure, User
from app.audit import AuditEvent
from app.config import Settings
from app.permissions import Role
from tests.auth_helpers import csrf_headers, log_in
from tests.factories import make_structure, make_user

ROW = re.compile(r'<tr id="user-(\d+)">\s*<th scope="row">([^<]*)<br>')


@pytest.fixture
def admin(session: Session) -> User:
    return make_user(session, Role.admin, email="admin@example.fr", name="Alice Admin")


def _emails(html: str, session: Session) -> list[str]:
    out = []
    for uid, _ in ROW.findall(html):
        user = session.get(User, int(uid))
        assert user is not None
        out.append(user.email)
    return out


def test_search_paging_and_structures_by_name(app_client: TestClient, session: Session,
                                              settings: Settings, admin: User,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    tilleuls = make_structure(session, name="EHPAD Les Tilleuls", department="69")
    make_user(session, Role.director, [tilleuls], email="claire@tilleuls.fr",
              name="Claire Martin")
    make_user(session, Role.ars, region="84", email="karim@ars.fr", name="Karim Benali")
    make_user(session, Role.committee, email="comite@national.fr", name="Comité national")
    log_in(app_client, session, settings, admin)

    page = app_client.get("/admin/utilisateurs?recherche=tilleuls")
    assert _emails(page.text, session) == ["claire@tilleuls.fr"]  # by structure name
    assert "EHPAD Les Tilleuls" in page.text
    assert "1 compte pour « tilleuls »" in page.text
    page = app_client.get(f"/admin/utilisateurs?recherche={tilleuls.finess[:6]}")
    assert _emails(page.text, session) == ["claire@tilleuls.fr"]  # by FINESS
    page = app_client.get("/admin/utilisateurs?recherche=BENALI")
    assert _emails(page.text, session) == ["karim@ars.fr"]  # by name
    page = app_client.get("/admin/utilisateurs?recherche=%25")
    assert _emails(page.text, session) == []
    assert "Aucun compte ne correspond à cette recherche." in page.text

    monkeypatch.setattr(admin_users, "PAGE_SIZE", 2)
    # Sorted by role then e-mail: admin, ars, committee, director.
    page = app_client.get("/admin/utilisateurs?page=2")
    assert _emails(page.text, session) == ["comite@national.fr", "claire@tilleuls.fr"]
    assert "4 comptes · page 2 sur 2" in page.text
    assert 'href="/admin/utilisateurs?page=1"' in page.text
    page = app_client.get("/admin/utilisateurs?page=x")
    assert _emails(page.text, session) == ["admin@example.fr", "karim@ars.fr"]


def test_admin_changes_role_and_scope_audited(app_client: TestClient, session: Session,
                                              settings: Settings, admin: User) -> None:
    a = make_structure(session, name="EHPAD Alpha", department="69")
    b = make_structure(session, name="SSIAD Bêta", department="01")
    user = make_user(session, Role.director, [a], email="dir@alpha.fr")
    token = log_in(app_client, session, settings, admin)

    form = app_client.get(f"/admin/utilisateurs/{user.id}")
    assert form.status_code == 200
    assert "EHPAD Alpha" in form.text
    assert f">{a.finess}</textarea>" in form.text

    # A director now fills in B instead of A.
    r = app_client.post(f"/admin/utilisateurs/{user.id}", headers=csrf_headers(token),
                        data={"role": "director", "region": "", "structures": b.finess},
                        follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/utilisateurs?info=modifie"
    links = session.exec(select(DirectorStructure.structure_id)
                         .where(DirectorStructure.user_id == user.id)).all()
    assert links == [b.id]

    # Then becomes the ARS referent of region 84 (no structures left).
    r = app_client.post(f"/admin/utilisateurs/{user.id}", headers=csrf_headers(token),
                        data={"role": "ars", "region": "84", "structures": ""},
                        follow_redirects=False)
    assert r.status_code == 303
    session.expire_all()
    changed = session.get(User, user.id)
    assert changed is not None and (changed.role, changed.region) == ("ars", "84")
    assert session.exec(select(DirectorStructure)
                        .where(DirectorStructure.user_id == user.id)).all() == []

    events = session.exec(select(AuditEvent).where(AuditEvent.action == "user_updated")
                          .order_by(col(AuditEvent.id))).all()
    assert [(e.user_id, e.object_type, e.object_id, e.details) for e in events] == [
        (admin.id, "user", str(user.id),
         {"before": {"role": "director", "region": None, "structures": [a.finess]},
          "after": {"role": "director", "region": None, "structures": [b.finess]}}),
        (admin.id, "user", str(user.id),
         {"before": {"role": "director", "region": None, "structures": [b.finess]},
          "after": {"role": "ars", "region": "84", "structures": []}})]

    # The new role applies at once: the account now sees region 84's dashboard.
    log_in(app_client, session, settings, changed)
    assert app_client.get("/regions/84", follow_redirects=False).status_code == 200


def test_invalid_scope_is_refused_in_french(app_client: TestClient, session: Session,
                                            settings: Settings, admin: User) -> None:
    user = make_user(session, Role.committee, email="comite@example.fr")
    token = log_in(app_client, session, settings, admin)
    url = f"/admin/utilisateurs/{user.id}"
    cases = [({"role": "ars", "region": "", "structures": ""},
              "Un compte ARS doit avoir une région."),
             ({"role": "director", "region": "84", "structures": ""},
              "Seuls les comptes ARS et comité de sélection ont une région."),
             ({"role": "director", "region": "", "structures": "690000000"},
              "Aucune structure de numéro FINESS 690000000."),
             ({"role": "chef", "region": "", "structures": ""}, "Choisissez un rôle.")]
    for data, message in cases:
        r = app_client.post(url, headers=csrf_headers(token), data=data)
        assert r.status_code == 422, data
        assert message in r.text
        assert "Rien n’a été enregistré : corrigez les champs signalés." in r.text
    # An admin cannot remove their own admin role.
    r = app_client.post(f"/admin/utilisateurs/{admin.id}", headers=csrf_headers(token),
                        data={"role": "ars", "region": "84", "structures": ""})
    assert r.status_code == 422
    assert "Vous ne pouvez pas retirer votre propre rôle d’administrateur" in r.text
    session.expire_all()
    assert session.get(User, user.id).role == "committee"  # type: ignore[union-attr]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user_updated")).all() \
        == []


def test_only_admins(app_client: TestClient, session: Session, settings: Settings,
                     admin: User) -> None:
    victim = make_user(session, Role.director, email="victime@example.fr")
    for role, region in ((Role.ars, "84"), (Role.committee, None), (Role.director, None)):
        token = log_in(app_client, session, settings, make_user(session, role, region=region))
        assert app_client.get(f"/admin/utilisateurs/{victim.id}",
                              follow_redirects=False).status_code == 403
        r = app_client.post(f"/admin/utilisateurs/{victim.id}", headers=csrf_headers(token),
                            data={"role": "admin", "region": "", "structures": ""},
                            follow_redirects=False)
        assert r.status_code == 403
    session.expire_all()
    assert session.get(User, victim.id).role == "director"  # type: ignore[union-attr]
    log_in(app_client, session, settings, admin)
    assert app_client.get("/admin/utilisateurs/999999").status_code == 404
