"""The floors of bench/paths_bench.py: hand-written SQL for each shortlist preview (the
top-N of its ranking, with its filters and tie-breaks; quotas left out) and the whole
ranked national list (creation)."""

from __future__ import annotations

from typing import Any

PREVIEW_CASES: dict[str, dict[str, Any]] = {
    "national, global, 20": {"size": 20},
    "national, readiness + funding, 300": {"size": 300, "rank_by": "readiness",
                                           "eligible_for": "esms-numerique"},
    "national, weights, min 5/tier, max 3/department, 100": {
        "size": 100, "rank_by": {"weights": {"dui": 2, "securite": 1}},
        "quotas": [{"by": "tier", "min": 5}, {"by": "department", "max": 3}]},
    "region 84, domain:dui, 20": {"region": "84", "size": 20, "rank_by": "domain:dui"},
}

_BASE = """
SELECT s.id, s.finess, s.name, lr.tier_level, {key} AS key
FROM structure s
JOIN latest_result lr ON lr.structure_id = s.id
LEFT JOIN shortlist_candidate sc ON sc.structure_id = s.id
{join}
WHERE NOT s.closed {where}
ORDER BY {key} IS NULL, {key} {order}, sc.readiness IS NULL, COALESCE(sc.readiness, 0),
         lr.submitted_at, s.finess{collate}
{limit}
"""

_WEIGHTED = """LEFT JOIN (
  SELECT structure_id,
         SUM(CASE domain_id WHEN 'dui' THEN 2.0 ELSE 1.0 END * score)
         / SUM(CASE domain_id WHEN 'dui' THEN 2.0 ELSE 1.0 END) AS v
  FROM latest_domain_score
  WHERE domain_id IN ('dui', 'securite') AND score IS NOT NULL
  GROUP BY structure_id) w ON w.structure_id = s.id"""


def _round(expr: str, dialect: str) -> str:
    return f"ROUND(CAST({expr} AS NUMERIC), 6)" if dialect == "postgresql" \
        else f"ROUND({expr}, 6)"


def floor_sql(case: str, dialect: str) -> str:
    collate = ' COLLATE "C"' if dialect == "postgresql" else ""
    size = PREVIEW_CASES[case]["size"]
    parts = {"join": "", "where": "", "order": "DESC", "collate": collate,
             "limit": f"LIMIT {size}"}
    if case.startswith("national, global"):
        parts["key"] = _round("lr.global_score", dialect)
    elif case.startswith("national, readiness"):
        parts.update(key="sc.readiness", order="ASC",
                     where="AND sc.funding LIKE '%|esms-numerique|%'")
    elif case.startswith("national, weights"):
        parts.update(key=_round("w.v", dialect), join=_WEIGHTED)
    else:
        parts.update(key=_round("d.score", dialect), where="AND s.region = '84'",
                     join="LEFT JOIN latest_domain_score d ON d.structure_id = s.id "
                          "AND d.domain_id = 'dui'")
    return _BASE.format(**parts)


FULL_LIST = {d: _BASE.format(key=_round("lr.global_score", d), join="", where="",
                             order="DESC", limit="",
                             collate=' COLLATE "C"' if d == "postgresql" else "")
             for d in ("postgresql", "sqlite")}


def stored_rows_sql(shortlist_id: int, dialect: str) -> str:
    """A frozen shortlist's stored rows (the CSV's data), fetched (and decoded by the
    driver on PostgreSQL)."""
    return f"SELECT rows FROM shortlist WHERE id = {int(shortlist_id)}"


def next_steps_sql(shortlist_id: int, dialect: str) -> str:
    """The next-step rows of a shortlist's assessments, in order, with their texts."""
    ids = (f"SELECT r.assessment_id FROM shortlist s, "
           f"json_to_recordset(s.rows) AS r(assessment_id int) WHERE s.id = {int(shortlist_id)}"
           if dialect == "postgresql" else
           f"SELECT json_extract(e.value, '$.assessment_id') FROM shortlist s, "
           f"json_each(s.rows) e WHERE s.id = {int(shortlist_id)}")
    return ("SELECT ans.assessment_id, ans.position, ans.to_verify, t.tier, t.label, t.title, "
            "t.effort, t.funding FROM assessment_next_step ans "
            "JOIN next_step_text t ON t.id = ans.text_id "
            f"WHERE ans.assessment_id IN ({ids}) ORDER BY ans.assessment_id, ans.position")


# The full-answers export of Île-de-France: every open structure, its latest submitted
# assessment's answers, scores, gap, domain scores (aggregated per assessment).
REGION_11 = """
SELECT s.finess, s.name, s.department, s.category_code, s.capacity, a.questionnaire_id,
       a.questionnaire_version, a.submitted_at, a.tier_level, a.global_score, a.answers,
       a.result -> 'gap', a.result -> 'tiers_met_above',
       (SELECT sum(d.score) FROM assessment_domain_score d WHERE d.assessment_id = a.id)
FROM structure s
LEFT JOIN latest_result lr ON lr.structure_id = s.id
LEFT JOIN assessment a ON a.id = lr.assessment_id
WHERE s.region = '11' AND NOT s.closed
ORDER BY s.finess
"""
