"""ARS campaigns (issue 10).

    GET  /regions/{code}/campagnes         the region's campaigns and their participation,
                                           with the form to open one
    POST /regions/{code}/campagnes         open a campaign (nom, debut, echeance, categories)
    GET  /campagnes/{id}                   targeted structures not started / not submitted
    GET  /campagnes/{id}/relances          the reminders' preview (who, the e-mail)
    POST /campagnes/{id}/relances          send them, 303 back to the campaign

Template global `campaigns_of(structure)`: campaigns under way that target a structure (its
directors see the deadline on the structure page).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import object_session
from sqlmodel import Session

from app.campaigns import service as svc
from app.campaigns.models import Campaign
from app.deps import IdPath, SessionDep, SettingsDep
from app.permissions import Actor
from app.reference import regions
from app.routes.reviews import FormDep
from app.structures.models import Structure
from app.web.auth_deps import CurrentActor, client_ip
from app.web.templating import env, render

router = APIRouter(tags=["campagnes"])


def _campaigns_of(structure: Structure | None) -> list[Campaign]:
    session = object_session(structure) if structure is not None else None
    return svc.open_for_structure(session, structure) \
        if isinstance(session, Session) and structure is not None else []


env.globals.update(campaigns_of=_campaigns_of)


def _crumbs(region: str, *items: tuple[str, str]) -> list[dict[str, str]]:
    return [{"text": "Accueil", "href": "/"},
            {"text": regions()[region].name, "href": f"/regions/{region}"},
            *({"text": t, "href": h} for t, h in items)]


def _list_page(request: Request, session: Any, actor: Actor, region: str,
               **extra: Any) -> Response:
    ctx = {"region": region, "region_name": regions()[region].name,
           "campaigns": svc.list_for(session, actor, region),
           "categories": svc.region_categories(session, region),
           "values": {}, "chosen": [], "errors": {}, "today": svc.today(),
           "breadcrumb": _crumbs(region, ("Campagnes", "")), **extra}
    return render(request, "pages/campaigns/list.html", ctx,
                  status_code=422 if extra.get("errors") else 200)


@router.get("/regions/{code}/campagnes", response_class=HTMLResponse)
def campaigns(request: Request, code: str, actor: CurrentActor,
              session: SessionDep) -> Response:
    region = svc.check_region(actor, code)
    return _list_page(request, session, actor, region)


@router.post("/regions/{code}/campagnes", response_class=HTMLResponse)
def create(request: Request, code: str, form: FormDep, actor: CurrentActor,
           session: SessionDep) -> Response:
    region = svc.check_region(actor, code)
    values = {k: v for k in ("nom", "debut", "echeance")
              if isinstance(v := form.get(k), str)}
    chosen = [v for v in form.getlist("categories") if isinstance(v, str)]
    try:
        c = svc.create(session, actor, region, values, chosen, client_ip(request))
    except svc.InvalidCampaign as exc:
        session.rollback()
        return _list_page(request, session, actor, region, values=values, chosen=chosen,
                          errors=exc.errors)
    return RedirectResponse(f"/campagnes/{c.id}?creee=1", 303)


@router.get("/campagnes/{campaign_id}", response_class=HTMLResponse)
def campaign(request: Request, campaign_id: IdPath, actor: CurrentActor,
             session: SessionDep) -> Response:
    c = svc.get_campaign(session, actor, campaign_id)
    sent = request.query_params.get("relances", "")
    return render(request, "pages/campaigns/detail.html", {
        "p": svc.participation(session, c), "c": c, "labels": svc.PROGRESS_LABELS,
        "created": request.query_params.get("creee") == "1",
        "sent": int(sent) if sent.isdigit() and len(sent) < 6 else None,
        "breadcrumb": _crumbs(c.region, ("Campagnes", f"/regions/{c.region}/campagnes"),
                              (c.name, "")),
    })


@router.get("/campagnes/{campaign_id}/relances", response_class=HTMLResponse)
def reminders_preview(request: Request, campaign_id: IdPath, actor: CurrentActor,
                      session: SessionDep, settings: SettingsDep) -> Response:
    p = svc.preview(session, settings, actor, campaign_id)
    c = p.participation.campaign
    return render(request, "pages/campaigns/reminders.html", {
        "pv": p, "c": c, "throttle": svc.THROTTLE_SECONDS, "max_per_send": svc.MAX_PER_SEND,
        "breadcrumb": _crumbs(c.region, ("Campagnes", f"/regions/{c.region}/campagnes"),
                              (c.name, f"/campagnes/{c.id}"), ("Relances", "")),
    }, headers={"Cache-Control": "no-store"})


@router.post("/campagnes/{campaign_id}/relances")
def reminders_send(request: Request, campaign_id: IdPath, actor: CurrentActor,
                   session: SessionDep, settings: SettingsDep) -> Response:
    n = svc.send_reminders(session, settings, actor, campaign_id, client_ip(request))
    return RedirectResponse(f"/campagnes/{campaign_id}?relances={n}", 303)
