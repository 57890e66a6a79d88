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
