"""Exports at national scale: a 40,000-row shortlist as CSV and XLSX, the next-steps sheet, and
the ARS's full-answers export (one row per structure, every question).

Rows are generated (fixed seed) in the shape the product stores: frozen shortlist rows
(`ranking.frozen_row`), next steps as in a result snapshot, answers of the real questionnaire
(`scoring.generate.generate_answers`). The files are written by the product's own functions
(`exports.csv_chunks`, `exports.write_shortlist_xlsx`, `exports.write_table_xlsx`) to memory.

    python -m bench.export_bench [--rows 40000] [--database-url sqlite:///var/demo40k.db]

With `--database-url` (a `palier demo --structures 40000` database, migrated), it also
builds a national shortlist through the service and exports it with the next steps read
from the stored results, and exports a region's full answers (`run_database`).

Targets (issue 5): shortlist CSV <= 2 s; XLSX with the shortlist, criteria and domain-score
sheets <= 10 s; next-steps sheet and full-answers export measured and reported.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.shortlists import exports, next_steps
from scoring import load_questionnaire
from scoring.generate import generate_answers

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRE = ROOT / "questionnaires" / "esms-maturite-numerique-2026.1.yaml"
DOMAINS = [
    "equipement",
    "dui",
    "services_socles",
    "coordination",
    "gouvernance",
    "securite",
    "competences",
]


@dataclass
class FakeShortlist:
    id: int
    name: str
    hash: str
    created_at: datetime
    criteria: dict[str, Any]
    questionnaire_versions: list[str]
    rows: list[dict[str, Any]]
    excluded: dict[str, int]


def shortlist_rows(n: int, rng: random.Random) -> list[dict[str, Any]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        score = round(rng.uniform(0, 100), 6)
        rows.append(
            {
                "rank": i + 1,
                "eligible_rank": i + 1,
                "finess": f"{690000000 + i:09d}",
                "name": f"EHPAD Résidence {i}" if i % 97 else f"=Structure {i}",
                "structure_id": i + 1,
                "assessment_id": i + 1,
                "questionnaire": "esms-maturite-numerique@2026.1",
                "submitted_at": (start + timedelta(minutes=i)).isoformat(),
                "region": "84",
                "department": rng.choice(["01", "38", "69", "73"]),
                "category": "500",
                "sector": "personnes_agees",
                "capacity": rng.randint(10, 300),
                "size_band": "40-99",
                "tier": rng.randint(0, 4),
                "global_score": score,
                "domain_scores": {d: round(rng.uniform(0, 100), 6) for d in DOMAINS},
                "readiness": rng.randint(0, 8),
                "funding": ["esms-numerique"],
                "review_status": "non_revue",
                "key": score,
                "group": "69",
                "rule": "rank",
            }
        )
    return rows


def steps_for(rng: random.Random) -> list[next_steps.Step]:
    return next_steps.parse(
        [
            {
                "requirement": f"r{k}",
                "tier": 3,
                "label": "INS qualifiée pour les usagers",
                "title": f"Qualifier les identités avec le téléservice INSi ({k})",
                "effort": "moyen",
                "funding": ["esms-numerique"],
            }
            for k in range(rng.randint(2, 8))
        ],
        [],
    )


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run(rows: int = 40_000, repeat: int = 2) -> dict[str, Any]:
    rng = random.Random(2026)
    data = shortlist_rows(rows, rng)
    criteria = {
        "region": "84",
        "departments": [],
        "categories": [],
        "size_bands": [],
        "tiers": None,
        "eligible_for": None,
        "review_status": [],
        "submitted_after": None,
        "rank_by": "global",
        "order": "desc",
        "size": rows,
        "quotas": [],
    }
    s = FakeShortlist(
        1,
        "Bench",
        "0" * 64,
        datetime(2026, 11, 27, tzinfo=UTC),
        criteria,
        ["esms-maturite-numerique@2026.1"],
        data,
        {"no_submission": 12},
    )
    labels = {d: d for d in DOMAINS}
    steps = {r["assessment_id"]: steps_for(rng) for r in data}

    def csv_file() -> int:
        return sum(
            len(c)
            for c in exports.csv_chunks(
                exports.shortlist_header(criteria),
                (exports.shortlist_values(r, criteria) for r in data),
                ";",
            )
        )

    def xlsx(with_steps: bool) -> int:
        buffer = io.BytesIO()
        exports.write_shortlist_xlsx(
            buffer,
            s,
            author="Bench",
            domain_labels=labels,
            domain_order=DOMAINS,
            funding_labels={"esms-numerique": "Programme ESMS numérique"},
            exported_at="2026-11-27T00:00:00+00:00",
            next_steps=(lambda: ((r, steps[r["assessment_id"]]) for r in data))
            if with_steps
            else None,
        )
        return len(buffer.getvalue())

    q = load_questionnaire(QUESTIONNAIRE)
    answer_rng = random.Random(7)
    answers = [generate_answers(q, answer_rng) for _ in range(min(rows, 2000))]
    questions = list(q.questions)
    header = ["FINESS", "Nom", *questions]

    def answer_rows() -> Any:
        for i in range(rows):
            a = answers[i % len(answers)]
            yield [
                f"{690000000 + i:09d}",
                f"Structure {i}",
                *(
                    " | ".join(v) if isinstance(v, list) else v
                    for v in (a.get(k) for k in questions)
                ),
            ]

    def answers_csv() -> int:
        return sum(len(c) for c in exports.csv_chunks(header, answer_rows(), ","))

    def answers_xlsx() -> int:
        buffer = io.BytesIO()
        exports.write_table_xlsx(buffer, [("Évaluations", header, answer_rows())])
        return len(buffer.getvalue())

    out: dict[str, Any] = {"rows": rows}
    for name, fn, times in [
        ("shortlist_csv", csv_file, repeat),
        ("shortlist_xlsx", lambda: xlsx(False), repeat),
        ("shortlist_xlsx_with_next_steps", lambda: xlsx(True), 1),
        ("answers_csv", answers_csv, 1),
        ("answers_xlsx", answers_xlsx, 1),
    ]:
        seconds, size = timed(fn, times)
        out[name] = {"seconds": round(seconds, 2), "bytes": size}
    out["next_steps_rows"] = sum(len(v) for v in steps.values())
    out["questions"] = len(questions)
    return out


def run_database(url: str, region: str = "11") -> dict[str, Any]:
    """On a `palier demo --structures 40000` database: build a national shortlist of every
    eligible structure (cold: facts extracted from the snapshots; warm: from the cache),
    export it as CSV and XLSX with next steps read from the stored results, and export one
    region's full answers."""
    from sqlmodel import Session

    from app.db import make_engine
    from app.permissions import Actor, Role
    from app.questionnaires import Registry
    from app.shortlists import export_service, region_export
    from app.shortlists import service as shortlists
    from app.shortlists.models import Shortlist
    from app.shortlists.ranking import Criteria

    registry = Registry.load(ROOT / "questionnaires")
    national = Actor(id=0, role=Role.committee, region=None)
    admin = Actor(id=0, role=Role.admin)
    out: dict[str, Any] = {"database": url.split("://")[0]}
    with Session(make_engine(url)) as session:
        criteria = Criteria(size=100_000)
        for label in ("build_cold_or_cached", "build_warm"):
            t = time.perf_counter()
            frozen = shortlists.freeze(shortlists.build(session, national, criteria), criteria)
            out[label] = {"seconds": round(time.perf_counter() - t, 2), "rows": len(frozen.rows)}
        s = Shortlist(
            id=0,
            name="Bench",
            author_id=None,
            region=None,
            criteria=frozen.criteria,
            questionnaire_versions=frozen.versions,
            rows=frozen.rows,
            excluded=frozen.excluded,
            hash=frozen.hash,
            created_at=datetime.now(UTC),
        )
        seconds, size = timed(
            lambda: sum(len(c) for c in export_service.shortlist_csv(s, registry, ";")), 1
        )
        out["shortlist_csv"] = {"seconds": round(seconds, 2), "bytes": size}
        for label, steps in (("shortlist_xlsx", False), ("shortlist_xlsx_with_next_steps", True)):
            buffer = io.BytesIO()
            t = time.perf_counter()
            export_service.shortlist_xlsx(session, s, registry, buffer, with_next_steps=steps)
            out[label] = {
                "seconds": round(time.perf_counter() - t, 2),
                "bytes": len(buffer.getvalue()),
            }
        t = time.perf_counter()
        table = region_export.region_table(session, admin, registry, region)
        size = sum(len(c) for c in exports.csv_chunks(table.header, table.rows))
        out[f"region_{region}_answers_csv"] = {
            "seconds": round(time.perf_counter() - t, 2),
            "rows": table.total,
            "bytes": size,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--database-url", help="also measure on a demo database")
    args = parser.parse_args()
    result: dict[str, Any] = {"generated": run(args.rows)}
    if args.database_url:
        result["database"] = run_database(args.database_url)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
