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

from .plain_score import plain_to_dict
from .reference_impl import reference_score

REAL = (
    Path(__file__).resolve().parent.parent.parent
    / "questionnaires"
    / "esms-maturite-numerique-2026.1.yaml"
)
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
        return st.one_of(
            st.integers(int(lo), int(hi)), st.floats(lo, hi, allow_nan=False, allow_infinity=False)
        )
    # Valid text: no control character but tab and line breaks, no lone surrogate.
    return st.text(
        st.characters(exclude_categories=["Cc", "Cs"], include_characters="\t\n\r"), max_size=20
    )


def answers_of(q: Questionnaire) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {}, optional={x.id: st.one_of(st.none(), value_strategy(x)) for x in q.questions.values()}
    )


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
    expected = [
        req["id"]
        for t in r.tiers
        if level is None or t["level"] > level
        for req in t["requirements"]
        if not req["met"]
    ]
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
def test_a_requirement_that_does_not_apply_never_changes_placement(answers: dict[str, Any]) -> None:
    r = score(REV2, answers)
    off = frozenset(req["id"] for t in r.tiers for req in t["requirements"] if not req["applies"])
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
        -1 if b.tier_level is None else b.tier_level
    )


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
    answers: dict[str, Any],
) -> None:
    r = score(REV2, answers)
    for f in r.funding:
        if f["kind"] == "resource" or not r.complete:
            assert f["eligible"] is None
        else:
            assert isinstance(f["eligible"], bool)


# ---- the generated path against a plain reading of the engine --------------------------------

# Every branch the generated code has: points in several domains (options, multiple choices,
# bands), fractional points, a domain whose questions are all conditional, the global score
# and tier_at_least in conditions, not/any/all, answered, text leaves, unknown options,
# applies_if on requirements and programmes, a resource.
WIDE_YAML = """
id: wide
version: "1"
title: "Wide"
domains:
  - {id: a, label: "A", weight: 1}
  - {id: b, label: "B", weight: 2.5}
  - {id: c, label: "C", weight: 1}
sections:
  - id: s
    title: "S"
    questions:
      - id: kind
        type: single_choice
        label: "Kind"
        required: true
        options:
          - {value: x, label: "X"}
          - {value: y, label: "Y"}
      - id: one
        type: single_choice
        label: "One"
        options:
          - {value: lo, label: "Lo", points: {a: 0.5, b: 1}}
          - {value: hi, label: "Hi", points: {a: 2, b: 0.25}}
          - {value: nsp, label: "NSP", unknown: true}
      - id: two
        type: single_choice
        label: "Two"
        required: true
        options:
          - {value: lo, label: "Lo", points: {a: 1}}
          - {value: hi, label: "Hi", points: {a: 3}}
      - id: many
        type: multiple_choice
        label: "Many"
        required: true
        options:
          - {value: m1, label: "M1", points: {a: 1, b: 1}}
          - {value: m2, label: "M2", points: {b: 0.5}}
          - {value: none, label: "None", exclusive: true}
      - id: count
        type: number
        label: "Count"
        min: 0
        max: 100
        bands:
          - {from: 10, points: {a: 1, b: 1}}
          - {from: 50, points: {a: 2, b: 1.5}}
      - id: free
        type: number
        label: "Free"
      - id: cond
        type: single_choice
        label: "Cond"
        required: true
        show_if: {question: kind, equals: y}
        options:
          - {value: lo, label: "Lo", points: {c: 1}}
          - {value: hi, label: "Hi", points: {c: 4}}
      - id: cond_many
        type: multiple_choice
        label: "Cond many"
        show_if: {not: {question: two, answered: false}}
        options:
          - {value: c1, label: "C1", points: {c: 1}}
          - {value: c2, label: "C2", points: {c: 2}}
      - id: cond_count
        type: number
        label: "Cond count"
        required: true
        show_if: {any: [{question: many, includes: m1}, {question: count, at_least: 50}]}
        bands:
          - {from: 0, points: {c: 0}}
          - {from: 5, points: {c: 1.5}}
      - id: note
        type: text
        label: "Note"
        show_if: {question: one, not_in: [lo]}
tiers:
  - {id: t0, level: 0, label: "T0", requires: []}
  - id: t1
    level: 1
    label: "T1"
    requires:
      - id: r-one
        label: "One"
        condition: {any: [{question: one, equals: hi}, {question: one, answered: true}]}
        next_step: {title: "One", effort: faible, funding: [f1]}
      - id: r-many
        label: "Many"
        condition: {all: [{question: many, includes_any: [m1, m2]}, {question: count, at_most: 90}]}
        applies_if: {question: kind, equals: x}
        next_step: {title: "Many", effort: moyen}
  - id: t2
    level: 2
    label: "T2"
    requires:
      - id: r-global
        label: "Global"
        condition: {score: global, at_least: 40}
        next_step: {title: "Global", effort: eleve}
      - id: r-b
        label: "B"
        condition: {all: [{score: b, at_least: 30}, {not: {question: note, equals: "RAS"}}]}
        next_step: {title: "B", effort: faible, funding: [f1, f2]}
      - id: r-c
        label: "C"
        condition:
          all: [{question: cond_many, count_at_least: 1}, {question: one, not_equals: lo}]
        next_step: {title: "C", effort: moyen}
funding:
  - id: f1
    label: "F1"
    eligible_if:
      all: [{tier_at_least: 1}, {score: global, at_most: 90}, {question: two, in: [hi]}]
  - id: f2
    label: "F2"
    kind: resource
    applies_if: {question: kind, equals: y}
"""
WIDE: Questionnaire = parse_questionnaire(WIDE_YAML)


def _same_as_plain(q: Questionnaire, answers: dict[str, Any]) -> None:
    assert validate_answers(q, answers) == []
    want = plain_to_dict(q, answers)
    got = score(q, answers)
    assert got.to_dict() == want
    # Each part read on its own is the same too (they are laid out by other functions).
    for key in (
        "complete",
        "missing_required",
        "unknown",
        "global_score",
        "domains",
        "tier",
        "gap",
        "tiers_met_above",
        "tiers",
        "next_steps",
        "funding",
        "answered",
        "applicable",
        "questionnaire",
    ):
        assert getattr(score(q, answers), key) == want[key], key
    assert got.tier_level == (None if want["tier"] is None else want["tier"]["level"])


@PROPS
@given(answers_strategy)
def test_real_questionnaire_result_matches_the_plain_path(answers: dict[str, Any]) -> None:
    _same_as_plain(Q, answers)


@PROPS
@given(rev2_answers)
def test_rev2_result_matches_the_plain_path(answers: dict[str, Any]) -> None:
    _same_as_plain(REV2, answers)


@PROPS
@given(answers_of(WIDE))
def test_wide_result_matches_the_plain_path(answers: dict[str, Any]) -> None:
    _same_as_plain(WIDE, answers)


def test_wide_questionnaire_hand_checked() -> None:
    """One answer set of the wide fixture, computed by hand: a = 2 + 3 + 1 + 2 = 8 of
    2 + 3 + 1 + 2 = 8; b = 0.25 + 1.5 + 1.5 = 3.25 of 1 + 1.5 + 1.5 = 4; c = 4 + 3 + 1.5 of
    4 + 3 + 1.5; global = (100 + 2.5 * 81.25 + 100) / 4.5."""
    answers = {
        "kind": "y",
        "one": "hi",
        "two": "hi",
        "many": ["m1", "m2"],
        "count": 60,
        "cond": "hi",
        "cond_many": ["c1", "c2"],
        "cond_count": 7,
        "note": "RAS",
    }
    r = score(WIDE, answers).to_dict()
    assert [(d["earned"], d["max"], d["score"]) for d in r["domains"]] == [
        (8, 8, 100.0),
        (3.25, 4, 81.25),
        (8.5, 8.5, 100.0),
    ]
    assert r["global_score"] == (100 + 2.5 * 81.25 + 100) / 4.5
    assert r["tier"] == {"id": "t1", "level": 1, "label": "T1"}
    assert [s["requirement"] for s in r["next_steps"]] == ["r-b"]
    # B is met (81.25 >= 30); only the text leaf is false: a text can be "not RAS".
    assert r["gap"]["requirements"][0]["to_meet"] == {"question": "note", "not_equals": "RAS"}
    # Complete, placed on t1, global 403.125 / 4.5 = 89.58 <= 90, two = hi.
    assert r["funding"] == [
        {"id": "f1", "kind": "funding", "eligible": True, "conditions": {"two": "hi"}},
        {"id": "f2", "kind": "resource", "eligible": None, "conditions": {}},
    ]
    assert r["answered"] == 9 and r["applicable"] == 10
