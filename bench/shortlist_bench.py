"""Shortlist preview and creation on a demo database: the SQL path (`service.build`,
app/shortlists/sql.py) against the specification's path (`service.build_pure`: every
candidate loaded, then `ranking.select`, what the product did before issue 14), each with
its floor: the hand-written top-N query on the read model in the same run.

In-process service calls (no HTTP yet: labelled as such in bench/README.md).

    python -m bench.shortlist_bench --database-url sqlite:///var/demo.db [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app.db import make_engine
from app.permissions import Actor, Role
from app.shortlists import service
from app.shortlists.ranking import Criteria
from bench.paths_sql import PREVIEW_CASES

ADMIN = Actor(id=1, role=Role.admin, region=None)
PREVIEW_ROWS = 20
CASES = PREVIEW_CASES  # the HTTP benchmark's cases
FLOOR = text("SELECT structure_id, global_score FROM latest_result "
             "ORDER BY global_score DESC LIMIT 20")


def _times(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    out.sort()
    return {"median_ms": round(statistics.median(out) * 1000, 1),
            "max_ms": round(out[-1] * 1000, 1)}


def run(url: str, repeat: int) -> dict[str, Any]:
    engine = make_engine(url)
    results: dict[str, Any] = {"database": engine.dialect.name}
    with Session(engine) as session:
        service.build(session, ADMIN, Criteria(size=1))  # read model complete, caches warm
        results["floor: top-20 SQL"] = _times(lambda: session.execute(FLOOR).all(), repeat)
        for name, raw in CASES.items():
            c = Criteria.model_validate(raw)
            sql_rows = [r.candidate.finess for r in service.build(session, ADMIN, c).rows]
            pure_rows = [r.candidate.finess for r in service.build_pure(session, ADMIN, c).rows]
            results[name] = {
                "rows": len(sql_rows), "same_as_pure": sql_rows == pure_rows,
                "pure (before)": _times(lambda c=c: service.build_pure(session, ADMIN, c),
                                        max(1, repeat // 2)),
                "sql preview": _times(lambda c=c: service.build(session, ADMIN, c,
                                                                detail=PREVIEW_ROWS), repeat),
                "sql full": _times(lambda c=c: service.build(session, ADMIN, c), repeat),
            }
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(run(args.database_url, args.repeat), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
