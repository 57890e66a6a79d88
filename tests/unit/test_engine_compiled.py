"""What is compiled once per questionnaire version (the generated scoring and layout, the
Result subclass): never shared between versions, and the tolerant path for answers that were
not validated. Expected values computed by hand from tests/fixtures/questionnaires/mini-1.yaml:
equipement = internet (aucune 0, adsl 1, fibre 3) + postes bands (0 / 50 / 80: 0, 1, 2), max 5;
dui = fonctions (admin 1, soins 2, aucune 0; shown when internet is adsl or fibre), max 3."""

from __future__ import annotations

from pathlib import Path

from scoring import Result, load_questionnaire, parse_questionnaire, score, validate_answers

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "questionnaires" / "mini-1.yaml"


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


def test_laid_out_parts_are_kept_and_to_dict_is_fresh() -> None:
    r = score(load_questionnaire(MINI), {"internet": "adsl", "postes": 90})
    assert r.next_steps is r.next_steps
    assert r.next_steps == [{"requirement": "thd", "tier": "p1", "label": "THD",
                             "title": "Fibre", "detail": "Raccorder", "effort": "moyen",
                             "funding": ["prog"], "to_verify": False},
                            {"requirement": "dui60", "tier": "p2", "label": "DUI à 60 %",
                             "title": "DUI", "detail": "", "effort": "eleve",
                             "funding": [], "to_verify": False}]
    d1, d2 = r.to_dict(), r.to_dict()
    assert d1 == d2 and d1 is not d2 and d1["next_steps"][0] is not d2["next_steps"][0]
    d1["next_steps"][0]["funding"].append("x")
    assert r.to_dict()["next_steps"][0]["funding"] == ["prog"]


def test_a_key_no_question_has_is_reported_and_not_scored() -> None:
    q = load_questionnaire(MINI)
    answers = {"autre": "x", "internet": "fibre", "postes": 80}
    assert [(e.question, e.message) for e in validate_answers(q, answers)] == [
        ("autre", "question inconnue")]
    r = score(q, answers)
    assert [(d["earned"], d["max"]) for d in r.domains] == [(5, 5), (0, 3)]
    assert r.answered == 2 and r.effective == {"internet": "fibre", "postes": 80}
