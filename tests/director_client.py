"""A director's logged-in test client and the steps the director tests share (start a
draft, submit it), for the integration tests of the director's pages."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import User
from app.config import Settings
from app.structures.models import Structure
from tests.auth_helpers import csrf_headers, log_in
from tests.factories import fill


class Director:
    """A logged-in test client with its CSRF token."""

    def __init__(self, client: TestClient, token: str, user: User) -> None:
        self.client = client
        self.token = token
        self.user = user

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, follow_redirects=False, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, htmx: bool = False,
             **kw: Any) -> Any:
        return self.client.post(url, data={**(data or {})}, follow_redirects=False,
                                headers=csrf_headers(self.token, htmx=htmx), **kw)

    def autosave(self, aid: int, qid: str, value: Any, version: int,
                 seen: int | None = None) -> Any:
        data: dict[str, Any] = {"question": qid, "version": version,
                                "seen": version if seen is None else seen}
        if value is not None:
            data[f"q_{qid}"] = value
        return self.post(f"/evaluations/{aid}/reponses", data, htmx=True)


def as_user(client: TestClient, session: Session, settings: Settings, user: User) -> Director:
    return Director(client, log_in(client, session, settings, user), user)


def start(d: Director, structure: Structure) -> int:
    response = d.post(f"/structures/{structure.finess}/evaluation")
    assert response.status_code == 303, response.text
    match = re.match(r"/evaluations/(\d+)/sections/", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def form_values(answers: dict[str, Any]) -> dict[str, Any]:
    return {f"q_{k}": [str(x) for x in v] if isinstance(v, list) else str(v)
            for k, v in answers.items()}




def submitted(director: Director, session: Session, structure: Structure,
              answers: dict[str, Any]) -> int:
    aid = start(director, structure)
    fill(session, aid, answers)
    assert director.post(f"/evaluations/{aid}/transmettre",
                         {"declaration": "oui"}).status_code == 303
    return aid


