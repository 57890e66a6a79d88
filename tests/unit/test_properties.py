"""Property-based tests over generated answers to the real questionnaire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import Question, Questionnaire, load_questionnaire, score, validate_answers

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


answers_strategy = st.fixed_dictionaries(
    {}, optional={q.id: st.one_of(st.none(), value_strategy(q)) for q in Q.questions.values()}
)
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
