"""Benchmark (issue 14, memory): the resident memory of `palier worker` across national XLSX
export jobs requested through HTTP, as a committee requests them (PostgreSQL only: jobs run
on the worker there).

    python -m bench.worker_memory --database-url URL [--jobs 5]

Uses the last national shortlist a `paths_bench` run created ("Banc national …"); each round
forgets the previous job's file (a frozen shortlist's finished XLSX is otherwise reused) and
requests the export again. Prints one JSON line per job: seconds until done, file bytes, the
worker's RSS before and 2 s after (MiB).
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

from bench import http
from bench.paths_bench import COMMITTEE, _forget_exports, _raw, xlsx_job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--var", default="var/bench-worker-memory")
    a = parser.parse_args()
    engine, conn = _raw(a.database_url)
    cur = conn.cursor()
    cur.execute("SELECT max(id) FROM shortlist WHERE name LIKE 'Banc national %%'")
    sid = cur.fetchone()[0]
    cur.close()
    conn.rollback()
    if sid is None:
        raise SystemExit("no national shortlist: run `bench.paths_bench --only lists` first")
    var = Path(a.var).resolve()
    with contextlib.ExitStack() as stack:
        base, _ = stack.enter_context(http.palier_serve(a.database_url, var))
        worker = stack.enter_context(http.palier_worker(a.database_url, var))
        api = http.api_client(base, a.database_url, COMMITTEE)
        print(json.dumps({"worker_rss_at_start_mib": http.rss_mib(worker)}), flush=True)
        for n in range(a.jobs):
            _forget_exports(conn, "postgresql", "shortlist_xlsx", "shortlist_id", str(sid))
            m = xlsx_job(api, f"/api/v1/shortlists/{sid}/export.xlsx", {"worker": worker})
            print(
                json.dumps(
                    {
                        "job": n,
                        "job_done_s": m["job_done_s"],
                        "bytes": m["bytes"],
                        "worker_rss_before_mib": m["rss_before_mib"]["worker"],
                        "worker_rss_2s_after_mib": m["rss_2s_after_mib"]["worker"],
                        "load": m["load"],
                    }
                ),
                flush=True,
            )
    conn.close()
    engine.dispose()


if __name__ == "__main__":
    main()
