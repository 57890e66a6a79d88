"""Freezing, hashing and comparing shortlist rows, pure (see ranking.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


def shortlist_hash(criteria: Mapping[str, Any], versions: Sequence[str],
                   rows: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the canonical JSON of {criteria, questionnaire_versions, rows} (never the
    id, name, date or author); computed by `rows_json_and_hash`."""
    return rows_json_and_hash(criteria, versions, rows)[1]


def rows_json_and_hash(criteria: Mapping[str, Any], versions: Sequence[str],
                       rows: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The canonical JSON array of `rows` and `shortlist_hash` of them: the rows serialized
    once, in one call, and hashed in place inside the payload's canonical JSON (its keys
    written in their sorted order)."""
    text = canonical_json(list(rows))
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
