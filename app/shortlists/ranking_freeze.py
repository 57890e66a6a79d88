"""Freezing, hashing and comparing shortlist rows, pure (see ranking.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from app.shortlists.ranking_candidates import Row

# ---- freezing, hashing, comparing ------------------------------------------------------------


def frozen_row(row: Row) -> dict[str, Any]:
    """A shortlist row with every value used, JSON-ready (what is stored and hashed)."""
    c = row.candidate
    return {
        "rank": row.rank,
        "eligible_rank": row.eligible_rank,
        "finess": c.finess,
        "name": c.name,
        "structure_id": c.structure_id,
        "assessment_id": c.assessment_id,
        "questionnaire": c.questionnaire,
        "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None,
        "region": c.region,
        "department": c.department,
        "category": c.category_code,
        "sector": c.sector,
        "capacity": c.capacity,
        "size_band": c.size_band,
        "tier": c.tier_level,
        "global_score": c.global_score,
        "domain_scores": {k: c.domain_scores[k] for k in sorted(c.domain_scores)},
        "readiness": c.readiness,
        "funding": sorted(c.funding),
        "review_status": c.review_status,
        "key": row.key,
        "group": row.group,
        "rule": row.rule,
    }


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


# The keys of `frozen_row`, in canonical (sorted) order.
FROZEN_KEYS = ("assessment_id", "capacity", "category", "department", "domain_scores",
               "eligible_rank", "finess", "funding", "global_score", "group", "key", "name",
               "questionnaire", "rank", "readiness", "region", "review_status", "rule",
               "sector", "size_band", "structure_id", "submitted_at", "tier")
_FROZEN = frozenset(FROZEN_KEYS)
_INF = float("inf")


def _value(v: Any) -> str:
    """`canonical_json(v)`, its common cases without the encoder's set-up."""
    t = type(v)
    if t is str:
        return encode_basestring(v)  # what the encoder uses with ensure_ascii=False
    if v is None:
        return "null"
    if t is int:
        return int.__repr__(v)
    if t is float and v == v and v != _INF and v != -_INF:
        return float.__repr__(v)
    return canonical_json(v)  # anything else, and the error of a NaN


def rows_json(rows: Sequence[Mapping[str, Any]], scores: Sequence[str] | None = None) -> str:
    """`canonical_json(list(rows))`, the same text written row by row: a row with the keys
    of `frozen_row` by a template in their sorted order (the stdlib encoder sorts 23 keys
    per row), its domain scores taken from `scores` when given (the same index: their
    canonical JSON, kept in the read model); any other row by `canonical_json`."""
    v = _value
    out = []
    for i, r in enumerate(rows):
        if r.keys() != _FROZEN:
            out.append(canonical_json(r))
            continue
        domains = v(r["domain_scores"]) if scores is None else scores[i]
        out.append(
            f'{{"assessment_id":{v(r["assessment_id"])},"capacity":{v(r["capacity"])},'
            f'"category":{v(r["category"])},"department":{v(r["department"])},'
            f'"domain_scores":{domains},"eligible_rank":{v(r["eligible_rank"])},'
            f'"finess":{v(r["finess"])},"funding":{v(r["funding"])},'
            f'"global_score":{v(r["global_score"])},"group":{v(r["group"])},'
            f'"key":{v(r["key"])},"name":{v(r["name"])},'
            f'"questionnaire":{v(r["questionnaire"])},"rank":{v(r["rank"])},'
            f'"readiness":{v(r["readiness"])},"region":{v(r["region"])},'
            f'"review_status":{v(r["review_status"])},"rule":{v(r["rule"])},'
            f'"sector":{v(r["sector"])},"size_band":{v(r["size_band"])},'
            f'"structure_id":{v(r["structure_id"])},"submitted_at":{v(r["submitted_at"])},'
            f'"tier":{v(r["tier"])}}}')
    return "[" + ",".join(out) + "]"


def shortlist_hash(criteria: Mapping[str, Any], versions: Sequence[str],
                   rows: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the canonical JSON of {criteria, questionnaire_versions, rows} (never the
    id, name, date or author); computed by `rows_json_and_hash`."""
    return rows_json_and_hash(criteria, versions, rows)[1]


def rows_json_and_hash(criteria: Mapping[str, Any], versions: Sequence[str],
                       rows: Sequence[Mapping[str, Any]], text: str | None = None
                       ) -> tuple[str, str]:
    """The canonical JSON array of `rows` and `shortlist_hash` of them: the rows serialized
    once (`rows_json`, or `text` when the caller wrote it so) and hashed in place inside
    the payload's canonical JSON (its keys written in their sorted order)."""
    if text is None:
        text = rows_json(rows)
    digest = hashlib.sha256()
    digest.update(('{"criteria":' + canonical_json(criteria) + ',"questionnaire_versions":'
                   + canonical_json(list(versions)) + ',"rows":').encode("utf-8"))
    digest.update(text.encode("utf-8"))
    digest.update(b"}")
    return text, digest.hexdigest()


@dataclass
class Diff:
    added: list[dict[str, Any]]  # rows of the new list not in the old one
    removed: list[dict[str, Any]]  # rows of the old list not in the new one
    moved: list[tuple[dict[str, Any], dict[str, Any]]]  # (old, new) with another rank
    changed: list[tuple[dict[str, Any], dict[str, Any]]]  # same rank, other values

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.moved or self.changed)


def diff_rows(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> Diff:
    """What changed between two frozen lists, by FINESS."""
    before = {r["finess"]: dict(r) for r in old}
    after = {r["finess"]: dict(r) for r in new}
    added = [r for f, r in after.items() if f not in before]
    removed = [r for f, r in before.items() if f not in after]
    moved, changed = [], []
    for f, r in after.items():
        if f in before:
            o = before[f]
            if o["rank"] != r["rank"]:
                moved.append((o, r))
            elif o != r:
                changed.append((o, r))
    return Diff(added, removed, moved, changed)
