"""Lines shared between results when they read a number (by the number's class, then its
value), the valid option lists that validation keeps, `answered` counted by the scoring
function and `includes_all` on a few values: the same JSON as the plain reading, bounded
caches. Expected values by hand from tests/fixtures/questionnaires/mini-1.yaml, changed so
that `thd` reads `postes` (a number) besides `internet` and a requirement `duo` of the first
tier reads `fonctions` (a multiple choice) with includes_all."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from scoring import frozen, parse_questionnaire, plan, score, validate_answers
from scoring.frozen import FrozenDict
from scoring.generate import generate_answers
from scoring.plan import plan_of

from .plain_score import plain_to_dict

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "questionnaires" / "mini-1.yaml"
THD = "condition: {question: internet, equals: fibre}"
BOTH = "condition: {all: [{question: internet, equals: fibre}, {question: postes, at_least: 50}]}"
DUO = """      - id: duo
        label: "Admin et soins"
        condition: {question: fonctions, includes_all: [soins, admin]}
        next_step: {title: "Duo", effort: faible}
  - id: p2"""


def _mini() -> Any:
    text = MINI.read_text().replace(THD, BOTH).replace("  - id: p2", DUO, 1)
    assert BOTH in text and "id: duo" in text
    return parse_questionnaire(text, "mini-1.yaml")


def _line(d: dict[str, Any], req: str) -> Any:
    return next(x for t in d["tiers"] for x in t["requirements"] if x["id"] == req)


def test_a_line_reading_a_number_is_shared_only_by_equal_numbers_of_one_class() -> None:
    q = _mini()
    lines = {}
    for postes in (50, 50.0, 0, 0.0, -0.0, 80.5):
        d = score(q, {"internet": "fibre", "postes": postes}).to_dict()
        lines[repr(postes)] = _line(d, "thd")
        again = _line(score(q, {"internet": "fibre", "postes": postes}).to_dict(), "thd")
        assert json.dumps(again) == json.dumps(lines[repr(postes)])
        kept = postes != 0 or type(postes) is int
        assert (again is lines[repr(postes)]) == kept
        assert isinstance(again, FrozenDict) == kept  # else this result's own, plain
    assert json.dumps(lines["50"]) == (
        '{"id": "thd", "label": "THD", "met": true, "applies": true,'
        ' "answers": {"internet": "fibre", "postes": 50}}')
    assert lines["50.0"]["answers"] == {"internet": "fibre", "postes": 50.0}
    assert json.dumps(lines["50.0"]["answers"]["postes"]) == "50.0"
    assert [lines[k]["met"] for k in ("0", "0.0", "-0.0", "80.5")] == [False, False, False, True]
    assert json.dumps(lines["-0.0"]["answers"]["postes"]) == "-0.0"
    assert json.dumps(lines["0.0"]["answers"]["postes"]) == "0.0"
    with pytest.raises(TypeError):  # shared: read-only
        lines["50"]["answers"]["postes"] = 1
    # The gap's line: shared the same way, never mixing 40 and 40.0.
    gaps = [score(q, {"internet": "adsl", "postes": p}).to_dict()["gap"] for p in (40, 40.0, 40)]
    assert [json.dumps(g["requirements"][0]["answers"]) for g in gaps] == [
        '{"internet": "adsl", "postes": 40}', '{"internet": "adsl", "postes": 40.0}',
        '{"internet": "adsl", "postes": 40}']
    assert gaps[0]["requirements"][0] is gaps[2]["requirements"][0]
    assert gaps[0]["requirements"][0] is not gaps[1]["requirements"][0]


def test_odd_numbers_are_laid_out_as_given_and_not_kept() -> None:
    """Answers that were not validated: a bool is not a number and is never a key."""
    q = _mini()
    d = score(q, {"internet": "fibre", "postes": True}).to_dict()
    assert json.dumps(_line(d, "thd")["answers"]) == '{"internet": "fibre", "postes": true}'
    d = score(q, {"internet": "fibre", "postes": 1}).to_dict()
    assert json.dumps(_line(d, "thd")["answers"]) == '{"internet": "fibre", "postes": 1}'
    cache = type(score(q, {}))._L.trace_cache
    assert all(set(c) <= {int, float, type(None)} for c in cache if c)


def test_number_line_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    q = _mini()
    monkeypatch.setattr(frozen, "LINE_CACHE_SIZE", 5)
    for postes in range(30):
        d = score(q, {"internet": "adsl", "postes": postes}).to_dict()
        assert _line(d, "thd")["answers"] == {"internet": "adsl", "postes": postes}
        assert d["gap"]["requirements"][0]["answers"]["postes"] == postes
    layout = type(score(q, {}))._L
    thd = next(c for c in layout.trace_cache if c)
    assert 0 < len(thd[int]) <= 5
    late = [score(q, {"internet": "adsl", "postes": 29}).to_dict() for _ in range(2)]
    assert [type(_line(d, "thd")) for d in late] == [dict, dict]  # not kept: built plain
    assert _line(late[0], "thd") is not _line(late[1], "thd")
    assert [type(d["gap"]["requirements"][0]) for d in late] == [dict, dict]


def test_includes_all_and_answered_by_hand() -> None:
    q = _mini()
    cases = [  # fonctions, internet, note -> duo met, answered
        (["soins", "admin"], "fibre", "x", True, 4),
        (["admin"], "fibre", "   ", False, 3),  # a blank text is not an answer
        ([], "adsl", None, False, 2),  # an empty list is not an answer
        (["soins", "admin"], "aucune", None, False, 2),  # hidden: not read
    ]
    for fonctions, internet, note, met, answered in cases:
        answers = {"internet": internet, "postes": 90, "fonctions": fonctions, "note": note}
        r = score(q, answers)
        assert (_line(r.to_dict(), "duo")["met"], r.answered) == (met, answered)
        assert r.to_dict()["answered"] == answered


def _valid_lists(q: Any) -> list[set[tuple[str, ...]]]:
    return [v for v in plan_of(q).valid.__globals__.values() if isinstance(v, set)]


def test_valid_option_lists_are_kept_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    q = _mini()
    base = {"internet": "fibre", "postes": 90}
    for _ in range(2):  # checked in full, then looked up
        assert validate_answers(q, {**base, "fonctions": ["admin", "soins"]}) == []
        assert [e.message for e in validate_answers(q, {**base, "fonctions": ["admin"] * 2})] == [
            "option « admin » répétée"]
        assert [e.message for e in validate_answers(
            q, {**base, "fonctions": ["aucune", "admin"]})] == [
            "l'option « aucune » exclut les autres"]
        assert [e.message for e in validate_answers(q, {**base, "fonctions": [["admin"]]})] == [
            "valeur d'option invalide ['admin']"]
    assert _valid_lists(q) == [{("admin", "soins")}]
    monkeypatch.setattr(plan, "SEEN_VALID_SIZE", 2)
    for fonctions in (["soins"], ["aucune"], ["soins", "admin"], ["admin"]):
        assert validate_answers(q, {**base, "fonctions": fonctions}) == []
    assert _valid_lists(q) == [{("admin", "soins"), ("soins",)}]


def test_many_answer_sets_give_the_plain_json() -> None:
    """Generated answers, numbers given as ints, floats and zeros of both signs: the JSON of
    to_dict() is the plain reading's, byte for byte, twice (built, then shared)."""
    q = _mini()
    rng = random.Random(14)
    numbers = [0, 0.0, -0.0, 50, 50.0, 49.9, 100, 100.0, 79, 80.0]
    for i in range(600):
        answers = generate_answers(q, rng)
        if i % 2:
            answers["postes"] = rng.choice(numbers)
        assert validate_answers(q, answers) == []
        want = json.dumps(plain_to_dict(q, answers))
        assert json.dumps(score(q, answers).to_dict()) == want
        assert json.dumps(score(q, answers).to_dict()) == want
