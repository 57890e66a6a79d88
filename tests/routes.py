"""Every route of the app: HTTP method, full path template, endpoint and dependency tree.

This FastAPI version (0.16x) keeps included routers lazily: `app.routes` holds
`_IncludedRouter` objects (`original_router`, an APIRouter whose `.routes` are APIRoutes with
the router's own prefix already in `.path`, or further `_IncludedRouter`s; and
`include_context`, with the include's `.prefix` and `.dependencies`, those of the including
router first). `api_routes(app)` flattens them recursively.

    for r in api_routes(create_app()):
        r.method, r.path, r.endpoint, r.calls()     # "GET", "/regions/{code}", fn, {callables}

Starlette routes and mounts (`/openapi.json`, `/static`) are infrastructure:
`infrastructure_routes(app)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_parameterless_sub_dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

try:  # FastAPI >= 0.16x: lazily included routers
    from fastapi.routing import _IncludedRouter
except ImportError:  # pragma: no cover - older FastAPI copies routes at include time
    _IncludedRouter = None  # type: ignore[assignment,misc]

Key = tuple[str, str]  # (method, path template)


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    name: str
    endpoint: Callable[..., Any]
    dependant: Dependant  # the route's own tree (its router's dependencies included)
    include_dependencies: tuple[params.Depends, ...]  # from the include_router() chain

    @property
    def key(self) -> Key:
        return (self.method, self.path)

    @property
    def qualname(self) -> str:
        return f"{self.endpoint.__module__}.{self.endpoint.__qualname__}"

    def dependants(self) -> Iterator[Dependant]:
        """Every node of the full dependency tree (include-level dependencies first)."""
        roots = [get_parameterless_sub_dependant(depends=d, path=self.path)
                 for d in self.include_dependencies]
        stack = [*roots, self.dependant]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(node.dependencies)

    def calls(self) -> set[Callable[..., Any]]:
        """The callables of the dependency tree (the endpoint included)."""
        return {d.call for d in self.dependants() if d.call is not None}

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class InfraRoute:
    kind: str  # "route" | "mount" | "websocket"
    path: str
    name: str | None


def _walk(routes: Sequence[BaseRoute], prefix: str, deps: tuple[params.Depends, ...],
          out: list[RouteInfo], infra: list[InfraRoute]) -> None:
    for route in routes:
        if _IncludedRouter is not None and isinstance(route, _IncludedRouter):
            ctx = route.include_context
            _walk(route.original_router.routes, prefix + ctx.prefix,
                  deps + tuple(ctx.dependencies), out, infra)
        elif isinstance(route, APIRoute):
            for method in sorted(route.methods or ()):
                out.append(RouteInfo(method=method, path=prefix + route.path, name=route.name,
                                     endpoint=route.endpoint, dependant=route.dependant,
                                     include_dependencies=deps))
        elif isinstance(route, Mount):
            infra.append(InfraRoute("mount", prefix + route.path, route.name))
        elif isinstance(route, APIWebSocketRoute | WebSocketRoute):
            infra.append(InfraRoute("websocket", prefix + route.path, route.name))
        elif isinstance(route, Route):
            infra.append(InfraRoute("route", prefix + route.path, route.name))
        else:  # a new kind of route: make the enumeration fail loudly, never skip it
            raise TypeError(f"unknown route type {type(route).__name__}: {route!r}")


def _flatten(app: FastAPI) -> tuple[list[RouteInfo], list[InfraRoute]]:
    out: list[RouteInfo] = []
    infra: list[InfraRoute] = []
    _walk(app.routes, "", (), out, infra)
    return out, infra


def api_routes(app: FastAPI) -> list[RouteInfo]:
    """Every (method, path) the app serves through FastAPI, in registration order. A path
    registered twice (e.g. "/" by two routers: the first match wins) appears twice."""
    return _flatten(app)[0]


def infrastructure_routes(app: FastAPI) -> list[InfraRoute]:
    """Plain Starlette routes and mounts: /openapi.json, /static."""
    return _flatten(app)[1]


def route_keys(app: FastAPI) -> set[Key]:
    return {r.key for r in api_routes(app)}


if __name__ == "__main__":  # python -m tests.routes: print the table
    from app.main import create_app

    application = create_app()
    for r in api_routes(application):
        print(f"{r.method:7} {r.path:60} {r.qualname}")
    for i in infrastructure_routes(application):
        print(f"{i.kind:7} {i.path}")
