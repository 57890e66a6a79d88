"""Query-string plumbing of the ARS structure list: the search box, the comparison
selection carried from page to page, and the export links with the filters applied."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from app.structures.directory import MAX_SEARCH

FINESS_RE = re.compile(r"^[0-9][0-9AB][0-9]{7}$")
MAX_SELECTED = 50


def list_search(params: Mapping[str, str]) -> str:
    """The search typed (`recherche`), spaces squeezed, at most MAX_SEARCH characters."""
    return " ".join((params.get("recherche") or "").split())[:MAX_SEARCH]


def selection(params: QueryParams) -> list[str]:
    """The FINESS numbers ticked for the comparison (`finess`, repeated), in order, once."""
    out: list[str] = []
    for raw in params.getlist("finess"):
        value = raw.replace(" ", "").upper()
        if FINESS_RE.match(value) and value not in out:
            out.append(value)
    return out[:MAX_SELECTED]


def region_export_links(region: str, f: Any, search: str = "") -> dict[str, str]:
    """CSV and XLSX of the list and of the dashboard figures, with these filters."""
    query = f.query()
    listed = {**query, **({"recherche": search} if search else {})}

    def url(path: str, params: dict[str, str]) -> str:
        return f"/regions/{region}/{path}" + (f"?{urlencode(params)}" if params else "")

    return {"list_csv": url("structures.csv", listed),
            "list_csv_semicolon": url("structures.csv", {**listed, "sep": ";"}),
            "list_xlsx": url("structures.xlsx", listed),
            "figures_csv": url("chiffres.csv", query),
            "figures_csv_semicolon": url("chiffres.csv", {**query, "sep": ";"}),
            "figures_xlsx": url("chiffres.xlsx", query)}
