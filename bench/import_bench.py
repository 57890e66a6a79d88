"""Structures import benchmark: a generated etalab file of N lines (default 100,000) into an
empty database, then the same file again with 10 % of the names changed (update path).

    .venv/bin/python -m bench.import_bench [--lines N] [--database-url URL]

Default database: a new SQLite file in a temp dir (migrated first). With a PostgreSQL URL,
the database must exist and be empty of structures (it is migrated, then the structures the
benchmark inserted are deleted at the end). Prints JSON. Not run by the tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session

from app.audit import AuditEvent
from app.cli.db import upgrade_database
from app.db import make_engine
from app.reference import departments, finess_categories
from app.structures import imports as service
from app.structures.adapters import EtalabCsvAdapter
from app.structures.finess import luhn_check_digit
from app.structures.models import ImportJob, Structure

HEADER = "finess;etalab;100;2026-11-01"
NON_ESMS = ("355", "620", "124")  # a hospital, a pharmacy, a health centre: skipped


def _number(department: str, serial: int) -> str:
    prefix = "970" + department[2] if len(department) == 3 else department
    width = 8 - len(prefix)
    body = f"{prefix}{serial % 10**width:0{width}d}"
    return body + luhn_check_digit(body)


def generate(path: Path, lines: int, seed: int = 2026, rename_every: int = 0,
             serial_base: int = 100_000) -> None:
    """`lines` structureet lines (≈ 90 % ESMS), Latin-1, like the official extraction.

    Numbers use serials from `serial_base` (overseas numbers have 5 digits of serial: keep
    `serial_base + lines / 101` under 100,000 to stay clear of small serials)."""
    rng = random.Random(seed)
    codes = sorted(departments())
    esms = sorted(finess_categories())
    out = [HEADER]
    for i in range(lines):
        department = codes[i % len(codes)]
        number = _number(department, serial_base + i)
        ej = _number(department, 900_000 + i // 5)
        category = rng.choice(NON_ESMS) if rng.random() < 0.1 else rng.choice(esms)
        name = f"ÉTABLISSEMENT N° {i}"
        if rename_every and i % rename_every == 0:
            name += " (RENOMMÉ)"
        file_department = {"971": "9A", "973": "9C"}.get(department, department)
        fields = [""] * 32
        fields[0], fields[1], fields[2], fields[3] = "structureet", number, ej, name
        fields[12], fields[13], fields[15] = "001", file_department, "01000 VILLE"
        fields[18], fields[19] = category, f"Catégorie {category}"
        out.append(";".join(fields))
    path.write_bytes(("\n".join(out) + "\n").encode("latin-1"))


def _timed_import(url: str, path: Path) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            options = service.ImportOptions(categories=frozenset(finess_categories()))
            started = time.perf_counter()
            job = service.create_job(session, filename=path.name, options=options,
                                     user_id=None)
            report = service.run_import(session, job, EtalabCsvAdapter.from_path(path), options)
            seconds = time.perf_counter() - started
            count = session.execute(select(func.count()).select_from(Structure)).scalar_one()
    finally:
        engine.dispose()
    return {"seconds": round(seconds, 2), "summary": report.summary_line(),
            "lines_per_second": round(len(report.lines) / seconds), "structures": count}


def _cleanup(url: str) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            session.execute(delete(ImportJob))
            session.execute(delete(AuditEvent).where(
                AuditEvent.action == "structures_imported"))  # type: ignore[arg-type]
            session.execute(delete(Structure))
            session.commit()
    finally:
        engine.dispose()


def run(lines: int = 100_000, database_url: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url = database_url or f"sqlite:///{directory / 'bench.db'}"
        upgrade_database(url)
        first, second = directory / "finess-v1.csv", directory / "finess-v2.csv"
        t = time.perf_counter()
        generate(first, lines)
        generate(second, lines, rename_every=10)
        generated = time.perf_counter() - t
        try:
            fresh = _timed_import(url, first)
            again = _timed_import(url, second)
        finally:
            if database_url:
                _cleanup(url)
        return {
            "machine": f"{platform.machine()}, {platform.python_implementation()} "
                       f"{platform.python_version()}",
            "backend": url.split(":", 1)[0],
            "lines": lines,
            "file_mb": round(first.stat().st_size / 1e6, 1),
            "generate_seconds": round(generated, 2),
            "fresh_import": fresh,
            "reimport_10pct_changed": again,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.lines, args.database_url), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
