"""The committees' and ARS's paths through HTTP, against a real `palier serve` on a national
demo database (`palier demo --structures 40000`), each beside its floor measured in the
same run: a hello-world app served the same way, and the hand-written SQL the path needs
(raw driver, rows fetched).

- shortlist live preview (htmx fragment, 20 rows shown), national committee, four criteria;
  each round: the preview, then its hand-written top-N query;
- `POST /api/v1/shortlists`, national, every eligible structure (size 40,000); floor: the
  whole ranked list in SQL;
- that shortlist's `export.csv` (first byte, whole file); floor: reading its stored rows;
- its `export.xlsx` with next steps (a background job: request, polling, download), the
  server's resident memory before and after; floor: reading its rows and next steps;
- the ARS's full-answers export of Île-de-France (7,261 structures): CSV streamed, XLSX job.

    python -m bench.paths_bench --database-url postgresql+psycopg://…/palier_bench_paths \
        [--only lists|exports] [--repeat 3] [--rounds 30]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bench import http
from bench.paths_sql import (
    FULL_LIST,
    PREVIEW_CASES,
    REGION_11,
    floor_sql,
    next_steps_sql,
    stored_rows_sql,
)

ROUNDS = 30
WARMUP = 3
COMMITTEE = "comite@demo.palier.fr"  # national committee
ADMIN = "admin@demo.palier.fr"


def _raw(url: str) -> Any:
    """A raw DBAPI connection (no ORM) for the floors."""
    engine = create_engine(url)
    return engine, engine.raw_connection()


def _sql_time(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> tuple[float, int]:
    start = time.perf_counter()
    cur = conn.cursor()
    cur.execute(sql, params) if params else cur.execute(sql)  # sqlite3 refuses None
    n = len(cur.fetchall())
    cur.close()
    conn.rollback()
    return time.perf_counter() - start, n


def hello_floor(base: str) -> dict[str, Any]:
    with httpx.Client(base_url=base) as client:
        for _ in range(WARMUP):
            client.get("/")
        times = [http.timed(lambda: client.get("/"))[0] for _ in range(ROUNDS)]
    return http.summary(times)


def preview(client: httpx.Client, conn: Any, dialect: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    from app.shortlists import forms
    from app.shortlists.ranking import Criteria

    for name, raw in PREVIEW_CASES.items():
        criteria = Criteria.model_validate(raw)
        query = urlencode(forms.form_from_criteria(criteria.canonical()))
        path = f"/selections/nouvelle?{query}"
        sql = floor_sql(name, dialect)

        def get(path: str = path) -> httpx.Response:
            r = client.get(path, headers={"HX-Request": "true"})
            r.raise_for_status()
            return r

        for _ in range(WARMUP):
            get()
            _sql_time(conn, sql)
        app_times, sql_times = [], []
        for _ in range(ROUNDS):
            app_times.append(http.timed(get)[0])
            sql_times.append(_sql_time(conn, sql)[0])
        app, floor = http.summary(app_times), http.summary(sql_times)
        out[name] = {
            "app": app,
            "top-N SQL": floor,
            "ratio_p95": round(app["p95_ms"] / max(floor["p95_ms"], 0.1), 2),
            "load": http.load_average(),
        }
    return out


def create(api: httpx.Client, n: int) -> tuple[float, dict[str, Any], int]:
    def post() -> httpx.Response:
        r = api.post("/api/v1/shortlists", json={"name": f"Banc national {n}", "size": 40000})
        if r.status_code != 201:
            raise SystemExit(f"creation failed: {r.status_code} {r.text[:300]}")
        return r

    elapsed, r = http.timed(post)
    return elapsed, r.json(), len(r.content)


def _rss(pids: dict[str, int]) -> dict[str, float]:
    return {name: http.rss_mib(pid) for name, pid in pids.items()}


def xlsx_job(api: httpx.Client, path: str, pids: dict[str, int]) -> dict[str, Any]:
    """Request a background export, poll its job, download the file; the resident memory
    of the server (and of the worker that ran the job, on PostgreSQL) before and after."""
    before = _rss(pids)
    start = time.perf_counter()
    r = api.get(path)
    if r.status_code != 202:
        raise SystemExit(f"{path}: {r.status_code} (expected a job)")
    job = r.json()
    while job["status"] not in ("done", "failed"):
        time.sleep(0.2)
        job = api.get(job["url"]).json()
    if job["status"] != "done":
        raise SystemExit(f"{path}: job failed: {job['error']}")
    done = time.perf_counter() - start
    size = len(api.get(job["file"]).content)
    elapsed = time.perf_counter() - start
    peak_after = _rss(pids)
    time.sleep(2)
    return {
        "total_s": round(elapsed, 2),
        "job_done_s": round(done, 2),
        "bytes": size,
        "rss_before_mib": before,
        "rss_right_after_mib": peak_after,
        "rss_2s_after_mib": _rss(pids),
        "load": http.load_average(),
    }


def _forget_exports(conn: Any, dialect: str, kind: str, key: str, value: str) -> None:
    """Drop the finished jobs of this export (a frozen shortlist's file is otherwise
    reused): each round runs the job again. Only on the bench's own database."""
    ph = "?" if dialect == "sqlite" else "%s"  # the drivers' placeholders
    cur = conn.cursor()
    cur.execute(f"SELECT id, file_path FROM export_job WHERE kind = {ph}", (kind,))
    for job_id, file_path in cur.fetchall():
        cur.execute(f"SELECT params FROM export_job WHERE id = {ph}", (job_id,))
        params = cur.fetchone()[0]
        params = json.loads(params) if isinstance(params, str) else params
        if str(params.get(key)) == value:
            cur.execute(f"DELETE FROM export_job WHERE id = {ph}", (job_id,))
            if file_path:
                cur.execute(f"DELETE FROM stored_file WHERE key = {ph}", (file_path,))
    cur.close()
    conn.commit()


def _national(
    api: httpx.Client, conn: Any, dialect: str, out: dict[str, Any], repeat: int
) -> list[int]:
    """`repeat` national shortlists created through the API (creation measured); with
    repeat 0, the last one a previous run created (else one new)."""
    if repeat == 0:
        cur = conn.cursor()
        cur.execute("SELECT max(id) FROM shortlist WHERE name LIKE 'Banc national %%'")
        found = cur.fetchone()[0]
        cur.close()
        conn.rollback()
        if found is not None:
            return [int(found)]
    created: list[int] = []
    for n in range(max(1, repeat)):
        elapsed, body, size = create(api, n)
        floor, rows = _sql_time(conn, FULL_LIST[dialect])
        created.append(body["id"])
        out["creation"].append(
            {
                "total_s": round(elapsed, 2),
                "rows": len(body["rows"]),
                "response_bytes": size,
                "floor_full_list_sql_s": round(floor, 3),
                "floor_rows": rows,
                "load": http.load_average(),
            }
        )
    return created


def shortlist_paths(
    base: str,
    url: str,
    pids: dict[str, int],
    conn: Any,
    dialect: str,
    repeat: int,
    create_repeat: int,
) -> dict[str, Any]:
    api = http.api_client(base, url, COMMITTEE)
    out: dict[str, Any] = {"creation": [], "csv": [], "xlsx": []}
    created = _national(api, conn, dialect, out, create_repeat)
    sid = created[0]
    out["shortlist_id"] = sid
    rows_sql = stored_rows_sql(sid, dialect)
    for _ in range(repeat):
        measure = http.streamed(api, f"/api/v1/shortlists/{sid}/export.csv")
        measure["floor_read_rows_s"] = round(_sql_time(conn, rows_sql)[0], 3)
        measure["load"] = http.load_average()
        out["csv"].append(measure)
    for n in range(repeat):  # a frozen shortlist's finished XLSX is reused: forgotten first
        target = created[n % len(created)]
        _forget_exports(conn, dialect, "shortlist_xlsx", "shortlist_id", str(target))
        measure = xlsx_job(api, f"/api/v1/shortlists/{target}/export.xlsx", pids)
        rows_s = _sql_time(conn, stored_rows_sql(target, dialect))[0]
        steps_s, steps = _sql_time(conn, next_steps_sql(target, dialect))
        measure.update(floor_rows_and_steps_sql_s=round(rows_s + steps_s, 3), floor_step_rows=steps)
        out["xlsx"].append(measure)
    out["rows"] = _sql_time(conn, rows_sql)[1]
    return out


def region_paths(
    base: str, url: str, pids: dict[str, int], conn: Any, repeat: int
) -> dict[str, Any]:
    pages = http.page_client(base, url, ADMIN)
    api = http.api_client(base, url, ADMIN)
    out: dict[str, Any] = {"csv": [], "xlsx": []}
    for _ in range(repeat):
        m = http.streamed(pages, "/regions/11/export.csv")
        m["floor_region_sql_s"], m["floor_rows"] = (round(x, 3) for x in _sql_time(conn, REGION_11))
        m["load"] = http.load_average()
        out["csv"].append(m)
    for _ in range(repeat):
        before = _rss(pids)
        start = time.perf_counter()
        r = pages.get("/regions/11/export.xlsx", follow_redirects=False)
        job_id = int(r.headers["location"].rsplit("/", 1)[1])
        job = api.get(f"/api/v1/exports/{job_id}").json()
        while job["status"] not in ("done", "failed"):
            time.sleep(0.2)
            job = api.get(f"/api/v1/exports/{job_id}").json()
        size = len(api.get(job["file"]).content) if job["status"] == "done" else 0
        out["xlsx"].append(
            {
                "status": job["status"],
                "total_s": round(time.perf_counter() - start, 2),
                "bytes": size,
                "rss_before_mib": before,
                "rss_after_mib": _rss(pids),
                "floor_region_sql_s": round(_sql_time(conn, REGION_11)[0], 3),
                "load": http.load_average(),
            }
        )
    return out


def run(url: str, var: Path, repeat: int, only: str = "all") -> dict[str, Any]:
    engine, conn = _raw(url)
    dialect = engine.dialect.name
    results: dict[str, Any] = {
        "database": dialect,
        "machine": platform.platform(),
        "python": sys.version.split()[0],
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "load_at_start": http.load_average(),
    }
    try:
        http.vacuum(url, ("latest_result", "latest_domain_score", "shortlist_candidate",
                          "structure"))
        with http.hello_serve() as hello:
            results["hello-world"] = hello_floor(hello)
        with contextlib.ExitStack() as stack:
            base, pid = stack.enter_context(http.palier_serve(url, var))
            pids = {"server": pid}
            if dialect == "postgresql":  # jobs run in `palier worker`, as in production
                pids["worker"] = stack.enter_context(http.palier_worker(url, var))
            results["rss_at_start_mib"] = _rss(pids)
            if only != "exports":
                pages = http.page_client(base, url, COMMITTEE)
                results["preview"] = preview(pages, conn, dialect)
            if only == "lists":
                api = http.api_client(base, url, COMMITTEE)
                results["shortlist"] = {"creation": []}
                _national(api, conn, dialect, results["shortlist"], repeat)
            else:
                results["shortlist"] = shortlist_paths(
                    base, url, pids, conn, dialect, repeat, repeat if only != "exports" else 0
                )
                results["region 11"] = region_paths(base, url, pids, conn, repeat)
            with http.hello_serve() as hello:
                results["hello-world (end)"] = hello_floor(hello)
    finally:
        conn.close()
        engine.dispose()
    results["load_at_end"] = http.load_average()
    return results


def main() -> None:
    global ROUNDS
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="previews per case")
    parser.add_argument("--var", default="var/bench-paths", help="exports folder's parent")
    parser.add_argument(
        "--only",
        choices=["all", "lists", "exports"],
        default="all",
        help="lists: only the shortlist previews and national creation; "
        "exports: only the export paths (the last national shortlist "
        "a previous run created, else a new one)",
    )
    args = parser.parse_args()
    ROUNDS = args.rounds
    print(
        f"database: {make_url(args.database_url).render_as_string(hide_password=True)}",
        file=sys.stderr,
    )
    json.dump(
        run(args.database_url, Path(args.var).resolve(), args.repeat, args.only),
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
