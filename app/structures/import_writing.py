"""Writing the validated rows of a structures import (the rules are `imports.py`'s
docstring): one query loads the existing FINESS -> values map, admins' corrections are kept,
Core `insert()` / `update()` run in batches of BATCH (`search` is the column's default on
insert, set here on update), a full re-import of a region closes
the structures absent from the file."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlmodel import Session, col

from app.dashboard.read_model import refresh_structures
from app.db import utcnow
from app.permissions import can_write_structure
from app.reference import finess_categories, region_of_department
from app.search_text import joined
from app.structures.import_types import (
    COMPARED,
    IMPORTED,
    NOT_APPLIED,
    SKIPPED,
    UPDATED,
    ImportOptions,
    ImportReport,
    Progress,
    category_words,
    department_words,
    region_words,
)
from app.structures.import_validation import Validator
from app.structures.models import Structure, StructureCorrection

BATCH = 1000


def _table() -> Table:
    return cast(Table, Structure.__table__)  # type: ignore[attr-defined]


def _corrections(session: Session) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for sid, name, value in session.execute(select(
            col(StructureCorrection.structure_id), col(StructureCorrection.field),
            col(StructureCorrection.value))).all():
        out.setdefault(sid, {})[name] = value
    return out


def _apply_corrections(values: dict[str, Any], fixed: dict[str, str]) -> list[str]:
    kept: list[str] = []
    if "category_code" in fixed and values["category_code"] != fixed["category_code"]:
        code = fixed["category_code"]
        known = finess_categories().get(code)
        values["category_code"] = code
        values["category_label"] = known.label if known else f"Catégorie {code}"
        kept.append(f"catégorie {category_words(code)}")
    if "department" in fixed and values["department"] != fixed["department"]:
        values["department"] = fixed["department"]
        values["region"] = region_of_department(fixed["department"]) or values["region"]
        kept.append(f"département {department_words(fixed['department'])}")
    return kept


def write_rows(session: Session, validator: Validator, options: ImportOptions,
           report: ImportReport, progress: Progress | None) -> None:
    t = _table()
    existing: dict[str, dict[str, Any]] = {
        row.finess: dict(row._mapping)
        for row in session.execute(select(t.c.id, t.c.finess, t.c.closed,
                                          *(t.c[name] for name in COMPARED)))
    }
    now = utcnow()
    inserts, updates = _decide(session, validator, options, report, existing, now)
    closing = _closing(validator, options, report, existing, now)
    total = len(inserts) + len(updates) + len(closing)
    done = _batches(session, insert(t), inserts, 0, total, progress)
    if updates:
        stmt = update(t).where(t.c.id == bindparam("_id")).values(
            **{name: bindparam(name)
               for name in (*COMPARED, "closed", "search", "updated_at")})
        done = _batches(session, stmt, updates, done, total, progress)
    if closing:
        stmt = update(t).where(t.c.id == bindparam("_id")).values(
            closed=True, updated_at=bindparam("updated_at"))
        _batches(session, stmt, closing, done, total, progress)
    touched: list[int] = [u["_id"] for u in updates] + [c["_id"] for c in closing]
    if touched:  # the dashboards' read model copies region, category, capacity, closed
        refresh_structures(session, touched)


def _decide(session: Session, validator: Validator, options: ImportOptions,
            report: ImportReport, existing: dict[str, dict[str, Any]], now: Any,
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows to insert, rows to update); each planned line's result gets its final status."""
    fixes = _corrections(session)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for plan in validator.planned:
        result = report.lines[plan.index]
        current = existing.get(plan.finess)
        values = dict(plan.values)
        warnings = plan.warnings
        kept = _apply_corrections(values, fixes.get(current["id"], {})) if current else []
        if not _writable(options, current, values):
            result.status, result.reason = SKIPPED, "not_writable"
            result.message = (
                "Structure rattachée à une autre région que la vôtre : non modifiée "
                "(seul un administrateur ou l’ARS de sa région peut la modifier).")
            result.warnings = 0
            continue
        if current is None:
            inserts.append({"finess": plan.finess, **values, "closed": False,
                            "created_at": now, "updated_at": now})
            result.status = IMPORTED
        else:
            if kept:
                warnings = [*warnings, "Correction manuelle conservée : " + ", ".join(kept)
                            + "."]
            changed = [n for n in COMPARED if (current[n] or None) != (values[n] or None)]
            if current["closed"]:
                warnings = [*warnings, "Structure de nouveau présente : rouverte."]
            if changed or current["closed"]:
                updates.append({"_id": current["id"], **values, "closed": False,
                                "search": joined(values["name"], values["city"]),
                                "updated_at": now})
                result.status = UPDATED
            else:
                result.status = SKIPPED
                result.reason = "unchanged"
                warnings = ["Déjà à jour : aucun changement.", *warnings]
        result.message = " ".join(warnings)
        result.warnings = len([w for w in warnings if not w.startswith("Déjà à jour")])
    return inserts, updates


def _closing(validator: Validator, options: ImportOptions, report: ImportReport,
             existing: dict[str, dict[str, Any]], now: Any) -> list[dict[str, Any]]:
    """The open structures of a fully re-imported region absent from the file."""
    closing: list[dict[str, Any]] = []
    if not options.close_missing or options.region is None:
        return closing
    if validator.in_region == 0:
        report.notes.append(
            f"Aucune ligne de la région {region_words(options.region)} dans le fichier : aucune "
            "structure n’a été marquée fermée (mauvais fichier ?).")
        return closing
    for number, current in existing.items():
        if (current["region"] == options.region and not current["closed"]
                and number not in validator.seen
                and _writable(options, current, current)):
            closing.append({"_id": current["id"], "updated_at": now})
            report.closed.append(number)
    report.closed.sort()
    return closing


def _batches(session: Session, stmt: Any, rows: list[dict[str, Any]], done: int, total: int,
             progress: Progress | None) -> int:
    """Execute `stmt` over `rows` in chunks of BATCH; returns the rows done so far."""
    for i in range(0, len(rows), BATCH):
        chunk = rows[i:i + BATCH]
        session.execute(stmt, chunk, execution_options={"synchronize_session": False})
        done += len(chunk)
        if progress:
            progress("writing", done, total)
    return done


def _writable(options: ImportOptions, current: dict[str, Any] | None,
              values: dict[str, Any]) -> bool:
    """May the importing actor write this line (the command line may write anything)?"""
    if options.actor is None:
        return True
    return can_write_structure(options.actor, current["region"] if current else None,
                               values["region"])


def mark_not_applied(validator: Validator, report: ImportReport) -> None:
    for plan in validator.planned:
        result = report.lines[plan.index]
        result.status = SKIPPED
        result.reason = "not_applied"
        result.message = " ".join([NOT_APPLIED, *plan.warnings])
        result.warnings = len(plan.warnings)
