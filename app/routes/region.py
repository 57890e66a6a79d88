"""Regional pages (ARS referents; committees and admins read-only within their scope): the
dashboard, the structure list, side-by-side comparison, and a structure's like-for-like
position (also shown to its directors, anonymised).

Filters, sorting and paging are GET parameters, so every view has a URL; htmx swaps only the
results block (`hx-push-url`), and the same URLs render whole pages without JavaScript.
Scope: `service.check_region` (403 for roles without dashboards, 404 outside the actor's
region); structures through `assessments.get_structure` (404 outside scope).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.assessments import service as assessments
from app.assessments.models import AssessmentStatus
from app.campaigns.service import campaign_participation
from app.dashboard import service as svc
from app.dashboard.bands import SIZE_BANDS, sector_label, size_band_label
from app.deps import SessionDep
from app.errors import NotFound
from app.formatting import date_fr, number_fr
from app.permissions import Action, Actor, can, structure_scope
from app.questionnaires import RegistryDep
from app.reference import SECTOR_LABELS, departments, finess_categories, regions
from app.web.auth_deps import CurrentActor
from app.web.charts import column_counts
from app.web.dashboard_charts import compare_bars, stacked_columns
from app.web.navigation import crumbs
from app.web.region_lists import list_search, region_export_links, selection
from app.web.templating import is_htmx, render

router = APIRouter(tags=["région"])

LR = svc.LR


# ---- helpers --------------------------------------------------------------------------------


def _page(request: Request, template: str, ctx: dict[str, Any], block_name: str) -> Response:
    """The page, or only its `block_name` block for an htmx request (`htmx` in the context)."""
    block = _block(request, block_name)
    ctx["htmx"] = block is not None
    return render(request, template, ctx, block_name=block)


def _block(request: Request, name: str) -> str | None:
    """The htmx block to render, or None for a whole page (history restore included)."""
    if request.headers.get("HX-History-Restore-Request", "").lower() == "true":
        return None
    return name if is_htmx(request) else None


def _url(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _crumbs(actor: Actor, region: str, *items: tuple[str, str]) -> list[dict[str, str]]:
    out = [{"text": "Accueil", "href": "/"}]
    if structure_scope(actor).all:
        out.append({"text": "Régions", "href": "/regions"})
    out.append({"text": regions()[region].name, "href": f"/regions/{region}"})
    out += [{"text": t, "href": h} for t, h in items]
    return out


def filter_options(region: str, registry: Any) -> dict[str, list[dict[str, str]]]:
    labels = svc.tier_labels(registry)
    return {
        "departments": [{"value": c, "label": f"{d.name} ({c})"}
                        for c, d in sorted(departments().items()) if d.region_code == region],
        "categories": sorted(({"value": c.code, "label": f"{c.label} ({c.code})"}
                              for c in finess_categories().values()),
                             key=lambda o: o["label"].lower()),
        "sectors": [{"value": k, "label": v} for k, v in SECTOR_LABELS.items()],
        "bands": [{"value": b.key, "label": b.label} for b in SIZE_BANDS],
        "tiers": [{"value": str(level), "label": label} for level, (_, label)
                  in sorted(labels.items())],
    }


def filter_tags(f: svc.Filters, registry: Any) -> list[str]:
    """The active filters in words (shown above the results and announced)."""
    tags = []
    if f.department:
        d = departments().get(f.department)
        tags.append(f"Département : {d.name if d else f.department}")
    if f.category:
        c = finess_categories().get(f.category)
        tags.append(f"Catégorie : {c.label if c else f.category}")
    if f.sector:
        tags.append(f"Secteur : {sector_label(f.sector)}")
    if f.size_band:
        tags.append(f"Taille : {size_band_label(f.size_band)}")
    if f.tier is not None:
        tags.append(svc.short_tier(svc.tier_labels(registry).get(
            f.tier, ("", f"Palier {f.tier}"))[1]))
    if f.after:
        tags.append(f"Transmis depuis le {date_fr(f.after)}")
    if f.before:
        tags.append(f"Transmis jusqu’au {date_fr(f.before)}")
    return tags


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{number_fr(x, 1)} %"


# ---- pages ----------------------------------------------------------------------------------


@router.get("/regions", response_class=HTMLResponse)
def regions_index(request: Request, actor: CurrentActor, session: SessionDep) -> Response:
    """National actors choose a region; regional ones go straight to theirs."""
    own_region, rows = svc.regions_overview(session, actor)
    if own_region is not None:
        return RedirectResponse(f"/regions/{own_region}", status_code=303)
    return render(request, "pages/region/index.html", {
        "rows": rows,
        "breadcrumb": [{"text": "Accueil", "href": "/"}, {"text": "Régions", "href": ""}],
    })


@router.get("/regions/{code}", response_class=HTMLResponse)
def dashboard(request: Request, code: str, actor: CurrentActor, session: SessionDep,
              registry: RegistryDep) -> Response:
    region = svc.check_region(actor, code)
    f = svc.Filters.parse(request.query_params, region)
    sm = svc.summary(session, actor, registry, region, f)
    tiers_chart = column_counts(
        [(svc.short_tier(t.label), t.count) for t in sm.tiers],
        title=f"Répartition des structures sur les paliers – {sm.region_name}",
        desc="Nombre de structures par palier, d’après leur dernière évaluation transmise. "
             "Les valeurs figurent dans le tableau qui suit.",
        chart_id="chart-tiers")
    domains_chart = compare_bars(
        [(d.label, d.mean, d.national_mean) for d in sm.domains],
        title="Score moyen par domaine, région et national",
        desc="Pour chaque domaine, la moyenne de la région puis la moyenne nationale, "
             "sur 100. Les moyennes et médianes figurent dans le tableau qui suit.",
        chart_id="chart-domains")
    series = [(t.level, svc.short_tier(t.label)) for t in sm.tiers]
    trend_chart = stacked_columns(
        [(t.quarter.replace("-", " "), t.tiers) for t in sm.trend], series,
        title="Paliers des évaluations transmises, par trimestre",
        desc="Pour chaque trimestre, nombre d’évaluations transmises par palier. "
             "Les valeurs figurent dans le tableau qui suit.",
        chart_id="chart-trend") if sm.trend else None
    national_total = sum(t.national for t in sm.tiers)
    ctx = {
        "sm": sm, "f": f, "region": region, "options": filter_options(region, registry),
        "tags": filter_tags(f, registry), "tiers_chart": tiers_chart,
        "domains_chart": domains_chart, "trend_chart": trend_chart,
        "national_total": national_total, "pct": _pct,
        "list_url": _url(f"/regions/{region}/structures", f.query()),
        "exports": region_export_links(region, f),
        "can_export": can(actor, Action.export_region),
        "campaigns": campaign_participation(session, actor, region),
        "breadcrumb": _crumbs(actor, region, ("Tableau de bord", "")),
    }
    return _page(request, "pages/region/dashboard.html", ctx, "results")


def _sort_links(region: str, f: svc.Filters, sort: str, order: str,
                extra: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    out = {}
    for key, (label, _) in svc.SORTS.items():
        current = key == sort
        next_order = "desc" if current and order == "asc" else "asc"
        params = {**f.query(), **(extra or {}), "tri": key, "ordre": next_order}
        out[key] = {"label": label, "href": _url(f"/regions/{region}/structures", params),
                    "current": current,
                    "aria_sort": ("ascending" if order == "asc" else "descending")
                    if current else None}
    return out


@router.get("/regions/{code}/structures", response_class=HTMLResponse)
def structures(request: Request, code: str, actor: CurrentActor, session: SessionDep,
               registry: RegistryDep) -> Response:
    region = svc.check_region(actor, code)
    params = request.query_params
    f = svc.Filters.parse(params, region)
    raw_page = params.get("page", "1")
    page_no = int(raw_page) if raw_page.isdigit() and len(raw_page) < 7 else 1
    search = list_search(params)
    page = svc.structure_page(session, actor, registry, region, f,
                              sort=params.get("tri", "nom"), order=params.get("ordre", "asc"),
                              page=page_no, search=search)
    found = {"recherche": search} if search else {}
    selected = selection(params)
    base = {**f.query(), **found, "tri": page.sort, "ordre": page.order}

    def page_url(n: int, keep: bool = True) -> str:
        """A page's link; `keep`: with the selection (the htmx request adds it itself,
        from the boxes ticked, see hx-include)."""
        query = urlencode([*base.items(), ("page", str(n)),
                           *(("finess", x) for x in (selected if keep else []))])
        return f"/regions/{region}/structures?{query}"

    window = sorted({1, page.pages, *range(max(1, page.page - 2),
                                           min(page.pages, page.page + 2) + 1)})
    ctx = {
        "page": page, "f": f, "region": region, "region_name": regions()[region].name,
        "options": filter_options(region, registry), "tags": filter_tags(f, registry),
        "sorts": _sort_links(region, f, page.sort, page.order, found), "page_url": page_url,
        "window": window, "base_params": base, "search": search, "selected": selected,
        "exports": region_export_links(region, f, search),
        "can_export": can(actor, Action.export_region),
        "dashboard_url": _url(f"/regions/{region}", f.query()),
        "breadcrumb": _crumbs(actor, region, ("Structures", "")),
    }
    return _page(request, "pages/region/structures.html", ctx, "list")


@router.get("/regions/{code}/comparer", response_class=HTMLResponse)
def compare_page(request: Request, code: str, actor: CurrentActor, session: SessionDep,
                 registry: RegistryDep) -> Response:
    region = svc.check_region(actor, code)
    wanted = request.query_params.getlist("finess")
    ctx: dict[str, Any] = {
        "region": region, "region_name": regions()[region].name, "cmp": None,
        "breadcrumb": _crumbs(actor, region, ("Structures", f"/regions/{region}/structures"),
                              ("Comparaison", "")),
    }
    try:
        ctx["cmp"] = svc.compare(session, actor, registry, region, wanted)
    except svc.BadComparison:
        ctx["messages"] = [{"level": "error", "text": "Sélectionnez de 2 à 6 structures dans la "
                            "liste pour les comparer."}]
        return render(request, "pages/region/compare.html", ctx, status_code=400)
    return render(request, "pages/region/compare.html", ctx)


@router.get("/structures/{finess}/comparaison", response_class=HTMLResponse)
def like_for_like(request: Request, finess: str, actor: CurrentActor, session: SessionDep,
                  registry: RegistryDep, evaluation: int | None = None) -> Response:
    """Where the structure stands among comparable ones (anonymous: counts and percentiles
    only). Directors see it for their own structures. `evaluation`: place that submitted
    assessment of the structure (the result page being read) instead of the latest."""
    s = assessments.get_structure(session, actor, finess)
    if evaluation is not None:
        a, of = assessments.get_assessment(session, actor, evaluation)
        if of.id != s.id or a.status != AssessmentStatus.submitted:
            raise NotFound("Évaluation introuvable pour cette structure.")
    lfl = svc.like_for_like(session, registry, s, evaluation)
    trail = crumbs(actor, (s.name, f"/structures/{s.finess}"),
                   ("Comparaison avec des structures semblables", ""))
    ctx = {"lfl": lfl, "structure": s, "min_group": svc.MIN_GROUP, "breadcrumb": trail}
    return render(request, "pages/region/like_for_like.html", ctx,
                  block_name=_block(request, "comparison"))

