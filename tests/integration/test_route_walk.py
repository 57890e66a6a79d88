"""Walk every route of the app: a route that is not in the hand-written PUBLIC set must
depend on authentication (`app.web.auth_deps.current_actor`, or a `require_permission`
dependency) somewhere in its dependency tree.

A new public route must be added to PUBLIC below, deliberately; a route that needs a login
but forgot it fails here before it reaches anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from app.web import api_caller, auth_deps
from tests.routes import Key, RouteInfo, api_routes, infrastructure_routes

# Routes anyone may call without logging in (written by hand: never derived from the app).
PUBLIC: frozenset[Key] = frozenset({
    ("GET", "/healthz"),  # load-balancer probes (no session, no cookie)
    ("GET", "/readyz"),
    ("GET", "/"),  # home (directors are sent on to their structures)
    ("GET", "/accessibilite"),
    ("GET", "/favicon.ico"),
    ("GET", "/mentions-legales"),
    ("GET", "/donnees-personnelles"),
    ("GET", "/docs"),
    ("GET", "/glossaire"),  # before starting: acronyms and the blank questionnaire
    ("GET", "/questionnaire-vierge"),
    ("GET", "/questionnaire-vierge.pdf"),
    ("GET", "/connexion"),
    ("POST", "/connexion"),
    ("GET", "/connexion/code"),  # the second step: needs the login challenge's cookie
    ("POST", "/connexion/code"),
    ("GET", "/connexion/activation"),  # enrolment forced at login (challenge cookie too)
    ("POST", "/connexion/activation"),
    ("POST", "/deconnexion"),  # closes the session of the cookie, if any
    ("GET", "/session/csrf"),
    ("GET", "/mot-de-passe-oublie"),
    ("POST", "/mot-de-passe-oublie"),
    ("GET", "/reinitialiser/{token}"),
    ("POST", "/reinitialiser/{token}"),
    ("GET", "/invitation/{token}"),  # the invitee's page: create an account, or accept
    ("POST", "/invitation/{token}"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/proconnect/connexion"),  # ProConnect sign-in: start, the provider's return,
    ("GET", "/proconnect/retour"),  # the e-mailed link proof, back from the provider's logout
    ("GET", "/proconnect/lier/{token}"),
    ("POST", "/proconnect/lier/{token}"),
    ("GET", "/proconnect/deconnecte"),
    ("GET", "/api/v1/questionnaires"),
    ("GET", "/api/v1/questionnaires/{qid}/{version}"),
    ("POST", "/api/v1/score"),  # stateless scoring
})

# Public routes that may not exist yet (added by work in progress): not reported as stale.
OPTIONAL_PUBLIC: frozenset[Key] = frozenset({
    ("GET", "/invitation/{token}"),
    ("POST", "/invitation/{token}"),
})

INFRASTRUCTURE = {
    ("route", "/openapi.json"),
    ("mount", "/static"),
    # The section page's lean path (app/routes/section_page.py): GET only (no CSRF to check),
    # it serves a valid session's page itself and hands anything else to the FastAPI route;
    # tests/integration/test_section_page_lean.py proves both answer the same bytes.
    ("route", "/evaluations/{assessment_id}/sections/{section_id}"),
    # The API autosave's lean path (app/routes/api_autosave.py): PATCH with a Bearer token
    # (no CSRF), the same service as its route, anything else handed to the route;
    # tests/integration/test_lean_autosave_path.py proves both answer the same.
    ("route", "/api/v1/assessments/{assessment_id}/answers"),
}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    from app.main import create_app

    return create_app()


def is_auth_dependency(call: Callable[..., Any]) -> bool:
    # api_caller: a lean route's caller (401 without credentials; a Bearer token is checked
    # by the route with its own rows: tests/integration/test_lean_autosave.py).
    if call is auth_deps.current_actor or call is api_caller.api_caller:
        return True
    module = getattr(call, "__module__", "")
    qualname = getattr(call, "__qualname__", "")
    return module == auth_deps.__name__ and qualname.startswith("require_permission.<locals>.")


def requires_auth(route: RouteInfo) -> bool:
    return any(is_auth_dependency(call) for call in route.calls())


def test_every_non_public_route_depends_on_authentication(app: FastAPI) -> None:
    unguarded = sorted(f"{r} ({r.qualname})" for r in api_routes(app)
                       if r.key not in PUBLIC and not requires_auth(r))
    assert unguarded == [], "routes without an auth dependency (or add them to PUBLIC):\n" \
        + "\n".join(unguarded)


def test_public_set_names_only_existing_routes(app: FastAPI) -> None:
    keys = {r.key for r in api_routes(app)}
    stale = sorted(PUBLIC - OPTIONAL_PUBLIC - keys)
    assert stale == []


def test_only_known_infrastructure_routes(app: FastAPI) -> None:
    """Plain Starlette routes and mounts escape FastAPI dependencies (the app-wide CSRF and
    user loading included): only the OpenAPI document, the static files and the lean paths
    of the section page and the API autosave may be one."""
    assert {(i.kind, i.path) for i in infrastructure_routes(app)} == INFRASTRUCTURE


def test_the_app_wide_dependency_reaches_every_route(app: FastAPI) -> None:
    """load_user (user, actor, CSRF) is declared on the app: every route's tree has it, but
    the liveness probe's (no user, no session, no threadpool: issue 14) and the API's
    autosave, whose tree has api_caller instead (the same checks: its own statement reads
    the Bearer token; without one, load_user's own work)."""
    missing = sorted(str(r) for r in api_routes(app) if auth_deps.load_user not in r.calls())
    assert missing == ["GET /healthz", "PATCH /api/v1/assessments/{assessment_id}/answers"]
    lean = next(r for r in api_routes(app)
                if r.key == ("PATCH", "/api/v1/assessments/{assessment_id}/answers"))
    assert api_caller.api_caller in lean.calls()


def test_enumeration_matches_fastapi_routing(app: FastAPI) -> None:
    """tests.routes flattens included routers itself: check it against FastAPI's own
    effective routes (when this FastAPI exposes them) and against a few known paths."""
    ours = {r.key for r in api_routes(app)}
    effective: set[Key] = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None:
            path, methods = getattr(route, "path", None), getattr(route, "methods", None)
            if path is not None and methods and path != "/openapi.json":
                effective |= {(m, path) for m in methods}
            continue
        for ctx in contexts():
            effective |= {(m, ctx.path) for m in (ctx.methods or ())}
    effective = {(m, p) for m, p in effective if m != "HEAD"}
    ours = {(m, p) for m, p in ours if m != "HEAD"}
    assert ours == effective
    assert {("GET", "/healthz"), ("GET", "/api/v1/me"), ("GET", "/admin/utilisateurs"),
            ("POST", "/admin/utilisateurs/{user_id}/desactiver"),
            ("GET", "/evaluations/{assessment_id}/resultat")} <= ours


def test_router_level_dependencies_are_seen(app: FastAPI) -> None:
    """A route guarded only by its router's `dependencies=[require_permission(...)]` counts
    (e.g. the admin questionnaires page has no CurrentActor parameter of its own)."""
    route = next(r for r in api_routes(app) if r.key == ("GET", "/admin/questionnaires"))
    assert requires_auth(route)
    public_home = [r for r in api_routes(app) if r.key == ("GET", "/healthz")]
    assert len(public_home) == 1 and not requires_auth(public_home[0])
