"""The assessment service: drafts, autosave with optimistic concurrency, submit, history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.accounts.models import User
from app.assessments import results
from app.assessments import service as svc
from app.assessments.models import Assessment, AssessmentDomainScore
from app.audit import AuditEvent
from app.errors import (
    Conflict,
    Forbidden,
    Incomplete,
    InvalidAnswers,
    NotEditable,
    NotFound,
)
from app.permissions import Actor, Role
from app.questionnaires import Registry
from app.structures.models import Structure
from tests.answers import best
from tests.factories import make_structure, make_user

ROOT = Path(__file__).resolve().parent.parent.parent
REGISTRY = Registry.load(ROOT / "questionnaires")


def actor(user: User, structures: list[Structure] = ()) -> Actor:  # type: ignore[assignment]
    assert user.id is not None
    return Actor(id=user.id, role=Role(user.role), region=user.region,
                 structure_ids=frozenset(s.id for s in structures if s.id is not None))


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    a = make_structure(session, department="69")  # region 84
    b = make_structure(session, department="75")  # region 11
    dir_a = make_user(session, role=Role.director, structures=[a])
    dir_a2 = make_user(session, role=Role.director, structures=[a])
    ars = make_user(session, role=Role.ars, region="84")
    return {"a": a, "b": b, "dir_a": actor(dir_a, [a]), "dir_a2": actor(dir_a2, [a]),
            "ars": actor(ars)}


def test_one_draft_per_structure(session: Session, world: dict) -> None:
    d1, pre = svc.start_or_resume(session, world["dir_a"], REGISTRY, world["a"].finess)
    d2, _ = svc.start_or_resume(session, world["dir_a2"], REGISTRY, world["a"].finess)
    assert d1.id == d2.id and pre is None
    assert (d1.questionnaire_id, d1.questionnaire_version) == ("esms-maturite-numerique",
                                                               "2026.2")
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "draft_created")).all()


def test_out_of_scope_is_not_found_and_ars_cannot_fill(session: Session, world: dict) -> None:
    with pytest.raises(NotFound):
        svc.start_or_resume(session, world["dir_a"], REGISTRY, world["b"].finess)
    with pytest.raises(Forbidden):
        svc.start_or_resume(session, world["ars"], REGISTRY, world["a"].finess)
    d, _ = svc.start_or_resume(session, world["dir_a"], REGISTRY, world["a"].finess)
    with pytest.raises(Forbidden):
        svc.save_answers(session, world["ars"], REGISTRY, d.id, 0,
                         {"medicalisation": "equipe_medicale"})
    # nor read it: a draft is the director's working space until it is submitted
    with pytest.raises(Forbidden):
        svc.get_assessment(session, world["ars"], d.id)


def test_save_merge_and_conflict(session: Session, world: dict) -> None:
    d, _ = svc.start_or_resume(session, world["dir_a"], REGISTRY, world["a"].finess)
    # Tab 1 and tab 2 both loaded version 0.
    r1 = svc.save_answers(session, world["dir_a"], REGISTRY, d.id, 0,
                         {"medicalisation": "equipe_medicale"})
    assert r1.version == 1
    # A different question from version 0 merges.
    r2 = svc.save_answers(session, world["dir_a2"], REGISTRY, d.id, 0, {"wifi": "partiel"})
    assert r2.version == 2
    assert r2.assessment.answers == {"medicalisation": "equipe_medicale", "wifi": "partiel"}
    assert r2.assessment.answer_meta["wifi"]["by"] == world["dir_a2"].id
    assert r2.assessment.answer_meta["medicalisation"]["by"] == world["dir_a"].id
    # The same question changed since version 0 to another value: 409, nothing written.
    with pytest.raises(Conflict) as info:
        svc.save_answers(session, world["dir_a2"], REGISTRY, d.id, 0, {"medicalisation": "non"})
    item = info.value.items[0]
    assert (item.question, item.theirs, item.yours, item.by) == (
        "medicalisation", "equipe_medicale", "non", world["dir_a"].id)
    assert info.value.version == 2
    session.refresh(d)
    assert d.answers["medicalisation"] == "equipe_medicale" and d.version == 2
    # Same value as stored: no conflict.
    assert svc.save_answers(session, world["dir_a2"], REGISTRY, d.id, 0,

                         {"medicalisation": "equipe_medicale"}).version == 3
    # With the current version, the change goes through; None clears.
    r = svc.save_answers(session, world["dir_a2"], REGISTRY, d.id, 3, {"medicalisation": None})
    assert "medicalisation" not in r.assessment.answers and r.version == 4


def test_invalid_answer_is_refused_and_nothing_saved(session: Session, world: dict) -> None:
    d, _ = svc.start_or_resume(session, world["dir_a"], REGISTRY, world["a"].finess)
    with pytest.raises(InvalidAnswers) as info:
        svc.save_answers(session, world["dir_a"], REGISTRY, d.id, 0,
                         {"wifi": "partiel", "capacite": -3})
    assert [(e.question, e.value) for e in info.value.errors] == [("capacite", -3)]
    session.refresh(d)
    assert d.answers == {} and d.version == 0


def test_submit_incomplete_then_complete_then_immutable(session: Session, world: dict) -> None:
    d, _ = svc.start_or_resume(session, world["dir_a"], REGISTRY, world["a"].finess)
    svc.save_answers(session, world["dir_a"], REGISTRY, d.id, 0,
                         {"medicalisation": "equipe_medicale"})
    with pytest.raises(Incomplete) as info:
        svc.submit(session, world["dir_a"], REGISTRY, d.id)
    assert "public_accueilli" in info.value.missing
    answers = best("ehpad")
    svc.save_answers(session, world["dir_a"], REGISTRY, d.id, 1, answers)
    done = svc.submit(session, world["dir_a"], REGISTRY, d.id)
    assert done.status == "submitted"
    assert (done.tier_id, done.tier_level) == ("palier-4", 4)
    assert done.global_score == pytest.approx(100.0)
    assert done.result is not None and done.result["tier"]["id"] == "palier-4"
    assert done.submitted_by == world["dir_a"].id
    rows = session.exec(select(AssessmentDomainScore)
                        .where(AssessmentDomainScore.assessment_id == d.id)).all()
    assert sorted(r.domain_id for r in rows) == sorted(
        ["equipement", "dui", "services_socles", "coordination", "gouvernance", "securite",
         "competences"])
    assert all(r.score == pytest.approx(100.0) for r in rows)
    with pytest.raises(NotEditable):
        svc.save_answers(session, world["dir_a"], REGISTRY, d.id, done.version, {"wifi": "aucun"})
    with pytest.raises(NotEditable):
        svc.submit(session, world["dir_a"], REGISTRY, d.id)
    session.refresh(done)
    assert done.answers == answers


def test_new_draft_prefilled_from_last_submission(session: Session, world: dict) -> None:
    d, _ = svc.start_or_resume(session, world["dir_a"], REGISTRY, world["a"].finess)
    svc.save_answers(session, world["dir_a"], REGISTRY, d.id, 0, best("ehpad"))
    svc.submit(session, world["dir_a"], REGISTRY, d.id)
    new, pre = svc.start_or_resume(session, world["dir_a"], REGISTRY, world["a"].finess)
    assert new.id != d.id and new.status == "draft"
    assert new.answers == best("ehpad")
    assert pre is not None and pre.source_id == d.id and pre.dropped == []
    assert sorted(pre.carried) == sorted(best("ehpad"))


def test_history_with_deltas(session: Session, world: dict) -> None:
    who = world["dir_a"]
    d, _ = svc.start_or_resume(session, who, REGISTRY, world["a"].finess)
    svc.save_answers(session, who, REGISTRY, d.id, 0,
                     best("ehpad", wifi="aucun", sauvegardes="aucune"))
    svc.submit(session, who, REGISTRY, d.id)
    d2, _ = svc.start_or_resume(session, who, REGISTRY, world["a"].finess)
    svc.save_answers(session, who, REGISTRY, d2.id, d2.version,
                     {"wifi": "complet", "sauvegardes": "testees_hors_ligne"})
    svc.submit(session, who, REGISTRY, d2.id)
    h = results.history(session, who, world["a"].finess)
    assert [e.assessment.id for e in h] == [d2.id, d.id]
    assert h[0].tier_label is not None and h[0].tier_label.startswith("Palier 4")
    assert h[1].tier_label is not None and h[1].tier_label.startswith("Palier 0")
    assert h[1].global_delta is None
    deltas = {x["id"]: x["delta"] for x in h[0].domains}
    assert deltas["equipement"] is not None and deltas["equipement"] > 0
    assert deltas["securite"] is not None and deltas["securite"] > 0
    assert deltas["dui"] == 0


def test_carry_over_drops_changed_questions() -> None:
    q = REGISTRY.latest("esms-maturite-numerique")
    assert q is not None
    kept, carried, dropped = svc.carry_over(None, q, {"wifi": "complet", "gone": "x",
                                                      "capacite": "douze"})
    assert kept == {"wifi": "complet"} and carried == ["wifi"]
    assert dropped == ["gone", "capacite"]


def test_result_of_draft_is_live_and_of_submission_is_snapshot(session: Session,
                                                               world: dict) -> None:
    d, _ = svc.start_or_resume(session, world["dir_a"], REGISTRY, world["a"].finess)
    assert results.result_of(REGISTRY, d)["complete"] is False
    svc.save_answers(session, world["dir_a"], REGISTRY, d.id, 0, best("ehpad"))
    svc.submit(session, world["dir_a"], REGISTRY, d.id)
    session.refresh(d)
    d.result = {**d.result, "marker": 1}  # the snapshot is what is served
    assert results.result_of(REGISTRY, d)["marker"] == 1


def test_unknown_assessment(session: Session, world: dict) -> None:
    with pytest.raises(NotFound):
        svc.get_assessment(session, world["dir_a"], 999999)
    assert session.exec(select(Assessment)).all() == []
