"""Conditions, applicability, answer validation and scoring, with hand-computed results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring import (
    Questionnaire,
    applicable,
    load_questionnaire,
    parse_questionnaire,
    score,
    validate_answers,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "questionnaires"


def make(conditions: dict[str, Any]) -> Questionnaire:
    """A questionnaire whose funding entries each test one condition."""
    doc = {
        "id": "ops",
        "version": "1",
        "title": "Opérateurs",
        "domains": [{"id": "d1", "label": "D1", "weight": 1},
                    {"id": "d2", "label": "D2", "weight": 3}],
        "sections": [{"id": "s", "title": "S", "questions": [
            {"id": "sc", "type": "single_choice", "label": "SC", "options": [
                {"value": "a", "label": "A", "points": {"d1": 1}},
                {"value": "b", "label": "B", "points": {"d1": 2}},
                {"value": "c", "label": "C", "points": {"d1": 4}}]},
            {"id": "mc", "type": "multiple_choice", "label": "MC", "options": [
                {"value": "x", "label": "X", "points": {"d2": 1}},
                {"value": "y", "label": "Y", "points": {"d2": 2}},
                {"value": "z", "label": "Z", "points": {"d2": 3}},
                {"value": "none", "label": "Aucun", "exclusive": True}]},
            {"id": "num", "type": "number", "label": "N", "min": 0, "max": 100, "bands": [
                {"from": 10, "points": {"d1": 1}}, {"from": 50, "points": {"d1": 3}}]},
            {"id": "txt", "type": "text", "label": "T"},
            {"id": "hidden", "type": "single_choice", "label": "H",
             "show_if": {"question": "sc", "equals": "a"},
             "options": [{"value": "o", "label": "O", "points": {"d2": 6}}]},
        ]}],
        "tiers": [{"id": "p0", "level": 0, "label": "P0", "requires": []},
                  {"id": "p1", "level": 1, "label": "P1", "requires": [
                      {"id": "r", "label": "R", "condition": {"question": "sc", "in": ["b", "c"]},
                       "next_step": {"title": "T", "effort": "faible"}}]}],
        "funding": [{"id": f"f{i}", "label": name, "eligible_if": cond}
                    for i, (name, cond) in enumerate(conditions.items())],
    }
    return parse_questionnaire(yaml.safe_dump(doc, allow_unicode=True), "ops-1.yaml")


def truth(q: Questionnaire, answers: dict[str, Any]) -> dict[str, bool]:
    assert validate_answers(q, answers) == []
    r = score(q, answers)
    labels = {f.id: f.label for f in q.funding}
    return {labels[f["id"]]: f["eligible"] for f in r.funding}


# name -> condition; the tables below give the expected truth values by hand.
LEAVES = {
    "sc=b": {"question": "sc", "equals": "b"},
    "sc!=b": {"question": "sc", "not_equals": "b"},
    "sc in a,c": {"question": "sc", "in": ["a", "c"]},
    "sc not in a": {"question": "sc", "not_in": ["a"]},
    "mc has y": {"question": "mc", "includes": "y"},
    "mc all x,y": {"question": "mc", "includes_all": ["x", "y"]},
    "mc any y,z": {"question": "mc", "includes_any": ["y", "z"]},
    "mc count>=2": {"question": "mc", "count_at_least": 2},
    "num>=50": {"question": "num", "at_least": 50},
    "num<=50": {"question": "num", "at_most": 50},
    "num=50": {"question": "num", "equals": 50},
    "num!=50": {"question": "num", "not_equals": 50},
    "txt=ok": {"question": "txt", "equals": "ok"},
    "txt answered": {"question": "txt", "answered": True},
    "txt unanswered": {"question": "txt", "answered": False},
    "hidden=o": {"question": "hidden", "equals": "o"},
    "hidden unanswered": {"question": "hidden", "answered": False},
    "d1>=50": {"score": "d1", "at_least": 50},
    "d1<=50": {"score": "d1", "at_most": 50},
    "global>=40": {"score": "global", "at_least": 40},
    "tier>=1": {"tier_at_least": 1},
    "all empty": {"all": []},
    "any empty": {"any": []},
    "not sc=b": {"not": {"question": "sc", "equals": "b"}},
    "all(sc=b, num>=50)": {"all": [{"question": "sc", "equals": "b"},
                                   {"question": "num", "at_least": 50}]},
    "any(sc=a, mc has z)": {"any": [{"question": "sc", "equals": "a"},
                                    {"question": "mc", "includes": "z"}]},
}

# Answers B: sc=b (d1 2), mc=[x,y] (d2 3), num=50 (band 50 -> d1 3), txt="ok",
# hidden answered but not applicable (sc != a).
# d1: earned 2+3=5, max 4+3=7 -> 71.43; d2: earned 3, max 6 (hidden not applicable) -> 50.
# global = (1*71.43 + 3*50)/4 = 55.36; tier 1 (sc in b,c).
ANSWERS_B = {"sc": "b", "mc": ["x", "y"], "num": 50, "txt": "ok", "hidden": "o"}
EXPECTED_B = {
    "sc=b": True, "sc!=b": False, "sc in a,c": False, "sc not in a": True,
    "mc has y": True, "mc all x,y": True, "mc any y,z": True, "mc count>=2": True,
    "num>=50": True, "num<=50": True, "num=50": True, "num!=50": False,
    "txt=ok": True, "txt answered": True, "txt unanswered": False,
    "hidden=o": False, "hidden unanswered": True,
    "d1>=50": True, "d1<=50": False, "global>=40": True, "tier>=1": True,
    "all empty": True, "any empty": False, "not sc=b": False,
    "all(sc=b, num>=50)": True, "any(sc=a, mc has z)": False,
}
# Nothing answered: every question leaf is false except answered: false;
# d1: 0/7 = 0 (a score of 0, not null); d2: 0/12 (hidden applies? no: sc unanswered so
# show_if false) -> 0/6 = 0; global 0; no tier 1.
EXPECTED_EMPTY = {
    "sc=b": False, "sc!=b": False, "sc in a,c": False, "sc not in a": False,
    "mc has y": False, "mc all x,y": False, "mc any y,z": False, "mc count>=2": False,
    "num>=50": False, "num<=50": False, "num=50": False, "num!=50": False,
    "txt=ok": False, "txt answered": False, "txt unanswered": True,
    "hidden=o": False, "hidden unanswered": True,
    "d1>=50": False, "d1<=50": True, "global>=40": False, "tier>=1": False,
    "all empty": True, "any empty": False, "not sc=b": True,
    "all(sc=b, num>=50)": False, "any(sc=a, mc has z)": False,
}


def test_operators_on_answers() -> None:
    assert truth(make(LEAVES), ANSWERS_B) == EXPECTED_B


def test_operators_on_empty_answers() -> None:
    assert truth(make(LEAVES), {}) == EXPECTED_EMPTY


def test_blank_text_and_empty_list_are_unanswered() -> None:
    got = truth(make(LEAVES), {"txt": "   ", "mc": [], "sc": None})
    assert got == EXPECTED_EMPTY


def test_hidden_question_answer_applies_when_shown() -> None:
    got = truth(make(LEAVES), {"sc": "a", "hidden": "o"})
    assert got["hidden=o"] is True
    assert got["hidden unanswered"] is False
    assert got["sc in a,c"] is True


def test_number_equality_int_float() -> None:
    got = truth(make(LEAVES), {"num": 50.0})
    assert got["num=50"] is True


def test_scores_of_answers_b() -> None:
    q = make({})
    r = score(q, ANSWERS_B)
    d = {x["id"]: x for x in r.domains}
    assert (d["d1"]["earned"], d["d1"]["max"]) == (5, 7)
    assert d["d1"]["score"] == pytest.approx(500 / 7)
    assert (d["d2"]["earned"], d["d2"]["max"]) == (3, 6)
    assert d["d2"]["score"] == 50.0
    assert r.global_score == pytest.approx((500 / 7 + 150) / 4)
    assert r.tier == {"id": "p1", "level": 1, "label": "P1"}
    assert r.answered == 4 and r.applicable == 4


def test_applicable() -> None:
    q = make({})
    assert applicable(q, {"sc": "a"}) == {"sc": True, "mc": True, "num": True, "txt": True,
                                          "hidden": True}
    assert applicable(q, {"sc": "b", "hidden": "o"})["hidden"] is False


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"nope": 1}, [("nope", 1, "question inconnue")]),
        ({"sc": "d"}, [("sc", "d", "option inconnue")]),
        ({"sc": 1}, [("sc", 1, "une valeur d'option (chaîne) est attendue")]),
        ({"mc": "x"}, [("mc", "x", "une liste de valeurs d'options est attendue")]),
        ({"mc": ["x", "x"]}, [("mc", ["x", "x"], "option « x » répétée")]),
        ({"mc": ["x", "w"]}, [("mc", ["x", "w"], "option inconnue « w »")]),
        ({"mc": ["x", "none"]}, [("mc", ["x", "none"], "l'option « none » exclut les autres")]),
        ({"num": "50"}, [("num", "50", "un nombre est attendu")]),
        ({"num": True}, [("num", True, "un nombre est attendu")]),
        ({"num": float("nan")}, [("num", None, "un nombre est attendu")]),
        ({"num": 101}, [("num", 101, "le nombre doit être inférieur ou égal à 100")]),
        ({"num": -0.5}, [("num", -0.5, "le nombre doit être supérieur ou égal à 0")]),
        ({"txt": 3}, [("txt", 3, "un texte est attendu")]),
        ({"hidden": "zz"}, [("hidden", "zz", "option inconnue")]),
    ],
)
def test_invalid_answers(answers: dict[str, Any], expected: list[tuple[str, Any, str]]) -> None:
    errs = validate_answers(make({}), answers)
    got = [(e.question, None if e.value != e.value else e.value, e.message) for e in errs]
    assert got == expected


def test_valid_answers_include_exclusive_alone_and_none() -> None:
    assert validate_answers(make({}), {"mc": ["none"], "sc": None, "num": 0, "txt": ""}) == []


# ---- golden cases on the mini fixture (tests/fixtures/questionnaires/mini-1.yaml) ----------
# equipement: internet max 3 + postes max 2 = 5; dui: fonctions (shown when internet is adsl
# or fibre) max 1 + 2 = 3. Weights equipement 1, dui 2.


def mini() -> Questionnaire:
    return load_questionnaire(FIXTURES / "mini-1.yaml")


def test_golden_empty_answers() -> None:
    r = score(mini(), {}).to_dict()
    assert r["complete"] is False
    assert r["missing_required"] == ["internet", "postes"]
    # fonctions hidden (internet unanswered) -> dui has no applicable points: null.
    assert [(d["id"], d["score"], d["earned"], d["max"]) for d in r["domains"]] == [
        ("equipement", 0.0, 0, 5), ("dui", None, 0, 0)]
    assert r["global_score"] == 0.0
    assert r["tier"] == {"id": "p0", "level": 0, "label": "P0"}
    assert [s["requirement"] for s in r["next_steps"]] == ["thd", "dui60"]
    # Revision 2: incomplete, so no eligibility (was False); kind and conditions added.
    assert r["funding"] == [{"id": "prog", "kind": "funding", "eligible": None,
                             "conditions": {"postes": None}}]
    assert r["tiers"][2]["requirements"][0]["scores"] == {"dui": None}


def test_golden_below_first_band_and_boundary_60() -> None:
    # postes 49.9 -> band 0 (0 points); internet fibre 3; fonctions admin+soins... use soins
    # only: dui 2/3 = 66.7 >= 60.
    r = score(mini(), {"internet": "fibre", "postes": 49.9, "fonctions": ["soins"]})
    assert r.domains[0]["earned"] == 3 and r.domains[0]["score"] == 60.0
    assert r.tier_level == 2
    assert r.funding == [{"id": "prog", "kind": "funding", "eligible": False,  # postes < 50
                          "conditions": {"postes": 49.9}}]


def test_golden_number_below_first_band() -> None:
    q = parse_questionnaire((FIXTURES / "mini-1.yaml").read_text().replace(
        "{from: 0, points: {equipement: 0}}", "{from: 20, points: {equipement: 0}}"), "x")
    r = score(q, {"internet": "aucune", "postes": 10})
    assert r.domains[0]["earned"] == 0 and r.domains[0]["max"] == 5


def test_golden_hidden_answer_not_scored() -> None:
    # internet aucune hides fonctions: its answer is kept but neither scored nor read.
    r = score(mini(), {"internet": "aucune", "postes": 100, "fonctions": ["admin", "soins"]})
    assert [(d["earned"], d["max"]) for d in r.domains] == [(2, 5), (0, 0)]
    assert r.global_score == 40.0  # dui null -> left out of the global score
    assert r.tier_level == 0
    assert r.answered == 2


def test_golden_exact_threshold_on_boundary() -> None:
    # A score exactly on a threshold: dui earned 3 of max 5 = 60 % exactly.
    text = (FIXTURES / "mini-1.yaml").read_text().replace(
        "{value: soins, label: \"Soins\", points: {dui: 2}}",
        "{value: soins, label: \"Soins\", points: {dui: 2}}\n"
        "          - {value: coord, label: \"Coord\", points: {dui: 2}}")
    q = parse_questionnaire(text, "x")
    r = score(q, {"internet": "fibre", "postes": 0, "fonctions": ["admin", "soins"]})
    assert (r.domains[1]["earned"], r.domains[1]["max"]) == (3, 5)
    assert r.domains[1]["score"] == 60.0
    assert r.tier_level == 2  # 60 >= 60: met


def test_golden_float_points_exact_boundary() -> None:
    # 0.1 + 0.2 points of 0.5 max: 60 % exactly in rationals (0.30000000000000004 in floats).
    doc = """\
id: f
version: "1"
title: F
domains: [{id: d, label: D, weight: 1}]
sections:
  - id: s
    title: S
    questions:
      - {id: a, type: single_choice, label: A, options: [{value: y, label: Y, points: {d: 0.1}}]}
      - {id: b, type: single_choice, label: B, options: [{value: y, label: Y, points: {d: 0.2}}]}
      - {id: c, type: single_choice, label: C, options: [{value: y, label: Y, points: {d: 0.2}}]}
tiers:
  - {id: p0, level: 0, label: P0, requires: []}
  - id: p1
    level: 1
    label: P1
    requires:
      - {id: r, label: R, condition: {score: d, at_least: 60},
         next_step: {title: T, effort: faible}}
funding:
  - {id: g, label: G, eligible_if: {score: global, at_most: 60}}
"""
    q = parse_questionnaire(doc, "f-1.yaml")
    r = score(q, {"a": "y", "b": "y"})
    assert r.tier_level == 1
    assert r.funding == [{"id": "g", "kind": "funding", "eligible": True, "conditions": {}}]


def test_cumulative_placement_and_next_steps_order() -> None:
    # p1 unmet but p2 met: placed on p0; next steps of p1 then p2 (only unmet ones).
    r = score(mini(), {"internet": "adsl", "postes": 90, "fonctions": ["admin", "soins"]})
    assert r.tier_level == 0
    assert r.tiers[2]["met"] is True
    assert [s["requirement"] for s in r.next_steps] == ["thd"]
    assert r.next_steps[0] == {"requirement": "thd", "tier": "p1", "label": "THD",
                               "title": "Fibre", "detail": "Raccorder", "effort": "moyen",
                               "funding": ["prog"], "to_verify": False}


def test_no_tier_when_lowest_unmet() -> None:
    text = (FIXTURES / "mini-1.yaml").read_text().replace(
        '  - {id: p0, level: 0, label: "P0", requires: []}',
        '  - id: p0\n    level: 0\n    label: "P0"\n    requires:\n'
        '      - {id: base, label: B, condition: {question: postes, answered: true},\n'
        '         next_step: {title: Base, effort: faible}}')
    q = parse_questionnaire(text, "x")
    r = score(q, {"internet": "fibre"})
    assert r.tier is None
    assert [s["requirement"] for s in r.next_steps] == ["base", "dui60"]
    assert r.to_dict()["tier"] is None


def test_result_keys_match_contract() -> None:
    r = score(mini(), {"internet": "fibre", "postes": 80}).to_dict()
    for key in ("questionnaire", "complete", "missing_required", "global_score", "domains",
                "tier", "tiers", "next_steps", "funding"):
        assert key in r
    assert r["questionnaire"] == {"id": "mini", "version": "1"}
    req = r["tiers"][1]["requirements"][0]
    assert req == {"id": "thd", "label": "THD", "met": True, "applies": True,
                   "answers": {"internet": "fibre"}}


def test_score_does_not_alter_answers() -> None:
    answers = {"internet": "fibre", "postes": 80, "fonctions": ["soins", "admin"]}
    copy = {"internet": "fibre", "postes": 80, "fonctions": ["soins", "admin"]}
    score(mini(), answers)
    validate_answers(mini(), answers)
    assert answers == copy
