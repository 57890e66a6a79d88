"""What is compiled once per questionnaire version (the generated scoring and layout, the
Result subclass): never shared between versions, and the tolerant path for answers that were
not validated. Expected values computed by hand from tests/fixtures/questionnaires/mini-1.yaml:
equipement = internet (aucune 0, adsl 1, fibre 3) + postes bands (0 / 50 / 80: 0, 1, 2), max 5;
dui = fonctions (admin 1, soins 2, aucune 0; shown when internet is adsl or fibre), max 3."""

from __future__ import annotations

import copy
import json
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

from scoring import Result, load_questionnaire, parse_questionnaire, score, validate_answers
from scoring.frozen import FrozenDict, FrozenList
from scoring.generate import generate_answers

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "questionnaires" / "mini-1.yaml"
REAL = Path(__file__).resolve().parent.parent.parent / "questionnaires"


def test_unknown_option_values_earn_nothing() -> None:
    q = load_questionnaire(MINI)
    answers = {"internet": "satellite", "postes": 50}
    assert validate_answers(q, answers) != []  # not valid: score still reads what it can
    r = score(q, answers)
    assert [(d["earned"], d["max"]) for d in r.domains] == [(1, 5), (0, 0)]
    assert r.tier_level == 0
    r = score(q, {"internet": "fibre", "postes": 80, "fonctions": ["soins", "inconnue"]})
    assert [(d["earned"], d["max"]) for d in r.domains] == [(5, 5), (2, 3)]
    assert r.tier_level == 2  # dui 2/3 = 66.7 % >= 60


def test_zero_point_option_of_a_multiple_choice() -> None:
    r = score(load_questionnaire(MINI), {"internet": "adsl", "postes": 0, "fonctions": ["aucune"]})
    assert [(d["earned"], d["max"]) for d in r.domains] == [(1, 5), (0, 3)]
    assert r.to_dict()["domains"][1] == {
        "id": "dui", "label": "DUI", "score": 0.0, "earned": 0, "max": 3}


def test_two_versions_never_share_their_compiled_parts() -> None:
    text = MINI.read_text()
    v1 = parse_questionnaire(text, "mini-1.yaml")
    v2 = parse_questionnaire(
        text.replace('version: "1"', 'version: "2"').replace(
            "{value: fibre, label: \"Fibre\", points: {equipement: 3}}",
            "{value: fibre, label: \"Fibre\", points: {equipement: 1}}"),
        "mini-2.yaml",
    )
    answers = {"internet": "fibre", "postes": 80, "fonctions": ["admin"]}
    r1, r2 = score(v1, answers), score(v2, answers)
    assert isinstance(r1, Result) and isinstance(r2, Result)
    assert type(r1) is not type(r2)
    assert type(score(v1, {})) is type(r1)  # compiled once per loaded version
    # v1: fibre 3 + postes 2 = 5 of 5; v2: fibre 1 + 2 = 3 of max 1 + 2 = 3.
    assert r1.to_dict()["questionnaire"] == {"id": "mini", "version": "1"}
    assert r2.to_dict()["questionnaire"] == {"id": "mini", "version": "2"}
    assert [(d["earned"], d["max"]) for d in r1.to_dict()["domains"]] == [(5, 5), (1, 3)]
    assert [(d["earned"], d["max"]) for d in r2.to_dict()["domains"]] == [(3, 3), (1, 3)]
    # Scoring v2 did not change what v1 gives.
    assert [(d["earned"], d["max"]) for d in score(v1, answers).domains] == [(5, 5), (1, 3)]


def test_laid_out_parts_are_kept_and_shared_parts_are_read_only() -> None:
    q = load_questionnaire(MINI)
    r = score(q, {"internet": "adsl", "postes": 90})
    assert r.next_steps is r.next_steps
    assert r.next_steps == [{"requirement": "thd", "tier": "p1", "label": "THD",
                             "title": "Fibre", "detail": "Raccorder", "effort": "moyen",
                             "funding": ["prog"], "to_verify": False},
                            {"requirement": "dui60", "tier": "p2", "label": "DUI à 60 %",
                             "title": "DUI", "detail": "", "effort": "eleve",
                             "funding": [], "to_verify": False}]
    d1, d2 = r.to_dict(), score(q, {"internet": "adsl", "postes": 90}).to_dict()
    assert d1 == d2 and d1 is not d2 and d1["next_steps"] is not d2["next_steps"]
    # A step reads no answer: both results hold the same one, which refuses every change.
    step = d1["next_steps"][0]
    assert step is d2["next_steps"][0] and isinstance(step, dict)
    with pytest.raises(TypeError):
        step["funding"].append("x")
    with pytest.raises(TypeError):
        step["title"] = "Autre"
    with pytest.raises(TypeError):
        step.update(title="Autre")
    with pytest.raises(TypeError):
        d1["tiers"][1]["requirements"][0]["answers"]["internet"] = "fibre"
    # What is built for each result is the caller's; copies of the shared parts are plain.
    d1["next_steps"].append({"requirement": "x"})
    d1["complete"] = False
    mine = copy.deepcopy(d2)
    mine["next_steps"][0]["funding"].append("x")
    mine["tiers"][1]["requirements"][0]["answers"]["internet"] = "fibre"
    own = dict(step, funding=[*step["funding"], "y"])
    assert own["funding"] == ["prog", "y"]
    assert pickle.loads(pickle.dumps(d2)) == d2
    assert json.dumps(score(q, {"internet": "adsl", "postes": 90}).to_dict()) == json.dumps(d2)
    assert d2["next_steps"][0]["funding"] == ["prog"] and len(d2["next_steps"]) == 2
    assert d2["tiers"][1]["requirements"][0]["answers"] == {"internet": "adsl"}


def _containers(x: Any, found: list[Any]) -> None:
    if isinstance(x, dict | list):
        found.append(x)
        for v in x.values() if isinstance(x, dict) else x:
            _containers(v, found)


def test_no_result_shares_a_container_that_can_change() -> None:
    """Across many results of every fixture and of the real questionnaires: each dict or list
    of a to_dict() is either the result's own (no other output holds it) or read-only, and
    everything inside a read-only one is read-only too."""
    paths = [MINI, MINI.parent / "rev2-1.yaml", *sorted(REAL.glob("esms-*.yaml"))]
    outputs, owner = [], {}
    for path in paths:
        q = load_questionnaire(path)
        rng = random.Random(3)
        for _ in range(300):
            d = score(q, generate_answers(q, rng)).to_dict()
            outputs.append(d)  # kept alive: ids stay unique
            found: list[Any] = []
            _containers(d, found)
            for c in found:
                if type(c) in (dict, list):
                    assert owner.setdefault(id(c), id(d)) == id(d)
                else:
                    assert isinstance(c, FrozenDict | FrozenList)
                    inner: list[Any] = []
                    _containers(c, inner)
                    assert all(isinstance(x, FrozenDict | FrozenList) for x in inner)
    shared = sum(1 for d in outputs for s in d["next_steps"] if isinstance(s, FrozenDict))
    assert shared > 1000  # the check above did meet shared parts


def test_a_key_no_question_has_is_reported_and_not_scored() -> None:
    q = load_questionnaire(MINI)
    answers = {"autre": "x", "internet": "fibre", "postes": 80}
    assert [(e.question, e.message) for e in validate_answers(q, answers)] == [
        ("autre", "question inconnue")]
    r = score(q, answers)
    assert [(d["earned"], d["max"]) for d in r.domains] == [(5, 5), (0, 3)]
    assert r.answered == 2 and r.effective == {"internet": "fibre", "postes": 80}


def test_a_gap_line_read_from_single_choices_is_the_same_when_shared() -> None:
    """A requirement on two single-choice answers (mini, `thd` made a conjunction with a
    new `wifi` question): its gap line names the items that do not hold, computed on the
    first occurrence of the answers and shared after."""
    text = MINI.read_text().replace("      - id: note", """      - id: wifi
        type: single_choice
        label: "Wifi ?"
        options:
          - {value: oui, label: "Oui", points: {equipement: 0}}
          - {value: non, label: "Non", points: {equipement: 0}}
      - id: note""").replace(
        "condition: {question: internet, equals: fibre}",
        "condition: {all: [{question: internet, equals: fibre}, {question: wifi, in: [oui]}]}")
    q = parse_questionnaire(text, "mini-1.yaml")
    internet = {"question": "internet", "in": ["fibre"]}
    wifi = {"question": "wifi", "in": ["oui"]}
    cases = [
        ({"internet": "adsl", "wifi": "oui"}, internet),
        ({"internet": "adsl", "wifi": "non"}, {"all": [internet, wifi]}),
        ({"internet": "fibre", "wifi": "non"}, wifi),
        ({"internet": "fibre", "wifi": None}, wifi),
    ]
    for _ in range(2):  # built, then looked up
        for answers, to_meet in cases:
            given = {k: v for k, v in answers.items() if v is not None}
            gap = score(q, {**given, "postes": 90}).to_dict()["gap"]
            assert gap == {"next_tier": {"id": "p1", "level": 1, "label": "P1"}, "requirements": [
                {"id": "thd", "label": "THD", "answers": answers, "to_verify": False,
                 "to_meet": to_meet}]}
