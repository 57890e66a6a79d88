"""The figures and checks of bench/campaign_load.py: per phase and kind of request, req/s,
p50/p95/p99 and statuses; errors; the ratios the targets of issue 11 are stated in, and
whether each is met; after the chaos phase, the jobs drained and the checks of what the
kill -9 must not lose."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bench import campaign_db as db
from bench import campaign_users as users
from bench.aio_http import Stats, percentiles

if TYPE_CHECKING:
    from bench.campaign_load import Campaign


def summarize(stats: Stats, chaos: bool = False) -> dict[str, Any]:
    """Per kind: requests, req/s, percentiles, statuses; errors (unexpected statuses, and
    requests cut by a dead server outside the chaos phase); the web requests' p95."""
    elapsed = stats.elapsed
    kinds: dict[str, Any] = {}
    errors = 0
    for kind, lat in sorted(stats.latencies.items()):
        statuses = stats.statuses[kind]
        expected = users.EXPECTED.get(kind, {200})
        errors += sum(n for s, n in statuses.items() if s not in expected)
        kinds[kind] = {
            "requests": len(lat),
            "rps": round(len(lat) / elapsed, 1),
            **percentiles([x for _, x in lat]),
            "statuses": dict(sorted(statuses.items())),
        }
    if not chaos:
        errors += sum(stats.interrupted.values())
    web = [x for k in users.WEB_KINDS for _, x in stats.latencies.get(k, [])]
    total = sum(len(v) for v in stats.latencies.values())
    return {
        "seconds": round(elapsed, 1),
        "rps": round(total / elapsed, 1),
        "web_rps": round(len(web) / elapsed, 1),
        "web": percentiles(web),
        "errors": errors,
        "interrupted": dict(stats.interrupted),
        "kinds": kinds,
        "load_average": stats.load,
        "cpu_s": stats.cpu,
        "web_cpu_ms_per_request": round(1000 * stats.cpu.get("web", 0) / total, 2) if total else 0,
    }


def report(
    phases: dict[str, Stats],
    created: dict[str, Any],
    checks: dict[str, Any],
    campaign: Campaign,
    seconds: float,
) -> dict[str, Any]:
    out = {name: summarize(s, chaos=name == "chaos") for name, s in phases.items()}

    def rps(phase: str) -> float:
        return float(out.get(phase, {}).get("rps", 0))

    def ratio(x: float, y: float) -> float:
        return round(x / y, 3) if y else 0.0

    autosave = {
        k: out[k]["kinds"].get("autosave", {}).get("p95_ms")
        for k in out
        if k != "chaos" and not k.startswith("hello")
    }
    summary = {
        "throughput_2_vs_1": ratio(out["mixed_2"]["rps"], out["mixed_1"]["rps"]),
        "throughput_2_vs_1_with_exports": ratio(
            out["exports_2"]["web_rps"], out["exports_1"]["web_rps"]
        ),
        "hello_2_vs_1": ratio(rps("hello_2"), rps("hello_1")),
        "ratio_to_hello": {
            f"mixed_{k}": ratio(out[f"mixed_{k}"]["rps"], rps(f"hello_{k}")) for k in (1, 2)
        },
        "web_p95_xlsx_job_vs_without": {
            k: ratio(out[f"xlsx_{k}"]["web"]["p95_ms"], out[f"mixed_{k}"]["web"]["p95_ms"])
            for k in (1, 2)
        },
        "web_p95_csv_and_xlsx_vs_without": {
            k: ratio(out[f"exports_{k}"]["web"]["p95_ms"], out[f"mixed_{k}"]["web"]["p95_ms"])
            for k in (1, 2)
        },
        "throughput_2_vs_1_over_hello_2_vs_1": ratio(
            ratio(out["mixed_2"]["rps"], out["mixed_1"]["rps"]),
            ratio(rps("hello_2"), rps("hello_1")),
        ),
        "autosave_p95_ms": autosave,
        "errors_outside_chaos": sum(v["errors"] for k, v in out.items() if k != "chaos"),
        "errors_in_chaos": out["chaos"]["errors"],
        "expected_409": sum(
            v["kinds"].get("autosave", {}).get("statuses", {}).get(409, 0) for v in out.values()
        ),
        "xlsx_jobs": {
            "requested": len(campaign.xlsx.jobs),
            "seen_finished": campaign.xlsx.outcomes,
        },
    }
    targets = {
        "autosave_p95_le_50ms": all(v is not None and v <= 50 for v in autosave.values()),
        "two_procs_ge_1.3x": summary["throughput_2_vs_1"] >= 1.3,
        "worker_exports_raise_web_p95_le_20pct": all(
            v <= 1.2 for v in summary["web_p95_xlsx_job_vs_without"].values()
        ),
        "zero_errors_but_409": summary["errors_outside_chaos"] == 0
        and summary["errors_in_chaos"] == 0,
        "chaos": not checks["acknowledged_saves_missing"]
        and checks["jobs_all_finished"]
        and checks["failed_jobs_without_reason"] == 0
        and checks["survivor_200_after_kill"] > 0
        and checks["survivor_healthz"] == 200,
    }
    return {
        "seconds_per_phase": seconds,
        "shortlist_creation": created,
        "clients": {
            "directors_solo": campaign.solo,
            "director_pairs": campaign.pairs,
            "ars": campaign.ars,
            "committee_in_export_phases": 2,
        },
        "summary": summary,
        "targets_met": targets,
        "chaos_checks": checks,
        "phases": out,
    }


def _healthz(port: int) -> int:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code
    except httpx.HTTPError:
        return 0


def drain(url: str, seconds: float) -> dict[str, Any]:
    """Wait (at most `seconds`) until every job has finished; their states."""
    from sqlalchemy import create_engine

    from app.db import normalize_url

    engine = create_engine(normalize_url(url))
    t0 = time.monotonic()
    try:
        states = db.job_states(engine)
        while not db.jobs_finished(states) and time.monotonic() - t0 < seconds:
            time.sleep(1)
            states = db.job_states(engine)
    finally:
        engine.dispose()
    return {**states, "waited_s": round(time.monotonic() - t0, 1)}


def chaos_checks(
    url: str,
    campaign: Campaign,
    stats: Stats,
    events: dict[str, Any],
    survivor: int,
    jobs: dict[str, Any],
) -> dict[str, Any]:
    from sqlalchemy import create_engine

    from app.db import normalize_url

    engine = create_engine(normalize_url(url))
    try:
        questions = {d["id"]: d["text_question"] for d in campaign.p["drafts"]}
        problems = db.check_autosaves(engine, campaign.acks.drafts, questions)
    finally:
        engine.dispose()
    after = [
        (kind, s) for t, kind, s in stats.by_port[survivor] if t > events.get("killed_at", 1e18)
    ]
    ok = sum(1 for _, s in after if s == 200)
    unexpected = sum(1 for k, s in after if s not in users.EXPECTED.get(k, {200}))
    failed_without_reason = sum(1 for r in jobs["failed_reasons"] if not r.strip())
    return {
        "acknowledged_drafts": len(campaign.acks.drafts),
        "acknowledged_saves_missing": problems,
        "unanswered_saves": sum(len(a["unknown"]) for a in campaign.acks.drafts.values()),
        "survivor_200_after_kill": ok,
        "survivor_unexpected_after_kill": unexpected,
        "survivor_healthz": _healthz(survivor),
        "jobs": jobs,
        "jobs_all_finished": db.jobs_finished(jobs),
        "failed_jobs_without_reason": failed_without_reason,
    }
