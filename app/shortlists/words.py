"""Words for the committee's pages and files in place of the ranking's internal values: why a
structure is in the list, its quota group ("38 / 1" becomes "Isère (38), palier 1"), the
departments and categories of the criteria by name, dates in French."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from app.formatting import date_fr, in_paris
from app.reference import SECTOR_LABELS, departments, finess_categories


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


def departments_words(codes: list[str] | None) -> str:
    """["01", "69"] -> "Ain (01), Rhône (69)"; none: "tous"."""
    return ", ".join(department_words(c) for c in codes or []) or "tous"


def categories_words(codes: list[str] | None) -> str:
    """Sector keys and FINESS category codes of the criteria by name; none: "toutes"."""
    cats = finess_categories()
    words = []
    for code in codes or []:
        if code in SECTOR_LABELS:
            words.append(f"secteur « {SECTOR_LABELS[code]} »")
        else:
            words.append(f"{cats[code].label} ({code})" if code in cats else code)
    return ", ".join(words) or "toutes"


def day_words(moment: str | datetime | None) -> str:
    """A stored moment (ISO text of the frozen rows, or a datetime) as its day in Paris:
    "1er mars 2026"."""
    if not moment:
        return "—"
    return date_fr(in_paris(moment).date())


def tiers_words(tiers: list[int] | tuple[int, int] | None) -> str:
    """The palier range of the criteria: [0, 99] is how the builder stores a missing bound."""
    if not tiers or (tiers[0] <= 0 and tiers[1] >= 99):
        return "tous"
    if tiers[1] >= 99:
        return f"palier {tiers[0]} ou plus"
    if tiers[0] <= 0:
        return f"palier {tiers[1]} ou moins"
    return f"palier {tiers[0]}" if tiers[0] == tiers[1] else f"de {tiers[0]} à {tiers[1]}"


def day_of(value: str | date | None) -> str:
    """A day of the criteria ("2026-01-31") in French; none: "sans condition"."""
    if not value:
        return "sans condition"
    return date_fr(value if isinstance(value, date) else date.fromisoformat(str(value)[:10]))
