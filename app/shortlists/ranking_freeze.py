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


def _number(v: Any) -> str:
    """`canonical_json(v)` of a number or None, its common cases without the encoder."""
    t = type(v)
    if t is int:
        return int.__repr__(v)
    if t is float and v - v == 0.0:  # finite (a NaN or an infinity: the encoder's error)
        return float.__repr__(v)
    if v is None:
        return "null"
    return canonical_json(v)


def frozen_values_json(v: Sequence[Any], domain_scores: str | None = None) -> str:
    """`canonical_json` of the row whose values are `v` (those of `FROZEN_KEYS`, in their
    order), the same text written by a template (the stdlib encoder sorts the 23 keys of
    every row): strings by the encoder's own escaping function, numbers by their `repr` as
    the encoder writes them; the domain scores (`v[4]`) copied from `domain_scores` when
    given (their canonical JSON: the read model keeps it). A value of another type goes
    through `canonical_json`."""
    n, s = _number, encode_basestring  # encode_basestring: TypeError on anything but str
    try:
        if type(v[7]) is not list:  # funding (a tuple would be written the same, a set not)
            raise TypeError
        domains = canonical_json(v[4]) if domain_scores is None else domain_scores
        group, sector = v[9], v[18]
        return (
            f'{{"assessment_id":{n(v[0])},"capacity":{n(v[1])},"category":{s(v[2])},'
            f'"department":{s(v[3])},"domain_scores":{domains},"eligible_rank":{n(v[5])},'
            f'"finess":{s(v[6])},"funding":[{",".join(map(s, v[7]))}],'
            f'"global_score":{n(v[8])},"group":{"null" if group is None else s(group)},'
            f'"key":{n(v[10])},"name":{s(v[11])},"questionnaire":{s(v[12])},'
            f'"rank":{n(v[13])},"readiness":{n(v[14])},"region":{s(v[15])},'
            f'"review_status":{s(v[16])},"rule":{s(v[17])},'
            f'"sector":{"null" if sector is None else s(sector)},"size_band":{s(v[19])},'
            f'"structure_id":{n(v[20])},"submitted_at":{s(v[21])},"tier":{n(v[22])}}}')
    except TypeError:  # e.g. a None where a string is expected, or not JSON at all
        row = dict(zip(FROZEN_KEYS, v, strict=True))
        if domain_scores is not None:
            row["domain_scores"] = json.loads(domain_scores)
        return canonical_json(row)


def shortlist_hash(criteria: Mapping[str, Any], versions: Sequence[str],
                   rows: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the canonical JSON of {criteria, questionnaire_versions, rows} (never the
    id, name, date or author); computed by `rows_json_and_hash`."""
    return rows_json_and_hash(criteria, versions, rows)[1]


def rows_json_and_hash(criteria: Mapping[str, Any], versions: Sequence[str],
                       rows: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The canonical JSON array of `rows` and `shortlist_hash` of them: the rows serialized
    once, in one call, and hashed in place inside the payload's canonical JSON (its keys
    written in their sorted order: `text_hash`)."""
    text = canonical_json(list(rows))
    return text, text_hash(criteria, versions, text)


def text_hash(criteria: Mapping[str, Any], versions: Sequence[str], rows_text: str) -> str:
    """`shortlist_hash` of rows given as their canonical JSON text (hashed in place)."""
    digest = hashlib.sha256()
    digest.update(('{"criteria":' + canonical_json(criteria) + ',"questionnaire_versions":'
                   + canonical_json(list(versions)) + ',"rows":').encode("utf-8"))
    digest.update(rows_text.encode("utf-8"))
    digest.update(b"}")
    return digest.hexdigest()


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
