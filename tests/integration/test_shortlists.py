"""Shortlists through the app: service on the database, API (exact request/response),
builder pages (plain GET form and htmx preview), frozen shortlists, re-runs, permissions,
audit. Expected lists are worked out by hand from `dataset` below."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.audit import AuditEvent
from app.config import Settings
from app.dashboard.read_model import record_submission
from app.dashboard.service import refresh_structures
from app.permissions import Actor, Role
from app.shortlists import readmodel, service
from app.shortlists.models import AssessmentFacts, Shortlist, ShortlistCandidate
from app.shortlists.ranking import Criteria
from app.structures.models import Structure
from tests.auth_helpers import csrf_headers, log_in
from tests.factories import make_assessment, make_structure, make_user

HTMX = {"HX-Request": "true"}


def snapshot(level: int, unmet_next: int | None, funding: list[str],
             steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A minimal stored result: paliers 0..4, `unmet_next` unmet requirements on the palier
    above `level` (None: `level` is the top), eligible `funding`."""
    tiers = []
    for lv in range(5):
        if lv == level + 1 and unmet_next is not None:
            reqs = [{"id": f"r{i}", "met": i >= unmet_next} for i in range(4)]
        else:
            reqs = [{"id": "r0", "met": lv <= level}]
        tiers.append({"id": f"palier-{lv}", "level": lv, "requirements": reqs})
    return {"tiers": tiers, "tier": {"id": f"palier-{level}", "level": level},
            "funding": [{"id": f, "eligible": True} for f in funding]
            + [{"id": "autre", "eligible": False}],
            "next_steps": steps or []}


@dataclass
class Data:
    s: dict[str, Structure]
    committee84: User
    committee_national: User
    ars84: User
    ars11: User
    admin: User
    director: User


@pytest.fixture
def dataset(session: Session) -> Data:
    def when(month: int, day: int) -> datetime:
        return datetime(2026, month, day, 9, 30, tzinfo=UTC)

    s = {
        "alpha": make_structure(session, name="EHPAD Alpha", department="69", capacity=80),
        "beta": make_structure(session, name="EHPAD Beta", department="69", capacity=120),
        "gamma": make_structure(session, name="MAS Gamma", department="01",
                                category_code="255", capacity=30),
        "delta": make_structure(session, name="IME Delta", department="01",
                                category_code="183", capacity=60),
        "epsilon": make_structure(session, name="EHPAD Epsilon", department="69"),
        "paris": make_structure(session, name="EHPAD Paris", department="75"),
    }
    step = {"requirement": "r1", "tier": 3, "label": "INS qualifiée", "title": "=Qualifier",
            "detail": "", "effort": "moyen", "funding": ["esms-numerique"]}
    make_assessment(session, s["alpha"], "submitted", tier_level=2, global_score=70.0,
                    submitted_at=when(3, 1), result=snapshot(2, 2, ["esms-numerique"], [step]),
                    domain_scores={"dui": (7, 10), "securite": (5, 10)})
    # beta: an older submission, then the latest one (which counts).
    make_assessment(session, s["beta"], "submitted", tier_level=1, global_score=40.0,
                    submitted_at=when(1, 2), result=snapshot(1, 3, []))
    make_assessment(session, s["beta"], "submitted", tier_level=3, global_score=70.0,
                    submitted_at=when(3, 5), result=snapshot(3, 1, ["esms-numerique"]),
                    domain_scores={"dui": (9, 10), "securite": (8, 10)})
    make_assessment(session, s["gamma"], "submitted", tier_level=1, global_score=55.0,
                    submitted_at=when(2, 1), result=snapshot(1, 3, []),
                    domain_scores={"dui": (2, 10), "securite": (9, 10)})
    make_assessment(session, s["delta"], "submitted", tier_level=4, global_score=92.5,
                    submitted_at=when(1, 15), result=snapshot(4, None, ["esms-numerique"]),
                    domain_scores={"dui": (10, 10), "securite": (10, 10)})
    make_assessment(session, s["epsilon"])  # a draft only
    make_assessment(session, s["paris"], "submitted", tier_level=2, global_score=80.0,
                    submitted_at=when(2, 2), result=snapshot(2, 1, []))
    refresh_structures(session)  # the read models, as submit() keeps them
    session.commit()
    return Data(
        s=s,
        committee84=make_user(session, Role.committee, region="84"),
        committee_national=make_user(session, Role.committee),
        ars84=make_user(session, Role.ars, region="84"),
        ars11=make_user(session, Role.ars, region="11"),
        admin=make_user(session, Role.admin),
        director=make_user(session, Role.director, [s["alpha"]]),
    )


def actor(user: User) -> Actor:
    return Actor(id=user.id or 0, role=Role(user.role), region=user.region)


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in rows]


# ---- service --------------------------------------------------------------------------------


def test_build_uses_latest_submission_and_stored_facts(session: Session, dataset: Data) -> None:
    # Region 84, global desc: Delta 92.5; Beta and Alpha tie at 70: Beta has 1 unmet
    # requirement for the next palier, Alpha 2; Gamma 55. Epsilon: no submission.
    sel = service.build(session, actor(dataset.committee84), Criteria(region="84", size=10))
    assert [r.candidate.name for r in sel.rows] == ["IME Delta", "EHPAD Beta", "EHPAD Alpha",
                                                    "MAS Gamma"]
    assert [r.candidate.readiness for r in sel.rows] == [None, 1, 2, 3]
    assert [r.candidate.tier_level for r in sel.rows] == [4, 3, 2, 1]
    assert sel.excluded == {"no_submission": 1}
    assert sel.versions == ["esms-maturite-numerique@2026.2"]
    # The snapshot facts are the shortlists' read model, written with the latest results
    # (one per structure with a submission: the four above and Paris).
    facts = {f.structure_id: f for f in session.exec(select(ShortlistCandidate)).all()}
    assert len(facts) == 5
    assert (facts[dataset.s["beta"].id or 0].readiness,
            facts[dataset.s["beta"].id or 0].funding) == (1, "|esms-numerique|")


def test_funding_sector_and_domain_key(session: Session, dataset: Data) -> None:
    # eligible to esms-numerique: Delta, Beta, Alpha; by domain dui: Delta 100, Beta 90,
    # Alpha 70. Sector personnes âgées: Beta, Alpha (Epsilon has no submission).
    a = actor(dataset.committee84)
    sel = service.build(session, a, Criteria(region="84", size=10,
                                             eligible_for="esms-numerique",
                                             rank_by="domain:dui"))
    assert [r.candidate.name for r in sel.rows] == ["IME Delta", "EHPAD Beta", "EHPAD Alpha"]
    assert [r.key for r in sel.rows] == [100.0, 90.0, 70.0]
    assert sel.excluded == {"no_submission": 1, "funding": 1}
    sel = service.build(session, a, Criteria(region="84", size=10,
                                             categories=["personnes_agees"]))
    assert [r.candidate.name for r in sel.rows] == ["EHPAD Beta", "EHPAD Alpha"]


# ---- API ------------------------------------------------------------------------------------


def request_body(**kw: Any) -> dict[str, Any]:
    body = {"name": "Vague test", "region": "84", "departments": [], "categories": [],
            "tiers": [0, 4], "eligible_for": None, "review_status": [], "rank_by": "global",
            "order": "desc", "size": 3, "quotas": [{"by": "department", "min": 1}]}
    body.update(kw)
    return body


def login(client: TestClient, session: Session, settings: Settings, user: User) -> str:
    return log_in(client, session, settings, user)


def test_api_create_exact_response(app_client: TestClient, session: Session,
                                   settings: Settings, dataset: Data) -> None:
    # min 1 per department (01, 69), size 3, global desc: Delta (01) and Beta (69) by the
    # minimum, then Alpha by rank.
    token = login(app_client, session, settings, dataset.committee84)
    r = app_client.post("/api/v1/shortlists", json=request_body(), headers=csrf_headers(token))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "hash", "rows", "excluded", "warnings"}
    assert body["rows"] == [
        {"rank": 1, "finess": dataset.s["delta"].finess, "name": "IME Delta", "tier": 4,
         "score": 92.5, "group": "01", "rule": "min:department"},
        {"rank": 2, "finess": dataset.s["beta"].finess, "name": "EHPAD Beta", "tier": 3,
         "score": 70.0, "group": "69", "rule": "min:department"},
        {"rank": 3, "finess": dataset.s["alpha"].finess, "name": "EHPAD Alpha", "tier": 2,
         "score": 70.0, "group": "69", "rule": "rank"},
    ]
    assert body["excluded"] == {"no_submission": 1}
    assert len(body["hash"]) == 64
    saved = session.get(Shortlist, body["id"])
    assert saved is not None and saved.hash == body["hash"] and saved.region == "84"
    assert saved.criteria["quotas"] == [{"by": "department", "min": 1}]
    assert saved.rows[0]["domain_scores"] == {"dui": 100.0, "securite": 100.0}

    got = app_client.get(f"/api/v1/shortlists/{body['id']}")
    assert got.status_code == 200
    assert got.json()["rows"] == body["rows"] and got.json()["hash"] == body["hash"]
    assert got.json()["name"] == "Vague test"

    event = session.exec(select(AuditEvent).where(AuditEvent.action == "shortlist_created")
                         ).one()
    assert event.user_id == dataset.committee84.id
    assert event.object_type == "shortlist" and event.object_id == str(body["id"])
    assert event.details["hash"] == body["hash"] and event.details["rows"] == 3


def test_same_criteria_same_hash_whoever_and_whatever_the_name(
        app_client: TestClient, session: Session, settings: Settings, dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    first = app_client.post("/api/v1/shortlists", json=request_body(departments=["01", "69"]),
                            headers=csrf_headers(token)).json()
    again = app_client.post("/api/v1/shortlists",
                            json=request_body(name="Autre nom", departments=["01", "69"]),
                            headers=csrf_headers(token)).json()
    token = login(app_client, session, settings, dataset.ars84)
    other = app_client.post("/api/v1/shortlists",
                            json=request_body(name="Par l'ARS", departments=["69", "01"]),
                            headers=csrf_headers(token)).json()
    assert first["id"] != again["id"] != other["id"]
    assert first["hash"] == again["hash"] == other["hash"]
    changed = app_client.post("/api/v1/shortlists", json=request_body(size=2, quotas=[]),
                              headers=csrf_headers(token)).json()
    assert changed["hash"] != first["hash"]


def test_api_infeasible_quotas_are_a_clear_error(app_client: TestClient, session: Session,
                                                  settings: Settings, dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    r = app_client.post("/api/v1/shortlists",
                        json=request_body(quotas=[{"by": "department", "min": 3}], size=6),
                        headers=csrf_headers(token))
    assert r.status_code == 422
    assert r.json()["problems"] == [
        "Le département 01 ne compte que 2 structures éligibles pour un minimum de 3.",
        "Le département 69 ne compte que 2 structures éligibles pour un minimum de 3."]
    assert session.exec(select(Shortlist)).all() == []
    bad = app_client.post("/api/v1/shortlists", json=request_body(departments=["75"]),
                          headers=csrf_headers(token))
    assert bad.status_code == 422
    assert bad.json()["problems"] == ["Départements hors de la région 84 : 75."]
    invalid = app_client.post("/api/v1/shortlists", json=request_body(rank_by="best"),
                              headers=csrf_headers(token))
    assert invalid.status_code == 422


# ---- permissions ----------------------------------------------------------------------------


def test_regional_committee_never_sees_another_region(
        app_client: TestClient, session: Session, settings: Settings, dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee_national)
    paris = app_client.post("/api/v1/shortlists",
                            json=request_body(region="11", quotas=[], size=5),
                            headers=csrf_headers(token)).json()
    assert names(paris["rows"]) == ["EHPAD Paris"]
    national = app_client.post("/api/v1/shortlists",
                               json=request_body(region=None, quotas=[], size=2),
                               headers=csrf_headers(token)).json()
    assert names(national["rows"]) == ["IME Delta", "EHPAD Paris"]

    token = login(app_client, session, settings, dataset.committee84)
    for path in (f"/api/v1/shortlists/{paris['id']}", f"/selections/{paris['id']}",
                 f"/api/v1/shortlists/{national['id']}/export.csv",
                 f"/selections/{paris['id']}/comparaison"):
        assert app_client.get(path).status_code == 404, path
    r = app_client.post("/api/v1/shortlists", json=request_body(region="11"),
                        headers=csrf_headers(token))
    assert r.status_code == 404
    r = app_client.post("/api/v1/shortlists", json=request_body(region=None),
                        headers=csrf_headers(token))
    assert r.status_code == 403
    listing = app_client.get("/selections")
    assert [s.id for s in listing.context["shortlists"]] == []  # type: ignore[attr-defined]

    token = login(app_client, session, settings, dataset.ars11)
    assert app_client.get(f"/api/v1/shortlists/{paris['id']}").status_code == 200
    assert app_client.get(f"/api/v1/shortlists/{national['id']}").status_code == 404


def test_director_is_refused(app_client: TestClient, session: Session, settings: Settings,
                             dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.director)
    assert app_client.post("/api/v1/shortlists", json=request_body(),
                           headers=csrf_headers(token)).status_code == 403
    for path in ("/selections", "/selections/nouvelle", "/selections/1"):
        assert app_client.get(path, follow_redirects=False).status_code == 403, path
    denied = session.exec(select(AuditEvent).where(AuditEvent.action == "permission_denied")
                          ).all()
    assert len(denied) == 4


def test_anonymous_api_is_401(app_client: TestClient, dataset: Data) -> None:
    assert app_client.post("/api/v1/shortlists", json=request_body()).status_code == 401


# ---- pages ----------------------------------------------------------------------------------


def builder_query(**kw: Any) -> dict[str, Any]:
    q: dict[str, Any] = {"taille_liste": "3", "classement": "global", "apercu": "1"}
    q.update(kw)
    return q


def test_builder_first_visit_and_plain_get_preview(app_client: TestClient, session: Session,
                                                   settings: Settings, dataset: Data) -> None:
    login(app_client, session, settings, dataset.committee84)
    first = app_client.get("/selections/nouvelle")  # defaults: 20 by global score
    assert first.status_code == 200
    assert [row.candidate.name for row in first.context["preview"]["selection"].rows] == [  # type: ignore[attr-defined]
        "IME Delta", "EHPAD Beta", "EHPAD Alpha", "MAS Gamma"]
    assert 'form="enregistrer" name="taille_liste" value="20"' in first.text

    r = app_client.get("/selections/nouvelle", params=builder_query(min_department="1"))
    assert r.status_code == 200
    preview = r.context["preview"]  # type: ignore[attr-defined]
    sel = preview["selection"]
    assert [row.candidate.name for row in sel.rows] == ["IME Delta", "EHPAD Beta",
                                                        "EHPAD Alpha"]
    assert sel.groups["department"] == {"01": 2, "69": 2}
    assert sel.excluded == {"no_submission": 1}
    assert "Structures exclues, par motif</caption>" in r.text
    assert 'name="min_department" value="1"' in r.text
    assert 'form="enregistrer" name="min_department" value="1"' in r.text
    assert "Enregistrer et figer la sélection de l’aperçu" in r.text
    assert "<!doctype html>" in r.text.lower()


def test_builder_htmx_preview_is_only_the_block(app_client: TestClient, session: Session,
                                                settings: Settings, dataset: Data) -> None:
    login(app_client, session, settings, dataset.committee84)
    r = app_client.get("/selections/nouvelle", params=builder_query(min_department="3"),
                       headers=HTMX)
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div id="apercu">')
    assert "<html" not in r.text
    assert "Quotas impossibles à respecter" in r.text
    assert "Le département 01 ne compte que 2 structures éligibles pour un minimum de 3." \
        in r.text
    assert r.headers["vary"] == "HX-Request"


def test_save_from_the_builder_then_detail_and_exports_links(
        app_client: TestClient, session: Session, settings: Settings, dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    data = {**builder_query(min_department="1"), "nom": "  Panel 2027  ",
            "csrf_token": token}
    r = app_client.post("/selections", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    shortlist = session.exec(select(Shortlist)).one()
    assert r.headers["location"] == f"/selections/{shortlist.id}?enregistree=1"
    assert shortlist.name == "Panel 2027"
    assert names(shortlist.rows) == ["IME Delta", "EHPAD Beta", "EHPAD Alpha"]
    page = app_client.get(r.headers["location"])
    assert page.status_code == 200
    assert "Sélection enregistrée" in page.text and shortlist.hash in page.text
    assert f'href="/selections/{shortlist.id}/export.xlsx"' in page.text
    api = app_client.post("/api/v1/shortlists", json=request_body(tiers=None),
                          headers=csrf_headers(token)).json()
    assert api["hash"] == shortlist.hash  # the form and the API give the same frozen list

    nameless = app_client.post("/selections", data={**data, "nom": " "},
                               follow_redirects=False)
    assert nameless.status_code == 422
    assert "Donnez un nom à la sélection." in nameless.text


def test_rerun_shows_what_changed(app_client: TestClient, session: Session,
                                  settings: Settings, dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.committee84)
    body = app_client.post("/api/v1/shortlists", json=request_body(quotas=[], size=3),
                           headers=csrf_headers(token)).json()
    same = app_client.get(f"/selections/{body['id']}/comparaison")
    assert same.status_code == 200
    assert same.context["rerun"].same  # type: ignore[attr-defined]
    assert "Aucun changement" in same.text
    # Epsilon submits with 95: enters first; Alpha (3rd) leaves; Delta and Beta move down.
    make_assessment(session, dataset.s["epsilon"], "submitted", tier_level=4,
                    global_score=95.0, result=snapshot(4, None, []),
                    submitted_at=datetime(2026, 4, 1, tzinfo=UTC))
    refresh_structures(session, [dataset.s["epsilon"].id or 0])  # as submit() does
    session.commit()
    changed = app_client.get(f"/selections/{body['id']}/comparaison")
    diff = changed.context["rerun"].diff  # type: ignore[attr-defined]
    assert names(diff.added) == ["EHPAD Epsilon"]
    assert names(diff.removed) == ["EHPAD Alpha"]
    assert [(o["name"], o["rank"], n["rank"]) for o, n in diff.moved] == [
        ("IME Delta", 1, 2), ("EHPAD Beta", 2, 3)]
    assert "Entrées" in changed.text and "Sorties" in changed.text
    # the saved list never changes
    assert names(session.get(Shortlist, body["id"]).rows) == [  # type: ignore[union-attr]
        "IME Delta", "EHPAD Beta", "EHPAD Alpha"]


def test_list_page(app_client: TestClient, session: Session, settings: Settings,
                   dataset: Data) -> None:
    token = login(app_client, session, settings, dataset.admin)
    app_client.post("/api/v1/shortlists", json=request_body(name="Liste A"),
                    headers=csrf_headers(token))
    r = app_client.get("/selections")
    assert r.status_code == 200
    assert [s.name for s in r.context["shortlists"]] == ["Liste A"]  # type: ignore[attr-defined]
    assert r.context["shortlists"][0].rows == 3  # type: ignore[attr-defined]
    assert "Liste A" in r.text


def test_facts_rows_are_reused(session: Session, dataset: Data) -> None:
    # The pure path (the specification, build_pure) caches the snapshot facts.
    a = actor(dataset.committee_national)
    service.build_pure(session, a, Criteria(size=10))
    first = session.exec(select(col(AssessmentFacts.assessment_id))).all()
    service.build_pure(session, a, Criteria(size=10))
    assert sorted(session.exec(select(col(AssessmentFacts.assessment_id))).all()) \
        == sorted(first)
    assert len(first) == 5


def test_missing_read_model_rows_are_filled(session: Session, dataset: Data) -> None:
    # A database upgraded to 0007 before any refresh: start-up (app.main) fills the rows.
    session.exec(delete(ShortlistCandidate))  # type: ignore[call-overload]
    session.commit()
    readmodel.ensure(session)
    sel = service.build(session, actor(dataset.committee84), Criteria(
        region="84", size=10, eligible_for="esms-numerique", rank_by="readiness"))
    assert [r.candidate.name for r in sel.rows] == ["EHPAD Beta", "EHPAD Alpha", "IME Delta"]
    assert len(session.exec(select(ShortlistCandidate)).all()) == 5
    assert _stored_scores(session, dataset)["alpha"] == '{"dui":70.0,"securite":50.0}'


def _stored_scores(session: Session, data: Data) -> dict[str, str]:
    """`shortlist_candidate.domain_scores` by structure key of the dataset."""
    keys = {s.id: key for key, s in data.s.items()}
    return {keys[c.structure_id]: c.domain_scores
            for c in session.exec(select(ShortlistCandidate)).all()}


def test_read_model_keeps_the_latest_domain_scores_as_canonical_json(
        session: Session, dataset: Data) -> None:
    # Scores = 100 × earned / max (tests.factories): alpha 7/10, 5/10; beta's latest 9/10,
    # 8/10 (its older submission has none); paris none; epsilon (a draft) no row.
    assert _stored_scores(session, dataset) == {
        "alpha": '{"dui":70.0,"securite":50.0}', "beta": '{"dui":90.0,"securite":80.0}',
        "gamma": '{"dui":20.0,"securite":90.0}', "delta": '{"dui":100.0,"securite":100.0}',
        "paris": "{}"}
    # A new submission (what submit() records): its scores, a domain without any (max 0:
    # null), keys sorted.
    a = make_assessment(session, dataset.s["paris"], "submitted", tier_level=1,
                        global_score=30.0, submitted_at=datetime(2026, 4, 1, tzinfo=UTC),
                        result=snapshot(1, 2, []),
                        domain_scores={"securite": (0, 0), "dui": (1, 4)})
    record_submission(session, a.id or 0)
    session.commit()
    assert _stored_scores(session, dataset)["paris"] == '{"dui":25.0,"securite":null}'
    # The frozen rows carry them, and so does the stored shortlist.
    created = service.create(session, actor(dataset.committee_national), "Liste",
                             Criteria(size=10, rank_by="domain:dui"))
    session.expire_all()
    saved = session.get(Shortlist, created.id)
    assert saved is not None and saved.hash == created.hash
    rows = {r["name"]: r for r in saved.rows}
    assert rows["EHPAD Paris"]["domain_scores"] == {"dui": 25.0, "securite": None}
    assert rows["EHPAD Paris"]["key"] == 25.0
    assert rows["EHPAD Alpha"]["domain_scores"] == {"dui": 70.0, "securite": 50.0}
    assert '"domain_scores":{"dui":25.0,"securite":null}' in created.rows_json
    # A structure refreshed again (an import, `palier dashboard refresh`) keeps them.
    refresh_structures(session, [dataset.s["paris"].id or 0])
    session.commit()
    assert _stored_scores(session, dataset)["paris"] == '{"dui":25.0,"securite":null}'


def test_review_status_filter_uses_the_latest_review(session: Session, dataset: Data) -> None:
    # Reviews: Delta validée; Beta à revoir then validée (latest counts); Alpha à revoir;
    # Gamma never reviewed. Keep validée + non revue: Delta, Beta, Gamma.
    from app.reviews.models import AssessmentReview
    from app.shortlists.service import latest_submitted_ids

    ids = dict(session.exec(select(col(Structure.name), col(Structure.id))).all())
    latest = set(session.exec(latest_submitted_ids(select(col(Structure.id)))).all())
    from app.assessments.models import Assessment

    by_name = {name: session.exec(select(col(Assessment.id)).where(
        col(Assessment.structure_id) == sid, col(Assessment.id).in_(latest))).first()
        for name, sid in ids.items()}
    for name, status in [("IME Delta", "validee"), ("EHPAD Beta", "a_revoir"),
                         ("EHPAD Beta", "validee"), ("EHPAD Alpha", "a_revoir")]:
        session.add(AssessmentReview(assessment_id=by_name[name], status=status))
    session.commit()
    sel = service.build(session, actor(dataset.committee84),
                        Criteria(region="84", size=10, review_status=["validee", "non_revue"]))
    assert [r.candidate.name for r in sel.rows] == ["IME Delta", "EHPAD Beta", "MAS Gamma"]
    assert [r.candidate.review_status for r in sel.rows] == ["validee", "validee", "non_revue"]
    assert sel.excluded == {"no_submission": 1, "review_status": 1}


def test_unknown_heavy_or_incomplete_results_are_never_counted_eligible(
        session: Session) -> None:
    """Real 2026.2 results: only `eligible: true` passes an eligibility filter."""
    from app.questionnaires import Registry
    from scoring import score
    from tests.answers import best
    from tests.unit.test_questionnaire_2026_2 import ALL_UNKNOWN_EHPAD

    q = Registry.load(Path(__file__).resolve().parents[2] / "questionnaires").get(
        "esms-maturite-numerique", "2026.2")
    assert q is not None
    incomplete = {k: v for k, v in best("ehpad").items() if k != "wifi"}
    for name, answers in (("EHPAD Complet", best("ehpad")), ("EHPAD Inconnu", ALL_UNKNOWN_EHPAD),
                          ("EHPAD Incomplet", incomplete)):
        r = score(q, answers)
        make_assessment(session, make_structure(session, name=name, department="69"),
                        "submitted", answers=answers, result=r.to_dict(),
                        tier_level=r.tier_level, global_score=r.global_score)
    refresh_structures(session)  # the read models, as submit() keeps them
    committee = actor(make_user(session, Role.committee, region="84"))
    for programme in ("esms-numerique", "segur-vague-2-ms"):
        sel = service.build(session, committee,
                            Criteria(region="84", size=10, eligible_for=programme))
        assert [row.candidate.name for row in sel.rows] == ["EHPAD Complet"], programme
    # A resource is never eligible: nobody passes.
    sel = service.build(session, committee,
                        Criteria(region="84", size=10, eligible_for="care-cybersecurite"))
    assert sel.rows == []
