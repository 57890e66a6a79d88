"""The people of a campaign peak, as asyncio loops on `aio_http.Conn` (bench/campaign_load.py):

- a director opens its draft's first section page, then autosaves the free-text question three
  times (`PATCH /api/v1/assessments/{id}/answers`, each value unique) with the version its
  last save returned; two "tabs" of one director on the same draft get expected 409s (the
  answer changed since their version: they take the version the 409 states and go on);
- an ARS referent opens its region's dashboard, its structure list and the summary API;
- the committee streams a national shortlist's CSV, and exports shortlists as XLSX (a job on
  the worker: request, poll every second, download), one copy after the other.

Every answer a director's save acknowledged (200) is kept in `Acks`; a save whose server died
before answering is kept as unknown. `campaign_db.check_autosaves` checks them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from bench.aio_http import Conn, Interrupted

WEB_KINDS = ("section", "autosave", "dashboard", "structure_list", "summary_api")
EXPECTED = {"autosave": {200, 409}, "export_xlsx": {200, 202}}  # other kinds: 200


def bearer(token: str, json_body: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if json_body:
        headers["Content-Type"] = "application/json"
    return headers


def cookie(raw: str) -> dict[str, str]:
    return {"Cookie": f"palier_session={raw}"}


@dataclass
class Acks:
    """Per draft: the highest acknowledged version and its answer; answers never confirmed."""

    drafts: dict[int, dict[str, Any]] = field(default_factory=dict)

    def start(self, draft: dict[str, Any]) -> None:
        self.drafts.setdefault(
            draft["id"],
            {"version": draft["version"], "value": draft.get("text_value"), "unknown": []},
        )

    def ok(self, draft: int, version: int, value: str) -> None:
        ack = self.drafts[draft]
        if version > ack["version"]:
            ack["version"], ack["value"] = version, value


async def director(
    conn: Conn, d: dict[str, Any], tab: str, until: float, acks: Acks, saves: int = 3
) -> None:
    acks.start(d)
    api = f"/api/v1/assessments/{d['id']}"
    auth = bearer(d["token"], json_body=True)
    page = f"/evaluations/{d['id']}/sections/{d['section']}"
    version: int | None = None
    n = 0
    while time.perf_counter() < until:
        try:
            if version is None:  # after an interrupted save: what the draft is now
                status, data = await conn.call("reload", "GET", api, auth)
                version = json.loads(data)["version"]
            await conn.call("section", "GET", page, cookie(d["cookie"]), keep=False)
            for _ in range(saves):
                n += 1
                value = f"{d['id']}-{tab}-{n}"
                body = json.dumps(
                    {"version": version, "answers": {d["text_question"]: value}}
                ).encode()
                try:
                    status, data = await conn.call(
                        "autosave", "PATCH", api + "/answers", auth, body
                    )
                except Interrupted:
                    acks.drafts[d["id"]]["unknown"].append(value)
                    raise
                if status == 200:
                    version = json.loads(data)["version"]
                    acks.ok(d["id"], version, value)
                elif status == 409:
                    version = json.loads(data)["version"]
        except Interrupted:
            version = None


async def ars(conn: Conn, c: dict[str, str], region: str, until: float) -> None:
    pages = [
        ("dashboard", f"/regions/{region}", cookie(c["cookie"])),
        ("structure_list", f"/regions/{region}/structures", cookie(c["cookie"])),
        ("summary_api", f"/api/v1/regions/{region}/summary", bearer(c["token"])),
    ]
    while time.perf_counter() < until:
        for kind, path, headers in pages:
            with contextlib.suppress(Interrupted):
                await conn.call(kind, "GET", path, headers, keep=False)


async def committee_csv(conn: Conn, c: dict[str, str], shortlist: int, until: float) -> None:
    while time.perf_counter() < until:
        with contextlib.suppress(Interrupted):
            await conn.call(
                "export_csv",
                "GET",
                f"/api/v1/shortlists/{shortlist}/export.csv",
                bearer(c["token"]),
                keep=False,
            )


@dataclass
class XlsxState:
    """The committee's XLSX exports across phases: copies left, the job being awaited."""

    shortlists: list[int]
    job: int | None = None
    jobs: list[int] = field(default_factory=list)
    outcomes: dict[int, str] = field(default_factory=dict)


async def committee_xlsx(conn: Conn, c: dict[str, str], state: XlsxState, until: float) -> None:
    auth = bearer(c["token"])
    while time.perf_counter() < until:
        try:
            if state.job is None:
                if not state.shortlists:
                    await asyncio.sleep(min(1.0, max(0.0, until - time.perf_counter())))
                    continue
                sid = state.shortlists.pop(0)
                status, data = await conn.call(
                    "export_xlsx", "GET", f"/api/v1/shortlists/{sid}/export.xlsx", auth
                )
                if status == 202:
                    state.job = json.loads(data)["job"]
                    state.jobs.append(state.job)
                continue
            await asyncio.sleep(1)
            status, data = await conn.call(
                "job_status", "GET", f"/api/v1/exports/{state.job}", auth
            )
            job = json.loads(data)
            if job["status"] in ("done", "failed"):
                state.outcomes[state.job] = job["status"]
                if job["status"] == "done":
                    await conn.call("export_file", "GET", job["file"], auth, keep=False)
                state.job = None
        except Interrupted:
            pass
