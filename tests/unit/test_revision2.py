"""Revision 2 of the questionnaire format, golden results computed by hand.

Fixture: tests/fixtures/questionnaires/rev2-1.yaml (one domain d, max 6 = dui 2 + ins 1 +
medic 2 + usage band 1), beside tests/fixtures/questionnaires/programmes.yaml.
"""

from __future__ import annotations

import json
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


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return load_questionnaire(FIXTURES / "rev2-1.yaml")


def result(q: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    assert validate_answers(q, answers) == []
    out = score(q, answers).to_dict()
    json.dumps(out)  # JSON as it is
    return out


SSIAD_UNSURE = {"type_structure": "ssiad", "dui": "oui", "ins": "nsp", "medic": "non",
                "usage": 60}


def test_ssiad_with_an_unknown_answer(q: Questionnaire) -> None:
    r = result(q, SSIAD_UNSURE)
    # Required: type_structure, dui, usage: all answered; "je ne sais pas" is an answer.
    assert r["complete"] is True and r["missing_required"] == []
    assert r["unknown"] == ["ins"]
    # dui oui 2 + ins nsp 0 + medic non 0 + usage 60 -> band 50: 1 = 3 / 6.
    assert r["domains"] == [{"id": "d", "label": "D", "score": 50.0, "earned": 3, "max": 6}]
    # p1 met; p2: r-medic does not apply (not an EHPAD), r-ins unmet (nsp meets no
    # not_equals: non); placed on p1.
    assert r["tier"] == {"id": "p1", "level": 1, "label": "P1"}
    assert r["tiers"][2] == {
        "id": "p2", "level": 2, "label": "P2", "met": False, "requirements": [
            {"id": "r-medic", "label": "Circuit du médicament", "met": None,
             "applies": False, "answers": {"medic": "non"}},
            {"id": "r-ins", "label": "INS", "met": False, "applies": True,
             "answers": {"ins": "nsp"}}]}
    # p3: r-usage met (60 >= 50, dui oui); r-score unmet (50 < 60).
    assert [(x["id"], x["met"], x["applies"]) for x in r["tiers"][3]["requirements"]] == [
        ("r-usage", True, True), ("r-score", False, True)]
    assert r["next_steps"] == [
        {"requirement": "r-ins", "tier": "p2", "label": "INS", "title": "Qualifier l'INS",
         "detail": "", "effort": "faible", "funding": [], "to_verify": True},
        {"requirement": "r-score", "tier": "p3", "label": "Score", "title": "Progresser",
         "detail": "", "effort": "moyen", "funding": [], "to_verify": False}]
    assert r["gap"] == {
        "next_tier": {"id": "p2", "level": 2, "label": "P2"},
        "requirements": [{"id": "r-ins", "label": "INS", "answers": {"ins": "nsp"},
                          "to_verify": True, "to_meet": {"question": "ins", "in": ["oui"]}}]}
    assert r["tiers_met_above"] == []
    # kit (EHPAD only) left out; prog2 needs ins = oui; prog3 (SSIAD) needs dui = nsp.
    assert r["funding"] == [
        {"id": "prog2", "kind": "funding", "eligible": False, "conditions": {"ins": "nsp"}},
        {"id": "prog3", "kind": "funding", "eligible": False, "conditions": {"dui": "oui"}}]


EHPAD = {"type_structure": "ehpad", "dui": "oui", "ins": "oui", "medic": "non", "usage": 100}


def test_ehpad_one_requirement_from_p2_with_p3_already_met(q: Questionnaire) -> None:
    r = result(q, EHPAD)
    assert r["unknown"] == []
    # 2 + 1 + 0 + 1 = 4 / 6.
    assert r["global_score"] == pytest.approx(400 / 6)
    # r-medic applies to an EHPAD and is unmet: placed on p1 although p3 is met.
    assert r["tier"]["id"] == "p1"
    assert [t["met"] for t in r["tiers"]] == [True, True, False, True]
    assert r["tiers_met_above"] == ["p3"]
    assert r["gap"] == {
        "next_tier": {"id": "p2", "level": 2, "label": "P2"},
        "requirements": [{"id": "r-medic", "label": "Circuit du médicament",
                          "answers": {"medic": "non"}, "to_verify": False,
                          "to_meet": {"question": "medic", "in": ["oui"]}}]}
    assert [s["requirement"] for s in r["next_steps"]] == ["r-medic"]
    assert r["funding"] == [
        {"id": "prog2", "kind": "funding", "eligible": True, "conditions": {"ins": "oui"}},
        {"id": "kit", "kind": "resource", "eligible": None, "conditions": {}}]


def test_incomplete_assessment_has_no_eligibility(q: Questionnaire) -> None:
    # EHPAD without `usage` (required): prog2's condition holds (tier 1, ins oui) but the
    # assessment is incomplete, so eligible is null; the conditions read are still shown.
    answers = {k: v for k, v in EHPAD.items() if k != "usage"}
    r = result(q, answers)
    assert r["complete"] is False and r["missing_required"] == ["usage"]
    assert r["tier"]["id"] == "p1"
    assert r["funding"] == [
        {"id": "prog2", "kind": "funding", "eligible": None, "conditions": {"ins": "oui"}},
        {"id": "kit", "kind": "resource", "eligible": None, "conditions": {}}]


ALL_UNSURE = {"type_structure": "ssiad", "dui": "nsp", "ins": "nsp", "medic": "non",
              "usage": 0}


def test_all_unknown(q: Questionnaire) -> None:
    r = result(q, ALL_UNSURE)
    assert r["complete"] is True
    assert r["unknown"] == ["dui", "ins"]
    assert r["domains"][0]["earned"] == 0 and r["global_score"] == 0.0
    # nsp does not meet dui = oui: no tier above p0.
    assert r["tier"]["id"] == "p0"
    assert [(s["requirement"], s["to_verify"]) for s in r["next_steps"]] == [
        ("r-dui", True), ("r-ins", True), ("r-usage", True), ("r-score", False)]
    assert r["gap"]["next_tier"]["id"] == "p1"
    assert r["gap"]["requirements"] == [
        {"id": "r-dui", "label": "DUI", "answers": {"dui": "nsp"}, "to_verify": True,
         "to_meet": {"question": "dui", "in": ["oui"]}}]
    # prog3's leaf names the unknown value (dui equals nsp): it is true.
    assert r["funding"] == [
        {"id": "prog2", "kind": "funding", "eligible": False, "conditions": {"ins": "nsp"}},
        {"id": "prog3", "kind": "funding", "eligible": True, "conditions": {"dui": "nsp"}}]


def test_unknown_answer_and_show_if(q: Questionnaire) -> None:
    # dui_detail is shown when dui != non; nsp meets no not_equals leaf: hidden.
    assert applicable(q, {"dui": "nsp"})["dui_detail"] is False
    assert applicable(q, {"dui": "oui"})["dui_detail"] is True
    assert applicable(q, {})["dui_detail"] is False


def test_top_tier_has_no_gap(q: Questionnaire) -> None:
    r = result(q, {**EHPAD, "medic": "oui"})
    assert r["tier"]["id"] == "p3"
    assert r["gap"] == {"next_tier": None, "requirements": []}
    assert r["tiers_met_above"] == [] and r["next_steps"] == []


def test_gap_with_a_score_and_combinators() -> None:
    # to_meet keeps only the false parts of an `all`, offers every branch of an `any`,
    # pushes `not` down to option values, and is null where no exact answer says it.
    doc = yaml.safe_load((FIXTURES / "rev2-1.yaml").read_text())
    doc["tiers"][1]["requires"] = [
        {"id": "a", "label": "A", "next_step": {"title": "A", "effort": "faible"},
         "condition": {"all": [{"question": "dui", "equals": "oui"},
                               {"question": "usage", "at_least": 50},
                               {"score": "d", "at_least": 80.5}]}},
        {"id": "b", "label": "B", "next_step": {"title": "B", "effort": "faible"},
         "condition": {"any": [{"question": "ins", "in": ["oui"]},
                               {"not": {"question": "type_structure", "equals": "ssiad"}}]}},
        {"id": "c", "label": "C", "next_step": {"title": "C", "effort": "faible"},
         "condition": {"not": {"question": "usage", "at_least": 10}}},
    ]
    doc["funding"] = []
    q2 = parse_questionnaire(yaml.safe_dump(doc, allow_unicode=True), "rev2-1.yaml")
    r = score(q2, {"type_structure": "ssiad", "dui": "oui", "ins": "non", "usage": 20})
    assert [x["id"] for x in r.gap["requirements"]] == ["a", "b", "c"]
    a, b, c = (x["to_meet"] for x in r.gap["requirements"])
    assert a == {"all": [{"question": "usage", "at_least": 50},
                         {"score": "d", "at_least": 80.5}]}
    assert b == {"any": [{"question": "ins", "in": ["oui"]},
                         {"question": "type_structure", "in": ["ehpad"]}]}
    assert c is None
    assert r.gap["requirements"][0]["scores"] == {"d": pytest.approx(200 / 6)}


# ---- leaves on a question answered "je ne sais pas" ------------------------------------------

LEAVES = {
    "equals oui": {"question": "dui", "equals": "oui"},
    "not_equals non": {"question": "dui", "not_equals": "non"},
    "in oui,non": {"question": "dui", "in": ["oui", "non"]},
    "not_in non": {"question": "dui", "not_in": ["non"]},
    "in oui,nsp": {"question": "dui", "in": ["oui", "nsp"]},
    "equals nsp": {"question": "dui", "equals": "nsp"},
    "not_equals nsp": {"question": "dui", "not_equals": "nsp"},
    "not_in nsp": {"question": "dui", "not_in": ["nsp"]},
    "answered": {"question": "dui", "answered": True},
    "unanswered": {"question": "dui", "answered": False},
    "not equals oui": {"not": {"question": "dui", "equals": "oui"}},
}
# By the contract: every leaf false except answered: true and leaves naming nsp (evaluated
# as written); `not` negates the leaf's value.
EXPECTED_NSP = {
    "equals oui": False, "not_equals non": False, "in oui,non": False, "not_in non": False,
    "in oui,nsp": True, "equals nsp": True, "not_equals nsp": False, "not_in nsp": False,
    "answered": True, "unanswered": False, "not equals oui": True,
}
EXPECTED_NON = {
    "equals oui": False, "not_equals non": False, "in oui,non": True, "not_in non": False,
    "in oui,nsp": False, "equals nsp": False, "not_equals nsp": True, "not_in nsp": True,
    "answered": True, "unanswered": False, "not equals oui": True,
}


def leaves_questionnaire() -> Questionnaire:
    doc = yaml.safe_load((FIXTURES / "rev2-1.yaml").read_text())
    doc["tiers"][1]["requires"][0]["next_step"]["funding"] = []
    doc["funding"] = [{"id": f"f{i}", "label": name, "eligible_if": cond}
                      for i, (name, cond) in enumerate(LEAVES.items())]
    return parse_questionnaire(yaml.safe_dump(doc, allow_unicode=True), "rev2-1.yaml")


@pytest.mark.parametrize(("dui", "expected"), [("nsp", EXPECTED_NSP), ("non", EXPECTED_NON)])
def test_leaves_on_an_unknown_answer(dui: str, expected: dict[str, bool]) -> None:
    q2 = leaves_questionnaire()
    r = score(q2, {"type_structure": "ehpad", "dui": dui, "usage": 0})
    assert r.complete
    labels = {f.id: f.label for f in q2.funding}
    assert {labels[f["id"]]: f["eligible"] for f in r.funding} == expected


def test_unknown_answer_validates_like_any_option(q: Questionnaire) -> None:
    assert validate_answers(q, {"dui": "nsp", "ins": "nsp"}) == []
    assert [e.message for e in validate_answers(q, {"dui": "jnsp"})] == ["option inconnue"]


# ---- version 2026.1: the contradiction of issue 9 section 2, said plainly --------------------


def test_2026_1_gap_when_palier_1_misses_one_point_and_palier_2_is_met() -> None:
    from tests.unit.test_real_questionnaire import PATH, PETIT_EHPAD

    q2026 = load_questionnaire(PATH)
    r = result(q2026, {**PETIT_EHPAD, "messagerie_nominative": "partielle"})
    # Palier 2's own requirements are met but one palier-1 requirement is not: placed on 0.
    assert r["tier"]["id"] == "palier-0"
    assert r["tiers_met_above"] == ["palier-2"]
    assert r["gap"] == {
        "next_tier": {"id": "palier-1", "level": 1,
                      "label": "Palier 1 — Socle d'équipement et d'organisation"},
        "requirements": [{
            "id": "messagerie-nominative",
            "label": "Messagerie professionnelle nominative pour tous les professionnels qui "
                     "échangent des informations",
            "answers": {"messagerie_nominative": "partielle"}, "to_verify": False,
            "to_meet": {"question": "messagerie_nominative", "in": ["tous"]}}]}
    assert r["unknown"] == []
    assert all(req["applies"] for t in r["tiers"] for req in t["requirements"])
