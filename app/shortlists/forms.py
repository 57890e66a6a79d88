"""The builder's form (plain GET parameters, so it works without JavaScript) to Criteria and
back. Field names:

    region, departements (repeated or comma-separated), secteurs, categories, tailles,
    palier_min, palier_max, financement, revue, transmise_apres (YYYY-MM-DD),
    classement (global | readiness | domain:<id> | weights), poids_<domain>, ordre (desc|asc),
    taille_liste, max_<dimension>, min_<dimension> (dimension: department, sector, tier)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from app.numbers_fr import NumberError, number_input_fr, parse_integer_fr, parse_number_fr
from app.reference import SECTOR_LABELS
from app.shortlists.ranking import DIMENSIONS, Criteria

FormData = Mapping[str, Sequence[str]]


def _values(form: FormData, name: str) -> list[str]:
    out: list[str] = []
    for raw in form.get(name, []):
        out.extend(p.strip() for p in raw.replace(";", ",").split(",") if p.strip())
    return out


def _one(form: FormData, name: str) -> str:
    values = [v for v in form.get(name, []) if v.strip()]
    return values[-1].strip() if values else ""


def _int(form: FormData, name: str, errors: dict[str, str], label: str) -> int | None:
    try:
        return parse_integer_fr(_one(form, name))
    except NumberError:
        errors[name] = f"{label} : saisissez un nombre entier."
        return None


def criteria_from_form(form: FormData, *, fixed_region: str | None,
                       national: bool) -> tuple[Criteria | None, dict[str, str]]:
    """(criteria, {field: French error}); criteria is None when there are errors."""
    errors: dict[str, str] = {}
    region: str | None = fixed_region
    if national:
        region = _one(form, "region") or None
    data: dict[str, Any] = {
        "region": region,
        "departments": _values(form, "departements"),
        "categories": _values(form, "secteurs") + _values(form, "categories"),
        "size_bands": _values(form, "tailles"),
        "eligible_for": _one(form, "financement") or None,
        "review_status": _values(form, "revue"),
        "submitted_after": _one(form, "transmise_apres") or None,
        "order": _one(form, "ordre") or None,
    }
    low = _int(form, "palier_min", errors, "Palier minimum")
    high = _int(form, "palier_max", errors, "Palier maximum")
    if low is not None and high is not None and low > high:
        errors["palier_min"] = (f"Le palier minimum ({low}) est au-dessus du palier maximum "
                                f"({high}) : choisissez un palier minimum plus bas ou un "
                                "palier maximum plus haut.")
    elif low is not None or high is not None:
        data["tiers"] = (low if low is not None else 0, high if high is not None else 99)
    size = _int(form, "taille_liste", errors, "Nombre de structures")
    if size is None and "taille_liste" not in errors:
        errors["taille_liste"] = "Indiquez le nombre de structures à retenir."
    data["size"] = size or 1
    rank_by = _one(form, "classement") or "global"
    if rank_by == "weights":
        weights: dict[str, float] = {}
        for key in form:
            if key.startswith("poids_") and _one(form, key):
                try:
                    weights[key[6:]] = float(parse_number_fr(_one(form, key)) or 0)
                except NumberError as exc:
                    errors[key] = f"Poids : {exc.message[0].lower()}{exc.message[1:]}"
        data["rank_by"] = {"weights": weights}
    else:
        data["rank_by"] = rank_by
    quotas = []
    for dimension in DIMENSIONS:
        for bound in ("min", "max"):
            value = _int(form, f"{bound}_{dimension}", errors, "Quota")
            if value is not None:
                quotas.append({"by": dimension, bound: value})
    data["quotas"] = quotas
    if errors:
        return None, errors
    try:
        return Criteria.model_validate(data), {}
    except ValidationError as exc:
        for e in exc.errors():
            where = str(e["loc"][0]) if e["loc"] else "criteres"
            message = str(e["msg"]).removeprefix("Value error, ")
            errors[_FIELD_OF.get(where, where)] = message
        return None, errors


_FIELD_OF = {"size": "taille_liste", "tiers": "palier_min", "rank_by": "classement",
             "size_bands": "tailles", "submitted_after": "transmise_apres",
             "quotas": "quotas", "departments": "departements", "order": "ordre"}


def form_from_criteria(criteria: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The builder's parameters for saved criteria (to re-open them or post them again)."""
    out: list[tuple[str, str]] = []
    if criteria.get("region"):
        out.append(("region", criteria["region"]))
    out += [("departements", d) for d in criteria.get("departments") or []]
    # Sector keys and category codes share the criteria's list, not the builder's checkboxes.
    kinds = criteria.get("categories") or []
    out += [("secteurs", c) for c in kinds if c in SECTOR_LABELS]
    out += [("categories", c) for c in kinds if c not in SECTOR_LABELS]
    out += [("tailles", b) for b in criteria.get("size_bands") or []]
    tiers = criteria.get("tiers")
    if tiers:
        out += [("palier_min", str(tiers[0])), ("palier_max", str(tiers[1]))]
    if criteria.get("eligible_for"):
        out.append(("financement", criteria["eligible_for"]))
    out += [("revue", r) for r in criteria.get("review_status") or []]
    if criteria.get("submitted_after"):
        out.append(("transmise_apres", str(criteria["submitted_after"])))
    rank_by = criteria.get("rank_by", "global")
    if isinstance(rank_by, dict):
        out.append(("classement", "weights"))
        out += [(f"poids_{d}", _num(w)) for d, w in rank_by["weights"].items()]
    else:
        out.append(("classement", str(rank_by)))
    if criteria.get("order"):
        out.append(("ordre", criteria["order"]))
    out.append(("taille_liste", str(criteria.get("size", 1))))
    for q in criteria.get("quotas") or []:
        bound = "max" if q.get("max") is not None else "min"
        out.append((f"{bound}_{q['by']}", str(q[bound])))
    return out


def _num(value: float) -> str:
    return number_input_fr(value) or ""  # 1.5 -> "1,5", as typed back in the form
