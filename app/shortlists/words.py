"""Words for the committee's pages and files in place of the ranking's internal values: why a
structure is in the list, and its quota group ("38 / 1" becomes "Isère (38), palier 1")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.reference import SECTOR_LABELS, departments


def reason_words(rule: str) -> str:
    """"rank" -> "Classement général"; "min:sector" -> "Place réservée (minimum par
    secteur)"."""
    if rule.startswith("min:"):
        dim = {"department": "département", "sector": "secteur", "tier": "palier"}
        return f"Place réservée (minimum par {dim.get(rule[4:], rule[4:])})"
    return "Classement général"


def group_words(group: str | None, criteria: Mapping[str, Any] | Any) -> str:
    """A row's quota group in words, its parts in the order of the criteria's quotas."""
    if not group:
        return "—"
    quotas = criteria.get("quotas") if isinstance(criteria, Mapping) \
        else getattr(criteria, "quotas", None)
    dims = list(dict.fromkeys((q.get("by") if isinstance(q, Mapping) else q.by)
                              for q in quotas or []))
    deps = departments()
    words = []
    for dim, part in zip(dims, group.split(" / "), strict=False):
        if dim == "department":
            words.append(f"{deps[part].name} ({part})" if part in deps else part)
        elif dim == "sector":
            words.append(SECTOR_LABELS.get(part, "secteur inconnu"))
        elif dim == "tier":
            words.append("palier inconnu" if part == "—" else f"palier {part}")
        else:
            words.append(part)
    return ", ".join(words) or "—"


def department_words(code: str | None) -> str:
    d = departments().get(code or "")
    return f"{d.name} ({code})" if d else (code or "—")
