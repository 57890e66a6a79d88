"""Shortlist ranking and quotas (app.shortlists.ranking) on a hand-made dataset.

Every expected list below is worked out by hand from the table in `DATASET` (see the comments
next to each test), never by running the code under test.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from app.shortlists.ranking import (
    FROZEN_KEYS,
    Candidate,
    Criteria,
    InfeasibleQuotas,
    canonical_json,
    diff_rows,
    eligible_funding,
    frozen_row,
    frozen_values_json,
    key_value,
    readiness_from_tiers,
    rows_json_and_hash,
    select,
    shortlist_hash,
    size_band,
)


def day(d: int) -> datetime:
    return datetime(2026, 1, d, 10, 0, tzinfo=UTC)


def cand(letter: str, finess: str, dept: str, sector: str, tier: int | None,
         score: float | None, readiness: int | None, submitted: int | None,
         **kw: Any) -> Candidate:
    values: dict[str, Any] = dict(
        structure_id=ord(letter), finess=finess, name=f"Structure {letter}", department=dept,
        region="84", category_code="500", sector=sector, capacity=kw.pop("capacity", 50))
    if submitted is not None:
        values.update(assessment_id=100 + ord(letter), submitted_at=day(submitted),
                      questionnaire="q@1", tier_level=tier, global_score=score,
                      readiness=readiness)
    values.update(kw)
    return Candidate(**values)


PA, AH, DOM = "personnes_agees", "adultes_handicapes", "domicile"

#        letter finess       dept sector tier global readiness submitted (January 2026)
DATASET = [
    cand("A", "010000001", "01", PA, 2, 80.0, 3, 10, funding=frozenset({"esms"}),
         review_status="validee", domain_scores={"dui": 50.0, "securite": 100.0}),
    cand("B", "010000002", "01", PA, 3, 75.0, 1, 5, funding=frozenset({"esms", "care"}),
         review_status="a_revoir", domain_scores={"dui": 100.0, "securite": None}),
    cand("C", "690000003", "69", AH, 1, 75.0, 1, 2, review_status="non_revue",
         domain_scores={"dui": 20.0, "securite": 40.0}),
    cand("D", "690000004", "69", PA, 2, 70.0, 2, 3, funding=frozenset({"esms"}),
         review_status="validee", domain_scores={"dui": 70.0, "securite": 10.0}),
    cand("E", "380000005", "38", PA, 0, 60.0, 4, 4, review_status="non_revue",
         capacity=30),
    cand("F", "380000006", "38", DOM, 4, 90.0, None, 6, funding=frozenset({"esms"}),
         review_status="validee", capacity=250),
    cand("G", "690000007", "69", PA, None, None, None, None),  # no submitted assessment
    cand("H", "010000008", "01", DOM, 1, None, 2, 7, review_status="non_revue"),
    cand("I", "690000009", "69", AH, 2, 70.0, 2, 3, review_status="validee",
         domain_scores={"dui": 70.0, "securite": 10.0}),
]


def names(selection: Any) -> list[str]:
    return [r.candidate.name[-1] for r in selection.rows]


def rules(selection: Any) -> list[str]:
    return [r.rule for r in selection.rows]


def crit(**kw: Any) -> Criteria:
    return Criteria.model_validate({"region": "84", **kw})


# ---- ranking and tie-breaks -----------------------------------------------------------------


def test_global_desc_with_ties_and_missing_key_last() -> None:
    # F 90, A 80, then B and C tie at 75 with 1 unmet requirement each: C was submitted
    # earlier (2 Jan < 5 Jan); D and I tie at 70, 2 unmet, same day: FINESS 690000004 < ...9;
    # E 60; H has no global score: last. G has no submission: excluded.
    s = select(DATASET, crit(size=20))
    assert names(s) == ["F", "A", "C", "B", "D", "I", "E", "H"]
    assert [r.rank for r in s.rows] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [r.key for r in s.rows] == [90.0, 80.0, 75.0, 75.0, 70.0, 70.0, 60.0, None]
    assert rules(s) == ["rank"] * 8
    assert s.excluded == {"no_submission": 1}
    assert (s.eligible, s.population) == (8, 9)
    assert s.rows[0].group is None


def test_size_cuts_the_ranked_list() -> None:
    assert names(select(DATASET, crit(size=4))) == ["F", "A", "C", "B"]


def test_ascending_order_keeps_missing_values_last() -> None:
    # Ascending: E 60, D and I 70 (FINESS order), C before B at 75 (earlier submission),
    # A 80, F 90, and H (no score) still last.
    s = select(DATASET, crit(size=20, order="asc"))
    assert names(s) == ["E", "D", "I", "C", "B", "A", "F", "H"]


def test_readiness_ranks_fewest_unmet_first_and_top_palier_last() -> None:
    # readiness: C 1, B 1 (C earlier), D 2, I 2 (FINESS), H 2 (7 Jan, latest), A 3, E 4,
    # F on the top palier has no next palier: no value, last.
    c = crit(size=20, rank_by="readiness")
    assert c.order == "asc"
    assert names(select(DATASET, c)) == ["C", "B", "D", "I", "H", "A", "E", "F"]


def test_domain_score_key() -> None:
    # dui: B 100, D 70, I 70, A 50, C 20; E, F, H have no domain scores: last, then by
    # readiness: H 2, E 4, F none.
    s = select(DATASET, crit(size=20, rank_by="domain:dui"))
    assert names(s) == ["B", "D", "I", "A", "C", "H", "E", "F"]


def test_weighted_key_leaves_out_domains_without_score() -> None:
    # weights dui 3, securite 1: A (3×50 + 100)/4 = 62.5; B only dui: 100; C (60 + 40)/4 = 25;
    # D and I (210 + 10)/4 = 55.
    c = crit(size=5, rank_by={"weights": {"dui": 3, "securite": 1}})
    s = select(DATASET, c)
    assert names(s) == ["B", "A", "D", "I", "C"]
    assert [r.key for r in s.rows] == [100.0, 62.5, 55.0, 55.0, 25.0]
    assert key_value(DATASET[0], c.rank_by) == 62.5


# ---- eligibility ----------------------------------------------------------------------------


def test_eligibility_filters_count_the_first_failing_reason() -> None:
    # tiers 1..3 exclude E (0) and F (4); funding "esms" then excludes C, H, I (tier ok);
    # G has no submission. Eligible: A, B, D.
    s = select(DATASET, crit(size=10, tiers=[1, 3], eligible_for="esms"))
    assert names(s) == ["A", "B", "D"]
    assert s.excluded == {"no_submission": 1, "tier": 2, "funding": 3}


def test_review_status_and_submission_date() -> None:
    # submitted on or after 4 January: A (10), B (5), E (4), F (6), H (7); then only
    # "validee" or "non_revue": B ("a_revoir") out. Ranked: F 90, A 80, E 60, H none.
    s = select(DATASET, crit(size=10, submitted_after="2026-01-04",
                             review_status=["validee", "non_revue"]))
    assert names(s) == ["F", "A", "E", "H"]
    assert s.excluded == {"no_submission": 1, "submitted_before": 3, "review_status": 1}


def test_structural_criteria() -> None:
    # departments 01 and 38, sectors personnes âgées and domicile, 40-99 places: A, B, H
    # (E has 30 places, F 250).
    s = select(DATASET, crit(size=10, departments=["38", "01"], categories=[PA, DOM],
                             size_bands=["40-99"]))
    assert names(s) == ["A", "B", "H"]
    assert s.population == 3
    assert (size_band(30), size_band(40), size_band(99), size_band(200), size_band(None)) \
        == ("moins-de-40", "40-99", "40-99", "200-et-plus", "inconnue")


def test_groups_count_eligible_structures() -> None:
    s = select(DATASET, crit(size=3))
    assert s.groups["department"] == {"01": 3, "38": 2, "69": 3}
    assert s.groups["sector"] == {AH: 2, DOM: 2, PA: 4}
    assert s.groups["tier"] == {"0": 1, "1": 2, "2": 3, "3": 1, "4": 1}


def test_fewer_eligible_than_requested_is_a_visible_warning() -> None:
    s = select(DATASET, crit(size=30))
    assert len(s.rows) == 8
    assert s.warnings == ["Seulement 8 structures éligibles pour 30 demandées : la sélection "
                          "compte 8 structures."]


# ---- quotas ---------------------------------------------------------------------------------


def test_maximum_per_department_skips_full_groups() -> None:
    # ascending: E (38), D (69), I (69: full, skipped), C (69: skipped), B (01).
    s = select(DATASET, crit(size=3, order="asc", quotas=[{"by": "department", "max": 1}]))
    assert names(s) == ["E", "D", "B"]
    assert rules(s) == ["rank", "rank", "rank"]
    assert [r.group for r in s.rows] == ["38", "69", "01"]
    assert [r.eligible_rank for r in s.rows] == [1, 2, 5]


def test_minimum_per_palier_pulls_a_lower_ranked_structure_in() -> None:
    # Paliers present: 0 (E), 1 (C, H), 2 (A, D, I), 3 (B), 4 (F). Walking the ranked list
    # F A C B D I E H: F (4), A (2), C (1), B (3) and E (0) fill their palier's minimum; then
    # D is the best remaining. Listed in rank order: F A C B D E.
    s = select(DATASET, crit(size=6, quotas=[{"by": "tier", "min": 1}]))
    assert names(s) == ["F", "A", "C", "B", "D", "E"]
    assert rules(s) == ["min:tier", "min:tier", "min:tier", "min:tier", "rank", "min:tier"]
    assert [r.eligible_rank for r in s.rows] == [1, 2, 3, 4, 5, 7]
    assert [r.rank for r in s.rows] == [1, 2, 3, 4, 5, 6]


def test_minimum_and_maximum_on_two_dimensions() -> None:
    # min 1 per sector, max 2 per department, size 5, ranked F A C B D I E H:
    # minimums: F (domicile, 38), A (personnes âgées, 01), C (adultes handicapés, 69);
    # fill: B (01: 2nd), D (69: 2nd). Groups "sector / department".
    s = select(DATASET, crit(size=5, quotas=[{"by": "sector", "min": 1},
                                             {"by": "department", "max": 2}]))
    assert names(s) == ["F", "A", "C", "B", "D"]
    assert rules(s) == ["min:sector", "min:sector", "min:sector", "rank", "rank"]
    assert [r.group for r in s.rows] == [f"{DOM} / 38", f"{PA} / 01", f"{AH} / 69",
                                         f"{PA} / 01", f"{PA} / 69"]


def test_minimums_adding_up_to_more_than_n_are_an_error() -> None:
    with pytest.raises(InfeasibleQuotas) as info:
        select(DATASET, crit(size=2, quotas=[{"by": "department", "min": 1}]))
    assert info.value.problems == [
        "Les minimums demandent au moins 3 structures (1 par département × 3 départements) "
        "pour une sélection de 2."]


def test_group_with_too_few_eligible_structures_is_an_error() -> None:
    with pytest.raises(InfeasibleQuotas) as info:
        select(DATASET, crit(size=10, quotas=[{"by": "sector", "min": 3}]))
    assert info.value.problems == [
        "Le secteur adultes_handicapes ne compte que 2 structures éligibles pour un minimum de 3.",
        "Le secteur domicile ne compte que 2 structures éligibles pour un minimum de 3."]


def test_department_asked_by_name_without_structures() -> None:
    with pytest.raises(InfeasibleQuotas) as info:
        select(DATASET, crit(size=5, departments=["01", "07"],
                             quotas=[{"by": "department", "min": 1}]))
    assert info.value.problems == [
        "Le département 07 ne compte que 0 structure éligible pour un minimum de 1."]


def test_minimum_blocked_by_a_maximum_is_an_error() -> None:
    # min 1 per palier, max 1 per department: F (38), A (01), C (69) fill each department;
    # B (palier 3, 01) and E (palier 0, 38) are then blocked.
    with pytest.raises(InfeasibleQuotas) as info:
        select(DATASET, crit(size=6, quotas=[{"by": "tier", "min": 1},
                                             {"by": "department", "max": 1}]))
    assert info.value.problems == [
        "Le palier 0 ne peut pas atteindre son minimum de 1 sans dépasser un maximum.",
        "Le palier 3 ne peut pas atteindre son minimum de 1 sans dépasser un maximum."]


def test_maximums_that_cannot_fill_n_are_an_error_not_a_short_list() -> None:
    # One per department: F, A, C; B D I E H are skipped (5), only 3 of 5.
    with pytest.raises(InfeasibleQuotas) as info:
        select(DATASET, crit(size=5, quotas=[{"by": "department", "max": 1}]))
    assert info.value.problems == [
        "Les maximums ne permettent de retenir que 3 structures sur les 5 demandées "
        "(5 structures éligibles écartées parce que leur groupe avait atteint son maximum)."]


def test_minimum_above_maximum_is_an_error() -> None:
    with pytest.raises(InfeasibleQuotas) as info:
        select(DATASET, crit(size=8, quotas=[{"by": "department", "min": 2},
                                             {"by": "department", "max": 1}]))
    assert info.value.problems[0] == ("Le minimum par département (2) dépasse le maximum par "
                                      "département (1).")


def test_minimum_groups_of_a_palier_range() -> None:
    # paliers 1 to 3 (E and F excluded), min 1 per palier: A (2), C (1), B (3); fill: D.
    s = select(DATASET, crit(size=4, tiers=[1, 3], quotas=[{"by": "tier", "min": 1}]))
    assert names(s) == ["A", "C", "B", "D"]
    assert rules(s) == ["min:tier", "min:tier", "min:tier", "rank"]
    assert s.excluded == {"no_submission": 1, "tier": 2}


# ---- criteria validation --------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    {"size": 0},
    {"size": 5, "rank_by": "domain:"},
    {"size": 5, "rank_by": "best"},
    {"size": 5, "order": "up"},
    {"size": 5, "tiers": [3, 1]},
    {"size": 5, "quotas": [{"by": "department"}]},
    {"size": 5, "quotas": [{"by": "department", "min": 1, "max": 2}]},
    {"size": 5, "quotas": [{"by": "region", "max": 2}]},
    {"size": 5, "quotas": [{"by": "tier", "max": 1}, {"by": "tier", "max": 2}]},
    {"size": 5, "rank_by": {"weights": {"dui": 0}}},
    {"size": 5, "size_bands": ["immense"]},
    {"size": 5, "colour": "blue"},
])
def test_invalid_criteria(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Criteria.model_validate(bad)


def test_canonical_criteria_are_normalized() -> None:
    a = Criteria.model_validate({"size": 3, "departments": ["69", "01", "69"],
                                 "categories": ["500", PA], "rank_by": {"weights": {
                                     "securite": 1, "dui": 2, "gouvernance": 0}}})
    b = Criteria.model_validate({"size": 3, "departments": ["01", " 69"],
                                 "categories": [PA, "500"], "order": "desc",
                                 "rank_by": {"weights": {"dui": 2.0, "securite": 1.0}}})
    assert a.canonical() == b.canonical()
    assert a.canonical()["departments"] == ["01", "69"]
    assert a.canonical()["rank_by"] == {"weights": {"dui": 2.0, "securite": 1.0}}


# ---- determinism, hash, diff ----------------------------------------------------------------


def test_same_inputs_same_rows_and_hash_whatever_the_input_order() -> None:
    c = crit(size=6, quotas=[{"by": "tier", "min": 1}])
    shuffled = list(DATASET)
    random.Random(7).shuffle(shuffled)
    first, second = select(DATASET, c), select(shuffled, c)
    rows1 = [frozen_row(r) for r in first.rows]
    rows2 = [frozen_row(r) for r in second.rows]
    assert rows1 == rows2
    h = shortlist_hash(c.canonical(), first.versions, rows1)
    assert h == shortlist_hash(c.canonical(), second.versions, rows2)
    assert len(h) == 64
    changed = [dict(rows1[0], name="Autre nom"), *rows1[1:]]
    assert shortlist_hash(c.canonical(), first.versions, changed) != h
    assert shortlist_hash({**c.canonical(), "size": 7}, first.versions, rows1) != h


def test_rows_are_serialized_once_and_hashed_as_the_whole_payload() -> None:
    criteria = {"size": 2, "region": "84"}
    rows = [{"rank": 1, "name": "Été", "key": 70.5}, {"rank": 2, "name": "B", "key": None}]
    text, digest = rows_json_and_hash(criteria, ["q@1"], rows)
    assert text == '[{"key":70.5,"name":"Été","rank":1},{"key":null,"name":"B","rank":2}]'
    whole = ('{"criteria":{"region":"84","size":2},"questionnaire_versions":["q@1"],'
             '"rows":' + text + '}')
    assert digest == hashlib.sha256(whole.encode("utf-8")).hexdigest()
    assert digest == shortlist_hash(criteria, ["q@1"], rows)
    assert json.loads(text) == rows
    assert rows_json_and_hash(criteria, [], [])[0] == "[]"
    assert rows_json_and_hash(criteria, [], [])[1] == hashlib.sha256(
        b'{"criteria":{"region":"84","size":2},"questionnaire_versions":[],"rows":[]}'
    ).hexdigest()


def _row(**values: Any) -> dict[str, Any]:
    """A frozen row (the 23 keys of `frozen_row`)."""
    row = {"rank": 1, "eligible_rank": 2, "finess": "690000001", "name": "EHPAD « Été »",
           "structure_id": 7, "assessment_id": 70, "questionnaire": "q@1",
           "submitted_at": "2026-03-01T09:30:00+00:00", "region": "84", "department": "69",
           "category": "500", "sector": "personnes_agees", "capacity": None,
           "size_band": "inconnue", "tier": 2, "global_score": 70.5,
           "domain_scores": {"securite": None, "dui": 0.1}, "readiness": None,
           "funding": ["b", "a"], "review_status": "non_relue", "key": 1e-07,
           "group": None, "rule": "rank"}
    return {**row, **values}


def frozen_row_json(r: dict[str, Any], domain_scores: str | None = None) -> str:
    """`frozen_values_json` of a row of `frozen_row` (another row: `canonical_json`)."""
    if r.keys() != set(FROZEN_KEYS):
        return canonical_json(r)
    return frozen_values_json([r[k] for k in FROZEN_KEYS], domain_scores)


def rows_json(rows: list[dict[str, Any]], scores: list[str | None] | None = None) -> str:
    """The rows' JSON array written row by row (`frozen_row_json`)."""
    given: list[str | None] = scores or [None] * len(rows)
    return "[" + ",".join(frozen_row_json(r, d) for r, d in zip(rows, given, strict=True)) + "]"


def test_rows_json_writes_the_canonical_json_of_frozen_rows() -> None:
    assert rows_json([_row()]) == (
        '[{"assessment_id":70,"capacity":null,"category":"500","department":"69",'
        '"domain_scores":{"dui":0.1,"securite":null},"eligible_rank":2,'
        '"finess":"690000001","funding":["b","a"],"global_score":70.5,"group":null,'
        '"key":1e-07,"name":"EHPAD « Été »","questionnaire":"q@1","rank":1,'
        '"readiness":null,"region":"84","review_status":"non_relue","rule":"rank",'
        '"sector":"personnes_agees","size_band":"inconnue","structure_id":7,'
        '"submitted_at":"2026-03-01T09:30:00+00:00","tier":2}]')
    # Escapes, big and negative numbers, booleans, a row with other keys: as the stdlib's
    # canonical JSON writes them (sorted keys, no spaces, non-ASCII kept).
    rows = [_row(name='Quote " \\ back\nline\t\u0001 \u2028 €', key=-0.0, global_score=1e16,
                 capacity=10**20, tier=True, group="69 / 3"),
            {"rank": 3, "name": "Autre"}, _row(domain_scores={})]
    expected = ('[{"assessment_id":70,"capacity":100000000000000000000,"category":"500",'
                '"department":"69","domain_scores":{"dui":0.1,"securite":null},'
                '"eligible_rank":2,"finess":"690000001","funding":["b","a"],'
                '"global_score":1e+16,"group":"69 / 3","key":-0.0,'
                '"name":"Quote \\" \\\\ back\\nline\\t\\u0001 \u2028 €",')
    text = rows_json(rows)
    assert text.startswith(expected)
    assert '"tier":true},{"name":"Autre","rank":3},{' in text
    assert '"domain_scores":{},"eligible_rank":2,' in text
    assert json.loads(text) == rows
    assert text == json.dumps(rows, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False, allow_nan=False)
    with pytest.raises(ValueError):
        rows_json([_row(global_score=float("nan"))])
    with pytest.raises(ValueError):
        rows_json([_row(key=float("inf"))])


def test_rows_json_copies_given_domain_scores() -> None:
    text = rows_json([_row(), _row(rank=2)], ['{"x":1.5}', "{}"])
    assert text.count('"domain_scores":{"x":1.5}') == 1
    assert text.count('"domain_scores":{}') == 1
    assert text.index('"domain_scores":{"x":1.5}') < text.index('"domain_scores":{}')


def test_frozen_values_in_key_order_and_a_value_of_another_type() -> None:
    values = [70, None, "500", "69", None, 2, "690000001", ["a"], 70.5, None, 70.5, "É",
              "q@1", 1, 3, "84", "non_relue", "rank", None, "inconnue", 7,
              "2026-03-01T09:30:00+00:00", 2]
    assert frozen_values_json(values, '{"dui":null}') == (
        '{"assessment_id":70,"capacity":null,"category":"500","department":"69",'
        '"domain_scores":{"dui":null},"eligible_rank":2,"finess":"690000001",'
        '"funding":["a"],"global_score":70.5,"group":null,"key":70.5,"name":"É",'
        '"questionnaire":"q@1","rank":1,"readiness":3,"region":"84",'
        '"review_status":"non_relue","rule":"rank","sector":null,"size_band":"inconnue",'
        '"structure_id":7,"submitted_at":"2026-03-01T09:30:00+00:00","tier":2}')
    # A department given as a number (not the template's string): the stdlib's writing,
    # the given domain scores kept.
    odd = [*values[:3], 69, *values[4:]]
    assert frozen_values_json(odd, '{"dui":null}') == (
        '{"assessment_id":70,"capacity":null,"category":"500","department":69,'
        '"domain_scores":{"dui":null},"eligible_rank":2,' + frozen_values_json(
            values, '{"dui":null}').split('"eligible_rank":2,')[1])


def test_frozen_row_keeps_the_values_used() -> None:
    row = frozen_row(select(DATASET, crit(size=1)).rows[0])
    assert row == {
        "rank": 1, "eligible_rank": 1, "finess": "380000006", "name": "Structure F",
        "structure_id": ord("F"), "assessment_id": 100 + ord("F"), "questionnaire": "q@1",
        "submitted_at": "2026-01-06T10:00:00+00:00", "region": "84", "department": "38",
        "category": "500", "sector": DOM, "capacity": 250, "size_band": "200-et-plus",
        "tier": 4, "global_score": 90.0, "domain_scores": {}, "readiness": None,
        "funding": ["esms"], "review_status": "validee", "key": 90.0, "group": None,
        "rule": "rank"}


def test_diff_rows() -> None:
    old = [{"finess": "1", "rank": 1, "x": 1}, {"finess": "2", "rank": 2, "x": 1},
           {"finess": "3", "rank": 3, "x": 1}]
    new = [{"finess": "2", "rank": 1, "x": 1}, {"finess": "1", "rank": 2, "x": 1},
           {"finess": "4", "rank": 3, "x": 1}]
    d = diff_rows(old, new)
    assert [r["finess"] for r in d.added] == ["4"]
    assert [r["finess"] for r in d.removed] == ["3"]
    assert [(o["rank"], n["rank"]) for o, n in d.moved] == [(2, 1), (1, 2)]
    assert not d.same
    assert diff_rows(old, old).same
    same_rank = diff_rows(old, [old[0], old[1], {**old[2], "x": 2}])
    assert len(same_rank.changed) == 1 and not same_rank.same


# ---- facts from a stored result snapshot ----------------------------------------------------

TIERS = [
    {"level": 0, "requirements": []},
    {"level": 1, "requirements": [{"met": True}, {"met": True}]},
    {"level": 2, "requirements": [{"met": True}, {"met": False}, {"met": False}]},
    {"level": 3, "requirements": [{"met": False}]},
]


def test_readiness_counts_unmet_requirements_of_the_palier_above() -> None:
    assert readiness_from_tiers(TIERS, 1) == 2
    assert readiness_from_tiers(TIERS, 2) == 1
    assert readiness_from_tiers(TIERS, 3) is None  # top palier
    assert readiness_from_tiers(TIERS, None) == 0  # not placed: the lowest palier
    assert readiness_from_tiers([], 0) is None


def test_readiness_ignores_requirements_that_do_not_apply() -> None:
    # Regression: a requirement outside the structure's sector (applies false, met null)
    # was counted as unmet.
    tiers = [{"level": 2, "requirements": [{"met": True}]},
             {"level": 3, "requirements": [{"applies": False, "met": None},
                                           {"applies": True, "met": False},
                                           {"applies": True, "met": True}]}]
    assert readiness_from_tiers(tiers, 2) == 1


def test_eligible_funding() -> None:
    assert eligible_funding([{"id": "b", "eligible": True}, {"id": "a", "eligible": True},
                             {"id": "c", "eligible": False}]) == ["a", "b"]
    assert eligible_funding(None) == []


def test_eligible_funding_is_eligible_true_only() -> None:
    # null: an incomplete assessment or a resource; anything but true is not eligible.
    assert eligible_funding([{"id": "a", "eligible": None}, {"id": "b", "eligible": "true"},
                             {"id": "c", "eligible": 1}, {"id": "d"},
                             {"id": "e", "eligible": True}]) == ["e"]


def test_submitted_after_is_a_day_boundary() -> None:
    c = crit(size=10, submitted_after=date(2026, 1, 7))
    assert names(select(DATASET, c)) == ["A", "H"]
