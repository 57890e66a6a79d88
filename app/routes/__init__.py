"""The HTTP layer: one module per area, thin (parse, call one service, render).

`ROUTERS` is what `app.main` includes, in this order: the order matters where two routers
answer the same path (the director's "/" comes before the public one).
"""

from __future__ import annotations

from fastapi import APIRouter

from app.routes import (
    account,
    account_security,
    admin,
    admin_users,
    api,
    api_messages,
    assessment_results,
    assessments,
    audit,
    auth,
    campaigns,
    docs,
    guide,
    health,
    invitations,
    messages,
    mfa_login,
    oidc,
    organismes,
    public,
    region,
    region_exports,
    reviews,
    reviews_api,
    shortlists,
    shortlists_api,
    simulation,
    structures_admin,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,  # probes first: no session, no CSRF cookie
    assessments.router,  # before public: its "/" sends directors home
    assessment_results.router,
    simulation.router,
    public.router,
    guide.router,
    api.public_router,
    admin.router,
    api.router,
    api_messages.router,
    auth.router,
    auth.api_router,
    mfa_login.router,
    account.router,
    account_security.router,
    account_security.admin_router,
    admin_users.router,
    oidc.router,
    oidc.admin_router,
    docs.router,
    shortlists.router,
    shortlists.region_router,
    shortlists.jobs_router,
    shortlists_api.router,
    shortlists_api.jobs_router,
    audit.router,
    reviews.router,
    messages.router,
    reviews_api.router,
    structures_admin.router,
    invitations.router,
    organismes.router,
    campaigns.router,
    region_exports.router,
    region.router,
)
