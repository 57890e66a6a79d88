"""Issue 8, defect 1: an ARS referent writes only structures that are and stay in their
region (permissions.can_write_structure), through every write path on structures.

The takeover: the ARS of region 84 uploads a `structureet` line for a structure of region 11
whose department field says `01` (Ain, region 84). Before the fix the line was "updated" and
the structure moved to region 84, with its director's draft and evidence.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.errors import Forbidden
from app.permissions import Actor, Role, can_write_structure
from app.routes.structures_admin import job_sessions
from app.structures import corrections, creation
from app.structures.models import ImportJob, Structure
from tests.factories import make_structure
from tests.fixtures.finess import et_line, write_file
from tests.integration.test_structures_import import _as, _job_id, _run, _structures

TAKEN = ("Structure rattachée à une autre région que la vôtre : non modifiée (seul un "
         "administrateur ou l’ARS de sa région peut la modifier).")


@pytest.fixture
def web(app_client: TestClient, session: Session) -> TestClient:
    """The app, with background imports running on the test's session."""
    cast(Any, app_client.app).dependency_overrides[job_sessions] = (
        lambda: (lambda: nullcontext(session)))
    return app_client


def test_rule() -> None:
    ars = Actor(id=1, role=Role.ars, region="84")
    assert can_write_structure(ars, None, "84")
    assert can_write_structure(ars, "84", "84")
    assert not can_write_structure(ars, "11", "84")  # the takeover
    assert not can_write_structure(ars, "84", "11")  # giving one away
    assert not can_write_structure(ars, None, "11")
    assert not can_write_structure(Actor(id=2, role=Role.ars), None, "84")  # no region
    assert not can_write_structure(Actor(id=1, role=Role.ars, region="84", active=False),
                                   "84", "84")
    assert can_write_structure(Actor(id=3, role=Role.admin), "11", "84")
    assert not can_write_structure(Actor(id=4, role=Role.committee, region="84"), "84", "84")
    assert not can_write_structure(Actor(id=5, role=Role.director,
                                         structure_ids=frozenset({1})), "84", "84")
    assert not can_write_structure(None, None, "84")


def test_ars_upload_cannot_take_another_regions_structure(
        web: TestClient, session: Session, settings: Settings, tmp_path: Path) -> None:
    paris = make_structure(session, department="75", name="EHPAD de Paris")  # region 11
    own = make_structure(session, department="69", name="Ancien nom")  # region 84
    ars = _as(web, session, settings, "ars", region="84")
    lines = [et_line(paris.finess, "", "PRIS PAR 84", "500", "01"),
             et_line(own.finess, "", "NOUVEAU NOM", "500", "69")]
    job_id = _job_id(ars.upload(write_file(tmp_path / "prise.csv", lines), partial="1"))

    job = session.get(ImportJob, job_id)
    assert job is not None and job.report is not None
    assert job.report["lines"] == [
        [2, paris.finess, "skipped", TAKEN, "not_writable"],
        [3, own.finess, "updated", "Numéro FINESS EJ absent : organisme gestionnaire "
                                   "inconnu.", None],
    ]
    assert (job.updated, job.skipped) == (1, 1)
    after = _structures(session)
    assert (after[paris.finess].region, after[paris.finess].department,
            after[paris.finess].name) == ("11", "75", "EHPAD de Paris")
    assert after[own.finess].name == "NOUVEAU NOM"
    page = ars.get(f"/admin/structures/import/{job_id}?statut=skipped")
    assert TAKEN in page.text

    # The referent of region 11 still sees it; the one of 84 still does not.
    assert ars.get(f"/structures/{paris.finess}").status_code == 404
    other = _as(web, session, settings, "ars", region="11")
    assert other.get(f"/structures/{paris.finess}").status_code == 200


def test_admin_import_may_still_move_a_structure(session: Session, tmp_path: Path) -> None:
    s = make_structure(session, department="75")
    admin = Actor(id=1, role=Role.admin)
    report, _ = _run(session, write_file(tmp_path / "a.csv",
                                         [et_line(s.finess, "", "X", "500", "01")]),
                     actor=admin)
    assert [(r.status, r.reason) for r in report.lines] == [("updated", None)]
    assert _structures(session)[s.finess].region == "84"


def test_full_reimport_by_ars_closes_only_its_region(session: Session,
                                                     tmp_path: Path) -> None:
    own = make_structure(session, department="69")
    paris = make_structure(session, department="75")
    kept = make_structure(session, department="01")
    ars = Actor(id=1, role=Role.ars, region="84")
    report, _ = _run(session, write_file(tmp_path / "a.csv",
                                         [et_line(kept.finess, "", "Ain", "500", "01")]),
                     actor=ars, region="84", close_missing=True)
    assert report.closed == [own.finess]
    after = _structures(session)
    assert after[own.finess].closed and not after[paris.finess].closed


def test_other_write_paths_refuse_an_ars(web: TestClient, session: Session,
                                         settings: Settings) -> None:
    paris = make_structure(session, department="75")
    ars = _as(web, session, settings, "ars", region="84")
    # Pages: corrections, pins and creation are the admin's (403 for an ARS of any region).
    assert ars.post(f"/admin/structures/{paris.finess}",
                    {"category_code": "500", "capacity": "", "department": "01"}
                    ).status_code == 403
    assert ars.post(f"/admin/structures/{paris.finess}/liberer/department").status_code == 403
    assert ars.post("/admin/structures/nouvelle", {
        "finess": "69 987 654 6", "name": "EHPAD ajouté", "category_code": "500",
        "department": "69", "city": "Lyon", "capacity": "40"}).status_code == 403
    # Services, called directly with an ARS actor: refused too.
    actor = Actor(id=ars.user.id or 0, role=Role.ars, region="84")
    with pytest.raises(Forbidden):
        corrections.correct(session, actor, paris.finess, corrections.CorrectionForm(
            category_code="500", department="01"))
    with pytest.raises(Forbidden):
        creation.create(session, actor, creation.NewStructureForm(
            finess="690000039", name="X", category_code="500", department="69"))
    session.expire_all()
    fresh = session.get(Structure, paris.id)
    assert fresh is not None and fresh.region == "11"
