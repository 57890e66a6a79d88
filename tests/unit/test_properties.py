"""Property-based tests over generated answers to the real questionnaire (2026.1) and to
the revision-2 fixture (unknown options, applies_if, resources)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import (
    Question,
    Questionnaire,
    load_questionnaire,
    parse_questionnaire,
    score,
    validate_answers,
)

from .reference_impl import reference_score

REAL = (Path(__file__).resolve().parent.parent.parent / "questionnaires"
        / "esms-maturite-numerique-2026.1.yaml")
Q: Questionnaire = load_questionnaire(REAL)
DOC = Q.to_yaml_dict()


def value_strategy(q: Question) -> st.SearchStrategy[Any]:
    if q.type == "single_choice":
        return st.sampled_from([o.value for o in q.options or []])
    if q.type == "multiple_choice":
        plain = [o.value for o in q.options or [] if not o.exclusive]
        excl = [o.value for o in q.options or [] if o.exclusive]
        subsets = st.lists(st.sampled_from(plain), unique=True) if plain else st.just([])
        return st.one_of(subsets, *(st.just([e]) for e in excl))
    if q.type == "number":
        lo = q.min if q.min is not None else -1e6
        hi = q.max if q.max is not None else 1e6
        return st.one_of(st.integers(int(lo), int(hi)),
                         st.floats(lo, hi, allow_nan=False, allow_infinity=False))
    # Valid text: no control character but tab and line breaks, no lone surrogate.
    return st.text(st.characters(exclude_categories=["Cc", "Cs"], include_characters="\t\n\r"),
                   max_size=20)


def answers_of(q: Questionnaire) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {}, optional={x.id: st.one_of(st.none(), value_strategy(x))
                      for x in q.questions.values()})


answers_strategy = answers_of(Q)
REV2_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "questionnaires" / "rev2-1.yaml"
REV2: Questionnaire = load_questionnaire(REV2_PATH)
REV2_DOC = REV2.to_yaml_dict()
rev2_answers = answers_of(REV2)
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(answers_strategy)
def test_generated_answers_are_valid_and_scores_bounded(answers: dict[str, Any]) -> None:
    assert validate_answers(Q, answers) == []
    r = score(Q, answers)
    for d in r.domains:
        assert d["score"] is None or 0 <= d["score"] <= 100
        assert 0 <= d["earned"] <= d["max"]
    assert r.global_score is None or 0 <= r.global_score <= 100
    assert r.complete == (r.missing_required == [])


@PROPS
@given(answers_strategy)
def test_deterministic(answers: dict[str, Any]) -> None:
    assert score(Q, answers).to_dict() == score(Q, dict(answers)).to_dict()


@PROPS
@given(answers_strategy)
def test_cumulative_tier_invariants(answers: dict[str, Any]) -> None:
    r = score(Q, answers)
    level = r.tier_level
    for t in r.tiers:
        if level is not None and t["level"] <= level:
            assert t["met"] and all(req["met"] for req in t["requirements"])
    nxt = 0 if level is None else level + 1
    if nxt < len(r.tiers):
        assert any(not req["met"] for req in r.tiers[nxt]["requirements"])
    expected = [req["id"] for t in r.tiers if level is None or t["level"] > level
                for req in t["requirements"] if not req["met"]]
    assert [s["requirement"] for s in r.next_steps] == expected


@PROPS
@given(answers_strategy)
def test_matches_naive_reference(answers: dict[str, Any]) -> None:
    r = score(Q, answers)
    ref = reference_score(DOC, answers)
    for d in r.domains:
        want = ref["scores"][d["id"]]
        assert (d["score"] is None) == (want is None)
        if want is not None:
            assert abs(d["score"] - float(want)) < 1e-9
    assert r.tier_level == ref["tier"]
    assert [s["requirement"] for s in r.next_steps] == ref["next_steps"]
    assert {f["id"]: f["eligible"] for f in r.funding} == ref["funding"]
    assert r.missing_required == ref["missing"]



# ---- revision 2 --------------------------------------------------------------------------------


@PROPS
@given(rev2_answers)
def test_rev2_matches_naive_reference(answers: dict[str, Any]) -> None:
    assert validate_answers(REV2, answers) == []
    r = score(REV2, answers)
    ref = reference_score(REV2_DOC, answers)
    assert r.tier_level == ref["tier"]
    assert [s["requirement"] for s in r.next_steps] == ref["next_steps"]
    assert {f["id"]: f["eligible"] for f in r.funding} == ref["funding"]
    assert r.missing_required == ref["missing"]
    assert r.unknown == ref["unknown"]
    assert abs((r.global_score or 0) - float(ref["scores"]["global"] or 0)) < 1e-9


_WITHOUT: dict[frozenset[str], Questionnaire] = {}


def _without(ids: frozenset[str]) -> Questionnaire:
    """The fixture with these requirements removed (parsed once per set)."""
    if ids not in _WITHOUT:
        doc = yaml.safe_load(REV2_PATH.read_text(encoding="utf-8"))
        for t in doc["tiers"]:
            t["requires"] = [r for r in t["requires"] if r["id"] not in ids]
        _WITHOUT[ids] = parse_questionnaire(yaml.safe_dump(doc, allow_unicode=True))
    return _WITHOUT[ids]


@PROPS
@given(rev2_answers)
def test_a_requirement_that_does_not_apply_never_changes_placement(
        answers: dict[str, Any]) -> None:
    r = score(REV2, answers)
    off = frozenset(req["id"] for t in r.tiers for req in t["requirements"]
                    if not req["applies"])
    for t in r.tiers:
        for req in t["requirements"]:
            assert (req["met"] is None) == (not req["applies"])
    assert not off & {s["requirement"] for s in r.next_steps}
    assert score(_without(off), answers).tier_level == r.tier_level


@PROPS
@given(rev2_answers)
def test_an_unknown_answer_never_scores_more_than_no_answer(answers: dict[str, Any]) -> None:
    r = score(REV2, answers)
    blank = {k: (None if k in r.unknown else v) for k, v in answers.items()}
    b = score(REV2, blank)
    for d_unknown, d_blank in zip(r.domains, b.domains, strict=True):
        assert d_unknown["earned"] <= d_blank["earned"]
        assert d_unknown["max"] == d_blank["max"]
    assert (r.global_score or 0) <= (b.global_score or 0)
    assert (-1 if r.tier_level is None else r.tier_level) <= (
        -1 if b.tier_level is None else b.tier_level)


@PROPS
@given(answers_strategy)
def test_no_eligibility_on_an_incomplete_assessment(answers: dict[str, Any]) -> None:
    r = score(Q, answers)
    if not r.complete:
        assert all(f["eligible"] is None for f in r.funding)
    else:
        assert all(isinstance(f["eligible"], bool) for f in r.funding)


@PROPS
@given(rev2_answers)
def test_rev2_no_eligibility_when_incomplete_and_never_for_a_resource(
        answers: dict[str, Any]) -> None:
    r = score(REV2, answers)
    for f in r.funding:
        if f["kind"] == "resource" or not r.complete:
            assert f["eligible"] is None
        else:
            assert isinstance(f["eligible"], bool)
