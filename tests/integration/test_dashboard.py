"""The regional dashboard's figures (app.dashboard.service and the summary API), checked against
numbers worked out by hand on a small fixture dataset; the read model kept current by submit(),
the demo and the migration's backfill.

The fixture (region 84, Auvergne-Rhône-Alpes; scores on 100; dates UTC at noon):

    key  dept cat  capacity declared tier global dui securite  submitted    version
    s1   01   500  80       30       1    30     20  25        2025-02-10   2026.1
         (s1 also submitted earlier: 2024-11-05, palier 0, global 10: not its latest)
    s2   01   500  80       50       2    50     50  50        2025-05-10   2026.1
    s3   69   500  120      -        2    60     60  40        2025-08-10   2026.1
    s4   69   500  45       45       3    70     70  70        2025-11-10   2026.1
    s5   69   202  60       60       1    40     40  30        2025-11-20   2026.1
    s6   38   255  250      250      0    10     10  20        2026-01-15   2026.1
    s7   38   500  70       70       3    80     80  90        2026-02-15   2026.1
    s8   38   500  90       90       4    90     90  100       2026-03-10   2026.1
    s12  38   500  60       60       2    55     55  -         2025-06-01   2025.1 (older)
    s9   01   500  35       no submission, a draft in progress
    s10  69   354  -        nothing
    s11  69   500  80       closed (its palier-4 submission is not counted)
  region 11 (Paris), for the national figures:
    n1   75   500  50       50       2    40     40  40        2026-01-10   2026.1
    n2   75   500  50       50       1    20     30  10        2026-01-12   2026.1
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.auth import build_actor, issue_api_token
from app.accounts.models import User
from app.assessments import service as assessments
from app.assessments.models import Assessment
from app.config import Settings
from app.dashboard import service as svc
from app.dashboard.models import DashboardSubmission, LatestDomainScore, LatestResult
from app.errors import Forbidden, NotFound
from app.permissions import Actor, Role
from app.questionnaires import Registry
from app.structures.models import Structure
from scoring import score
from tests.answers import PETIT_EHPAD, best
from tests.auth_helpers import bearer, log_in
from tests.factories import make_assessment, make_structure, make_user

REF = "2026.2"  # the newest version: the dashboards' reference
OLD = "2025.1"


def at(y: int, m: int, d: int, hour: int = 12) -> datetime:
    return datetime(y, m, d, hour, tzinfo=UTC)


@dataclass
class World:
    s: dict[str, Structure]
    ars84: User
    ars11: User
    committee84: User
    committee_nat: User
    admin: User
    director4: User  # director of s4
    director_n1: User  # director of n1 (another region)


def _submitted(session: Session, s: Structure, tier: int, glob: float, dui: float | None,
               sec: float | None, when: datetime, *, declared: int | None = None,
               version: str = REF) -> Assessment:
    domains = {}
    if dui is not None:
        domains["dui"] = (dui / 5, 20.0)  # scores on 100 as earned/max with max 20
    if sec is not None:
        domains["securite"] = (sec / 5, 20.0)
    return make_assessment(session, s, "submitted", tier_level=tier, global_score=glob,
                           tier_id=f"palier-{tier}", domain_scores=domains, submitted_at=when,
                           questionnaire_version=version,
                           answers={"capacite": declared} if declared else {})


def build(session: Session) -> World:
    """The fixture dataset above, with the read model refreshed."""
    mk = make_structure
    s = {
        "s1": mk(session, name="Alpha", department="01", category_code="500", capacity=80),
        "s2": mk(session, name="Bravo", department="01", category_code="500", capacity=80),
        "s3": mk(session, name="Charlie", department="69", category_code="500", capacity=120),
        "s4": mk(session, name="Delta", department="69", category_code="500", capacity=45),
        "s5": mk(session, name="Echo", department="69", category_code="202", capacity=60),
        "s6": mk(session, name="Foxtrot", department="38", category_code="255", capacity=250),
        "s7": mk(session, name="Golf", department="38", category_code="500", capacity=70),
        "s8": mk(session, name="Hotel", department="38", category_code="500", capacity=90),
        "s9": mk(session, name="India", department="01", category_code="500", capacity=35),
        "s10": mk(session, name="Juliett", department="69", category_code="354",
                  capacity=None),
        "s11": mk(session, name="Kilo", department="69", category_code="500", capacity=80,
                  closed=True),
        "s12": mk(session, name="Lima", department="38", category_code="500", capacity=60),
        "n1": mk(session, name="November", department="75", category_code="500",
                 capacity=50),
        "n2": mk(session, name="Oscar", department="75", category_code="500", capacity=50),
    }
    _submitted(session, s["s1"], 0, 10, 10, 10, at(2024, 11, 5), declared=30)
    _submitted(session, s["s1"], 1, 30, 20, 25, at(2025, 2, 10), declared=30)
    _submitted(session, s["s2"], 2, 50, 50, 50, at(2025, 5, 10), declared=50)
    _submitted(session, s["s3"], 2, 60, 60, 40, at(2025, 8, 10))
    _submitted(session, s["s4"], 3, 70, 70, 70, at(2025, 11, 10), declared=45)
    _submitted(session, s["s5"], 1, 40, 40, 30, at(2025, 11, 20), declared=60)
    _submitted(session, s["s6"], 0, 10, 10, 20, at(2026, 1, 15), declared=250)
    _submitted(session, s["s7"], 3, 80, 80, 90, at(2026, 2, 15), declared=70)
    _submitted(session, s["s8"], 4, 90, 90, 100, at(2026, 3, 10), declared=90)
    make_assessment(session, s["s9"])  # a draft
    _submitted(session, s["s11"], 4, 95, 95, 95, at(2026, 1, 5), declared=80)
    _submitted(session, s["s12"], 2, 55, 55, None, at(2025, 6, 1), declared=60, version=OLD)
    _submitted(session, s["n1"], 2, 40, 40, 40, at(2026, 1, 10), declared=50)
    _submitted(session, s["n2"], 1, 20, 30, 10, at(2026, 1, 12), declared=50)
    svc.refresh_structures(session)
    session.commit()
    return World(
        s=s,
        ars84=make_user(session, Role.ars, region="84"),
        ars11=make_user(session, Role.ars, region="11"),
        committee84=make_user(session, Role.committee, region="84"),
        committee_nat=make_user(session, Role.committee),
        admin=make_user(session, Role.admin),
        director4=make_user(session, Role.director, [s["s4"]]),
        director_n1=make_user(session, Role.director, [s["n1"]]),
    )


def actor(session: Session, user: User) -> Actor:
    return build_actor(session, user)


@pytest.fixture
def registry(settings: Settings) -> Registry:
    return Registry.load(settings.questionnaires_dir)


@pytest.fixture
def world(session: Session) -> World:
    return build(session)


def summary(session: Session, registry: Registry, w: World, **filters: Any) -> svc.Summary:
    return svc.summary(session, actor(session, w.ars84), registry, "84",
                       svc.Filters(**filters))


def close(x: float | None, y: float) -> bool:
    return x is not None and abs(x - y) < 1e-9


# ---- the read model ------------------------------------------------------------------------


def test_latest_result_rows(session: Session, world: World) -> None:
    rows = {r.structure_id: r for r in session.exec(select(LatestResult)).all()}
    s = world.s
    # One row per open structure with a submission: s1-s8, s12, n1, n2 (not s9, s10, s11).
    assert set(rows) == {s[k].id for k in ("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8",
                                           "s12", "n1", "n2")}
    r1 = rows[s["s1"].id]
    assert (r1.tier_level, r1.global_score, r1.submitted_at) == (1, 30.0, at(2025, 2, 10))
    assert (r1.capacity_declared, r1.capacity, r1.size_band) == (30, 30, "moins-de-40")
    assert (r1.sector, r1.category_code, r1.department, r1.region) == (
        "personnes_agees", "500", "01", "84")
    r3 = rows[s["s3"].id]  # nothing declared: the structure's capacity
    assert (r3.capacity_declared, r3.capacity, r3.size_band) == (None, 120, "100-199")
    assert rows[s["s6"].id].sector == "adultes_handicapes"
    assert rows[s["s6"].id].size_band == "200-et-plus"
    assert rows[s["s12"].id].questionnaire_version == OLD
    domains = dict(session.execute(
        sa.select(LatestDomainScore.domain_id, LatestDomainScore.score)  # type: ignore[call-overload]
        .where(LatestDomainScore.structure_id == s["s1"].id)).all())
    assert domains == {"dui": 20.0, "securite": 25.0}
    quarters = sorted(session.execute(
        sa.select(DashboardSubmission.quarter)  # type: ignore[call-overload]
        .where(DashboardSubmission.structure_id == s["s1"].id)).scalars())
    assert quarters == ["2024-T4", "2025-T1"]


def test_refresh_keeps_review_status_of_unchanged_results(session: Session,
                                                          world: World) -> None:
    s4 = world.s["s4"]
    row = session.get(LatestResult, s4.id)
    assert row is not None
    svc.set_review_status(session, row.assessment_id, "a_revoir")
    svc.refresh_structures(session, [s4.id])
    session.commit()
    session.expire_all()
    assert session.get(LatestResult, s4.id).review_status == "a_revoir"  # type: ignore[union-attr]
    # A new submission is a new result: not reviewed yet.
    _submitted(session, s4, 3, 72, 72, 72, at(2026, 4, 2), declared=45)
    svc.refresh_structures(session, [s4.id])
    session.commit()
    session.expire_all()
    fresh = session.get(LatestResult, s4.id)
    assert fresh is not None and fresh.review_status is None and fresh.global_score == 72.0


def test_closing_a_structure_drops_it_after_refresh(session: Session, world: World) -> None:
    s8 = world.s["s8"]
    s8.closed = True
    session.add(s8)
    session.commit()
    svc.refresh_structures(session, [s8.id])
    session.commit()
    assert session.get(LatestResult, s8.id) is None


# ---- figures (hand-computed) ---------------------------------------------------------------


def test_key_figures_and_tiers(session: Session, registry: Registry, world: World) -> None:
    sm = summary(session, registry, world)
    assert (sm.structures, sm.submitted, sm.drafts) == (11, 9, 1)
    assert close(sm.participation, 100 * 9 / 11)
    assert [(t.id, t.count) for t in sm.tiers] == [
        ("palier-0", 1), ("palier-1", 2), ("palier-2", 3), ("palier-3", 2), ("palier-4", 1)]
    # National (region 84 + Paris): n1 palier 2, n2 palier 1.
    assert [t.national for t in sm.tiers] == [1, 3, 4, 2, 1]
    assert sm.reference_version == REF
    assert sm.versions == {REF: 8, OLD: 1}
    assert sm.other_versions == 1
    # Global score, version 2026.1: 10 30 40 50 60 70 80 90.
    assert sm.global_n == 8
    assert close(sm.global_mean, 53.75)
    assert close(sm.global_median, 55.0)


def test_domain_means_and_medians(session: Session, registry: Registry, world: World) -> None:
    sm = summary(session, registry, world)
    d = {x.id: x for x in sm.domains}
    assert [x.id for x in sm.domains] == ["equipement", "dui", "services_socles",
                                          "coordination", "gouvernance", "securite",
                                          "competences"]
    # dui, region: 10 20 40 50 60 70 80 90 (s12's 55 is another version).
    assert d["dui"].n == 8 and close(d["dui"].mean, 52.5) and close(d["dui"].median, 55.0)
    # securite, region: 20 25 30 40 50 70 90 100.
    assert close(d["securite"].mean, 53.125) and close(d["securite"].median, 45.0)
    # National: + n1 (40, 40) and n2 (30, 10).
    assert d["dui"].national_n == 10
    assert close(d["dui"].national_mean, 49.0) and close(d["dui"].national_median, 45.0)
    assert close(d["securite"].national_mean, 47.5)
    assert close(d["securite"].national_median, 40.0)
    assert d["equipement"].n == 0 and d["equipement"].mean is None


def test_breakdowns(session: Session, registry: Registry, world: World) -> None:
    sm = summary(session, registry, world)
    deps = {r.key: r for r in sm.by_department}
    assert len(deps) == 12  # every department of the region, even empty
    assert (deps["01"].structures, deps["01"].submitted, deps["01"].drafts) == (3, 2, 1)
    assert deps["01"].tiers == {1: 1, 2: 1} and close(deps["01"].mean_score, 40.0)
    assert (deps["69"].structures, deps["69"].submitted) == (4, 3)
    assert deps["69"].tiers == {1: 1, 2: 1, 3: 1}
    assert close(deps["69"].mean_score, 170 / 3)
    assert (deps["38"].structures, deps["38"].submitted) == (4, 4)
    assert deps["38"].tiers == {0: 1, 2: 1, 3: 1, 4: 1}
    assert close(deps["38"].mean_score, 60.0)  # s12 (other version) left out of the mean
    assert close(deps["01"].participation, 200 / 3)
    assert (deps["42"].structures, deps["42"].participation) == (0, None)

    sectors = {r.key: (r.structures, r.submitted, r.drafts) for r in sm.by_sector}
    assert sectors == {"personnes_agees": (9, 8, 1), "adultes_handicapes": (1, 1, 0),
                       "domicile": (1, 0, 0)}
    bands = {r.key: (r.structures, r.submitted) for r in sm.by_size_band}
    assert bands == {"moins-de-40": (2, 1), "40-99": (6, 6), "100-199": (1, 1),
                     "200-et-plus": (1, 1), "inconnue": (1, 0)}


def test_trend_by_quarter(session: Session, registry: Registry, world: World) -> None:
    sm = summary(session, registry, world)
    assert [(t.quarter, t.tiers) for t in sm.trend] == [
        ("2024-T4", {0: 1}), ("2025-T1", {1: 1}), ("2025-T2", {2: 2}), ("2025-T3", {2: 1}),
        ("2025-T4", {1: 1, 3: 1}), ("2026-T1", {0: 1, 3: 1, 4: 1})]
    assert sm.trend[0].label == "4e trimestre 2024"
    assert sm.trend[1].label == "1er trimestre 2025"


def test_filters(session: Session, registry: Registry, world: World) -> None:
    sm = summary(session, registry, world, department="69")
    assert (sm.structures, sm.submitted, sm.drafts) == (4, 3, 0)
    assert {t.level: t.count for t in sm.tiers if t.count} == {1: 1, 2: 1, 3: 1}
    d = {x.id: x for x in sm.domains}
    assert close(d["dui"].mean, 170 / 3) and close(d["dui"].median, 60.0)
    assert d["dui"].national_n == 10  # the department does not apply nationally
    assert [r.key for r in sm.by_department] == ["69"]

    sm = summary(session, registry, world, sector="personnes_agees", size_band="40-99")
    assert (sm.structures, sm.submitted) == (6, 6)
    assert {t.level: t.count for t in sm.tiers if t.count} == {1: 1, 2: 2, 3: 2, 4: 1}
    d = {x.id: x for x in sm.domains}
    # dui 2026.1: s2 50, s4 70, s5 40, s7 80, s8 90; national + n1 40, n2 30.
    assert close(d["dui"].mean, 66.0) and close(d["dui"].median, 70.0)
    assert d["dui"].national_n == 7 and close(d["dui"].national_median, 50.0)

    sm = summary(session, registry, world, category="202")
    assert (sm.structures, sm.submitted) == (1, 1)

    sm = summary(session, registry, world, tier=2)
    assert (sm.structures, sm.submitted, sm.drafts) == (11, 3, 1)  # population unchanged

    sm = summary(session, registry, world, after=date(2025, 11, 1), before=date(2026, 1, 31))
    assert sm.submitted == 3  # s4, s5, s6
    assert [t.quarter for t in sm.trend] == ["2025-T4", "2026-T1"]

    sm = summary(session, registry, world, size_band="moins-de-40")
    assert (sm.structures, sm.submitted, sm.drafts) == (2, 1, 1)  # s1 (declared 30), s9


def test_filters_parse_is_lenient() -> None:
    f = svc.Filters.parse({"departement": "69", "categorie": "500", "secteur": "domicile",
                           "taille": "40-99", "palier": "3", "du": "2025-01-31",
                           "au": "2025-13-01"}, "84")
    assert f == svc.Filters("69", "500", "domicile", "40-99", 3, date(2025, 1, 31), None)
    f = svc.Filters.parse({"departement": "75", "categorie": "999", "secteur": "x",
                           "taille": "huge", "palier": "-1"}, "84")
    assert f == svc.Filters()  # 75 is not in region 84; the rest is unknown
    assert svc.Filters("2A", tier=0).query() == {"departement": "2A", "palier": "0"}


# ---- list, like for like, comparison -------------------------------------------------------


def test_structure_list_sorting_and_paging(session: Session, registry: Registry,
                                           world: World) -> None:
    a = actor(session, world.ars84)
    page = svc.structure_page(session, a, registry, "84", svc.Filters())
    assert page.total == 11 and page.pages == 1
    assert [r.name for r in page.rows] == ["Alpha", "Bravo", "Charlie", "Delta", "Echo",
                                           "Foxtrot", "Golf", "Hotel", "India", "Juliett",
                                           "Lima"]
    page = svc.structure_page(session, a, registry, "84", svc.Filters(), sort="score",
                              order="desc", page_size=4, page=1)
    assert page.pages == 3
    assert [r.name for r in page.rows] == ["Hotel", "Golf", "Delta", "Charlie"]
    page = svc.structure_page(session, a, registry, "84", svc.Filters(), sort="score",
                              order="desc", page_size=4, page=3)
    assert [r.name for r in page.rows] == ["Foxtrot", "India", "Juliett"]  # no score: last
    page = svc.structure_page(session, a, registry, "84", svc.Filters(), sort="score",
                              order="asc", page_size=4, page=1)
    assert [r.name for r in page.rows] == ["Foxtrot", "Alpha", "Echo", "Bravo"]
    page = svc.structure_page(session, a, registry, "84", svc.Filters(), sort="capacite",
                              order="asc", page_size=3)
    assert [(r.name, r.capacity) for r in page.rows] == [
        ("Alpha", 30), ("India", 35), ("Delta", 45)]
    page = svc.structure_page(session, a, registry, "84", svc.Filters(), page=99,
                              page_size=4)
    assert page.page == 3  # clamped
    page = svc.structure_page(session, a, registry, "84",
                              svc.Filters(department="38", tier=2), sort="date")
    assert [r.name for r in page.rows] == ["Lima"]
    row = page.rows[0]
    assert row.tier == {"level": 2,
                        "label": "Palier 2 — Dossier usager informatisé déployé, données protégées"}
    assert row.questionnaire_version == OLD
    page = svc.structure_page(session, a, registry, "84", svc.Filters(size_band="moins-de-40"))
    assert [r.name for r in page.rows] == ["Alpha", "India"]


def test_like_for_like_percentiles(session: Session, registry: Registry,
                                   world: World) -> None:
    lfl = svc.like_for_like(session, registry, world.s["s4"])
    region, national = lfl.positions
    # Region: EHPAD 40-99 places in 2026.1 are s2 s4 s7 s8 (4 < 5): the sector instead,
    # s2 50, s4 70, s5 40, s7 80, s8 90 -> below 2, equal 1: (2 + 0.5) / 5.
    assert (region.basis, region.n) == ("sector", 5)
    assert close(region.global_percentile, 50.0)
    # Nation: EHPAD 40-99 places: s2 s4 s7 s8 n1 n2 (6): below 70: 50, 40, 20.
    assert (national.basis, national.n) == ("category", 6)
    assert close(national.global_percentile, 100 * 3.5 / 6)
    rd = {d["id"]: d for d in region.domains}
    nd = {d["id"]: d for d in national.domains}
    # securite 70: region 50 30 90 100 -> below 2; nation 50 90 100 40 10 -> below 3.
    assert close(rd["securite"]["percentile"], 50.0)
    assert close(nd["securite"]["percentile"], 100 * 3.5 / 6)
    # dui 70: nation 50 80 90 40 30 -> below 3.
    assert close(nd["dui"]["percentile"], 100 * 3.5 / 6)
    assert "EHPAD" in national.group_label and "en France" in national.group_label

    small = svc.like_for_like(session, registry, world.s["s6"])  # the only MAS, 250 places
    assert [(p.basis, p.global_percentile) for p in small.positions] == [(None, None),
                                                                         (None, None)]
    none_yet = svc.like_for_like(session, registry, world.s["s9"])
    assert not none_yet.has_result and none_yet.positions == []


def test_compare_reads_the_snapshots(session: Session, registry: Registry) -> None:
    q = registry.get("esms-maturite-numerique", REF)
    assert q is not None
    a_struct = make_structure(session, name="EHPAD Les Cèdres", department="01")
    b_struct = make_structure(session, name="EHPAD Les Saules", department="38")
    for s, answers in ((a_struct, PETIT_EHPAD), (b_struct, best("ehpad"))):
        result = score(q, answers)
        make_assessment(session, s, "submitted", answers=answers, result=result.to_dict(),
                        tier_level=result.tier_level, global_score=result.global_score,
                        submitted_at=at(2026, 1, 20), questionnaire_version=REF)
    svc.refresh_structures(session, [a_struct.id, b_struct.id])  # type: ignore[list-item]
    session.commit()
    ars = make_user(session, Role.ars, region="84")
    cmp = svc.compare(session, actor(session, ars), registry, "84",
                      [a_struct.finess, f" {b_struct.finess[:2]} {b_struct.finess[2:]}"])
    a, b = cmp.columns
    assert a.tier == {"level": 2,
                      "label": "Palier 2 — Dossier usager informatisé déployé, données protégées"}
    assert b.tier is not None and b.tier["level"] == 4
    assert [d for d, _ in cmp.domains][:2] == ["equipement", "dui"]
    tiers = dict(cmp.tiers)
    assert list(tiers) == ["Palier 1 — Socle d'équipement, d'organisation et d'obligations",
                           "Palier 2 — Dossier usager informatisé déployé, données protégées",
                           "Palier 3 — DUI relié aux services socles et utilisé",
                           "Palier 4 — Pilotage, coordination et sécurité"]
    internet = a.requirements["palier-1/internet-suffisant"]
    assert internet == {"met": True, "applies": True, "answers": [
        "Quelle connexion internet dessert la structure ? Fibre ou très haut débit"]}
    assert b.requirements["palier-1/internet-suffisant"]["answers"] == [
        "Quelle connexion internet dessert la structure ? "
        "Fibre ou très haut débit, avec une connexion de secours"]
    assert a.next_steps and b.next_steps == []
    with pytest.raises(svc.BadComparison):
        svc.compare(session, actor(session, ars), registry, "84", [a_struct.finess])
    paris = make_structure(session, department="75")
    with pytest.raises(NotFound):
        svc.compare(session, actor(session, ars), registry, "84",
                    [a_struct.finess, paris.finess])


def test_scope_checks(session: Session, registry: Registry, world: World) -> None:
    with pytest.raises(NotFound):
        svc.summary(session, actor(session, world.ars11), registry, "84", svc.Filters())
    with pytest.raises(NotFound):
        svc.structure_page(session, actor(session, world.committee84), registry, "11",
                           svc.Filters())
    with pytest.raises(NotFound):
        svc.check_region(actor(session, world.admin), "99")
    with pytest.raises(Forbidden):
        svc.summary(session, actor(session, world.director4), registry, "84", svc.Filters())
    assert svc.check_region(actor(session, world.committee_nat), "11") == "11"


def test_national_cache_is_invalidated_by_a_submission(session: Session, registry: Registry,
                                                      world: World) -> None:
    from app.dashboard import cache

    assert cache.enabled
    before = cache.generation(session)
    d = {x.id: x for x in summary(session, registry, world).domains}
    assert d["dui"].national_n == 10
    # Served from the cache while nothing changes (same generation).
    again = {x.id: x for x in summary(session, registry, world).domains}
    assert again["dui"].national_n == 10 and cache.generation(session) == before
    # A submission in another region changes the national figures at once.
    n3 = make_structure(session, department="75", category_code="500", capacity=50)
    _submitted(session, n3, 3, 100, 100, 100, at(2026, 4, 1), declared=50)
    svc.record_submission(session, session.execute(
        sa.select(Assessment.id).where(Assessment.structure_id == n3.id)).scalar_one())
    session.commit()
    assert cache.generation(session) != before
    sm = summary(session, registry, world)
    d = {x.id: x for x in sm.domains}
    assert d["dui"].national_n == 11 and close(d["dui"].national_mean, 590 / 11)
    assert [t.national for t in sm.tiers] == [1, 3, 4, 3, 1]
    assert d["dui"].n == 8  # the region is unchanged


def test_review_statuses_show(session: Session, registry: Registry, world: World) -> None:
    from app.reviews.models import AssessmentReview

    def latest_id(key: str) -> int:
        row = session.get(LatestResult, world.s[key].id)
        assert row is not None
        return row.assessment_id

    # s4: validated then questioned (the latest review counts); s7: validated; n1: Paris.
    session.add_all([
        AssessmentReview(assessment_id=latest_id("s4"), status="validee", comment="ok"),
        AssessmentReview(assessment_id=latest_id("s4"), status="a_revoir", comment="preuves"),
        AssessmentReview(assessment_id=latest_id("s7"), status="validee", comment="ok"),
        AssessmentReview(assessment_id=latest_id("n1"), status="a_revoir", comment="?"),
    ])
    session.commit()
    assert summary(session, registry, world).reviews == {"a_revoir": 1, "validee": 1}
    assert summary(session, registry, world, department="38").reviews == {"validee": 1}
    page = svc.structure_page(session, actor(session, world.ars84), registry, "84",
                              svc.Filters(department="69"))
    assert {r.name: r.review_status for r in page.rows} == {
        "Charlie": None, "Delta": "a_revoir", "Echo": None, "Juliett": None}


# ---- the API -------------------------------------------------------------------------------


def test_summary_api(app_client: TestClient, session: Session, settings: Settings,
                     world: World) -> None:
    log_in(app_client, session, settings, world.ars84)
    r = app_client.get("/api/v1/regions/84/summary")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["structures"], body["submitted"], body["drafts"]) == (11, 9, 1)
    assert body["tiers"] == {"palier-0": 1, "palier-1": 2, "palier-2": 3, "palier-3": 2,
                             "palier-4": 1}
    dui = next(d for d in body["domains"] if d["id"] == "dui")
    assert (dui["mean"], dui["median"]) == (52.5, 55.0)
    assert dui["national"] == {"n": 10, "mean": 49.0, "median": 45.0}
    assert body["questionnaire"] == {"id": "esms-maturite-numerique", "reference_version": REF,
                                     "versions": {REF: 8, OLD: 1}, "other_versions": 1}
    assert body["reviews"] == {"validee": 0, "a_revoir": 0}
    assert body["participation"] == 81.82 and body["global_score"] == {
        "n": 8, "mean": 53.75, "median": 55.0}
    r = app_client.get("/api/v1/regions/84/summary",
                       params={"departement": "69", "palier": "2"})
    body = r.json()
    assert (body["structures"], body["submitted"]) == (4, 1)
    assert body["filters"] == {"departement": "69", "palier": "2"}
    assert app_client.get("/api/v1/regions/11/summary").status_code == 404
    assert app_client.get("/api/v1/regions/99/summary").status_code == 404


@pytest.mark.parametrize(("who", "status"), [
    ("ars84", 200), ("ars11", 404), ("committee84", 200), ("committee_nat", 200),
    ("admin", 200), ("director4", 403), ("director_n1", 403)])
def test_summary_api_permissions(app_client: TestClient, session: Session, settings: Settings,
                                 world: World, who: str, status: int) -> None:
    token = issue_api_token(session, settings, getattr(world, who)).token
    r = app_client.get("/api/v1/regions/84/summary", headers=bearer(token))
    assert r.status_code == status, r.text


def test_summary_api_anonymous(app_client: TestClient, world: World) -> None:
    assert app_client.get("/api/v1/regions/84/summary").status_code == 401


# ---- kept current: submit, demo, migration -------------------------------------------------


def test_submit_updates_the_latest_result(session: Session, registry: Registry) -> None:
    s = make_structure(session, department="69", capacity=150)
    director = make_user(session, Role.director, [s])
    a = build_actor(session, director)
    for capacity, answers in ((60, best("ehpad")), (220, best("ehpad", capacite=220))):
        draft, _ = assessments.start_or_resume(session, a, registry, s.finess)
        assessments.save_answers(session, a, registry, draft.id, draft.version,  # type: ignore[arg-type]
                                 answers)
        done = assessments.submit(session, a, registry, draft.id)  # type: ignore[arg-type]
        session.expire_all()
        row = session.get(LatestResult, s.id)
        assert row is not None
        assert row.assessment_id == done.id
        assert (row.tier_level, row.global_score) == (4, 100.0)
        assert (row.capacity_declared, row.size_band) == (
            capacity, "40-99" if capacity == 60 else "200-et-plus")
        n = session.execute(sa.select(sa.func.count()).select_from(LatestDomainScore)
                            .where(LatestDomainScore.structure_id == s.id)).scalar_one()
        assert n == 7
    subs = session.execute(sa.select(sa.func.count()).select_from(DashboardSubmission)
                           .where(DashboardSubmission.structure_id == s.id)).scalar_one()
    assert subs == 2


def test_demo_fills_the_read_model(session: Session, registry: Registry) -> None:
    from app.demo.dataset import load_demo

    q = registry.latest("esms-maturite-numerique")
    assert q is not None
    if session.execute(sa.select(sa.func.count()).select_from(Structure)).scalar_one():
        pytest.skip("the demo needs an empty database")  # pragma: no cover
    report = load_demo(session, q, structures=40, seed=7, now=at(2026, 6, 1))
    n = session.execute(sa.select(sa.func.count()).select_from(LatestResult)).scalar_one()
    assert n == report.with_submission
    subs = session.execute(sa.select(sa.func.count()).select_from(DashboardSubmission)
                           ).scalar_one()
    assert subs == report.submitted


def _rows_0001(conn: sa.Connection) -> None:
    """Structures and assessments as revision 0001 knows them (Core: later columns unknown)."""
    structure = sa.table("structure", *(sa.column(c) for c in (
        "id", "finess", "name", "category_code", "category_label", "department", "region",
        "capacity", "closed")), sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)))
    assessment = sa.table("assessment", *(sa.column(c) for c in (
        "id", "structure_id", "questionnaire_id", "questionnaire_version", "status",
        "version", "tier_id", "tier_level", "global_score", "complete")),
        sa.column("answers", sa.JSON()), sa.column("answer_meta", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("submitted_at", sa.DateTime(timezone=True)))
    ads = sa.table("assessment_domain_score", *(sa.column(c) for c in (
        "assessment_id", "domain_id", "score", "earned", "max")))
    now = at(2026, 1, 1)
    conn.execute(structure.insert(), [
        {"id": 1, "finess": "690000001", "name": "A", "category_code": "500",
         "category_label": "EHPAD", "department": "69", "region": "84", "capacity": 120,
         "closed": False, "created_at": now, "updated_at": now},
        {"id": 2, "finess": "690000002", "name": "B", "category_code": "255",
         "category_label": "MAS", "department": "69", "region": "84", "capacity": 30,
         "closed": False, "created_at": now, "updated_at": now},
        {"id": 3, "finess": "690000003", "name": "C", "category_code": "500",
         "category_label": "EHPAD", "department": "69", "region": "84", "capacity": 30,
         "closed": True, "created_at": now, "updated_at": now},
    ])

    def a(aid: int, sid: int, tier: int, when: datetime, answers: dict[str, Any],
          status: str = "submitted") -> dict[str, Any]:
        return {"id": aid, "structure_id": sid, "questionnaire_id": "esms-maturite-numerique",
                "questionnaire_version": REF, "status": status, "version": 1,
                "tier_id": f"palier-{tier}", "tier_level": tier, "global_score": 10.0 * aid,
                "complete": status == "submitted", "answers": answers, "answer_meta": {},
                "created_at": now, "updated_at": now,
                "submitted_at": when if status == "submitted" else None}

    conn.execute(assessment.insert(), [
        a(1, 1, 1, at(2025, 3, 1), {"capacite": 45}),
        a(2, 1, 2, at(2025, 12, 31, 23), {"capacite": 45}),  # 1 Jan 2026 in Paris
        a(3, 2, 0, at(2025, 5, 5), {}),
        a(4, 2, 0, at(2025, 5, 5), {}, status="draft"),
        a(5, 3, 4, at(2025, 5, 5), {"capacite": 30}),  # closed structure
    ])
    conn.execute(ads.insert(), [
        {"assessment_id": 2, "domain_id": "dui", "score": 50.0, "earned": 10, "max": 20},
        {"assessment_id": 2, "domain_id": "securite", "score": None, "earned": 0, "max": 0},
    ])


def test_migration_backfills_and_downgrades(empty_db_url: str) -> None:
    from app.cli.db import downgrade_database, upgrade_database
    from app.db import make_engine

    upgrade_database(empty_db_url, "0001")
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            _rows_0001(conn)
        upgrade_database(empty_db_url, "0003")
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT structure_id, assessment_id, tier_level, capacity_declared, capacity,"
                " size_band, sector FROM latest_result ORDER BY structure_id")).all()
            assert [tuple(r) for r in rows] == [
                (1, 2, 2, 45, 45, "40-99", "personnes_agees"),
                (2, 3, 0, None, 30, "moins-de-40", "adultes_handicapes")]
            domains = conn.execute(sa.text(
                "SELECT structure_id, domain_id, score, size_band FROM latest_domain_score"
                " ORDER BY domain_id")).all()
            assert [tuple(r) for r in domains] == [(1, "dui", 50.0, "40-99"),
                                                   (1, "securite", None, "40-99")]
            subs = conn.execute(sa.text(
                "SELECT assessment_id, quarter FROM dashboard_submission"
                " ORDER BY assessment_id")).all()
            assert [tuple(r) for r in subs] == [(1, "2025-T1"), (2, "2026-T1"),
                                                (3, "2025-T2")]  # not the closed one
            assert conn.execute(sa.text("SELECT count(*) FROM dashboard_state")).scalar() == 1
        downgrade_database("0001", empty_db_url)
        tables = set(sa.inspect(engine).get_table_names())
        assert not tables & {"latest_result", "latest_domain_score", "dashboard_submission",
                             "dashboard_state"}
    finally:
        engine.dispose()


def test_refresh_cli(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.config import get_settings

    monkeypatch.setenv("PALIER_DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["dashboard", "refresh"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "0 structures avec un résultat transmis" in result.output


# ---- pure helpers --------------------------------------------------------------------------


def test_distribution_stats_by_hand() -> None:
    assert svc.distribution_stats([]) == (0, None, None)
    assert svc.distribution_stats([(7.0, 1)]) == (1, 7.0, 7.0)
    # 10 10 20 40: mean 20, median (10 + 20) / 2.
    assert svc.distribution_stats([(20.0, 1), (10.0, 2), (40.0, 1)]) == (4, 20.0, 15.0)
    # 1 2 2 2 9: mean 3.2, median 2.
    n, mean, median = svc.distribution_stats([(9.0, 1), (2.0, 3), (1.0, 1)])
    assert (n, median) == (5, 2.0) and close(mean, 3.2)


def test_percentile_rank_by_hand() -> None:
    assert svc.percentile_rank(0, 1, 1) == 50.0  # alone in its group
    assert svc.percentile_rank(2, 1, 5) == 50.0  # the middle of five
    assert svc.percentile_rank(4, 1, 5) == 90.0  # the best of five
    assert svc.percentile_rank(1, 2, 4) == 50.0  # tied with another
    assert svc.percentile_rank(0, 0, 0) is None


def test_quarters_in_paris_time() -> None:
    assert svc.quarter_of(datetime(2025, 12, 31, 22, 59, tzinfo=UTC)) == "2025-T4"
    assert svc.quarter_of(datetime(2025, 12, 31, 23, 0, tzinfo=UTC)) == "2026-T1"
    assert svc.quarter_of(datetime(2026, 3, 31, 21, 59, tzinfo=UTC)) == "2026-T1"
    assert svc.quarter_of(datetime(2026, 3, 31, 22, 0, tzinfo=UTC)) == "2026-T2"  # summer
    assert svc.quarter_label("2026-T2") == "2e trimestre 2026"
