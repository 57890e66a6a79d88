"""A lean path in front of a route (issue 14): a Starlette `Route` for the same path and
method, inserted before the app's routes, that serves the common request itself and hands
any other (`decline`) to the app's router again, where it no longer matches, so that the
route answers it unchanged. Its access log and metrics carry the route's path template."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send


class LeanRoute(Route):
    """Subclasses set PATH and METHOD and define `serve`."""

    PATH: str
    METHOD: str

    def __init__(self, router: ASGIApp) -> None:
        super().__init__(self.PATH, self.serve, methods=[self.METHOD], include_in_schema=False)
        self.app = self.serve  # an ASGI app (Route would wrap a method as an endpoint)
        self.router = router
        self._declined = f"palier.lean_declined {self.METHOD} {self.PATH}"

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get(self._declined) or scope.get("method") != self.METHOD:
            return Match.NONE, {}  # another method: the route's own answer (405)
        return super().matches(scope)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError

    async def decline(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to the route."""
        scope[self._declined] = True
        await self.router(scope, receive, send)

    def served(self, scope: Scope) -> None:
        """Mark the request as this route's (access log and metrics: its path template)."""
        scope["route"] = self

    @classmethod
    def install(cls, app: FastAPI) -> None:
        """Put the lean path in front of the app's routes."""
        app.router.routes.insert(0, cls(app.router))
