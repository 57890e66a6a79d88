"""An admin corrects a structure's category, capacity or department (audited).

A corrected category or department is pinned (StructureCorrection): later imports keep it
rather than the file's value, and say so in their report. Capacity is never imported (the
extraction has none), so it needs no pin. Removing a pin lets the next import set the
file's value again.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from app.audit import record
from app.dashboard.read_model import refresh_structures
from app.db import begin_write, utcnow
from app.errors import Forbidden, InvalidFields, NotFound
from app.forms import FormModel
from app.numbers_fr import NumberError, number_fr, parse_integer_fr
from app.permissions import Action, Actor, can, can_write_structure
from app.reference import departments, finess_categories, region_of_department
from app.structures.finess import normalize
from app.structures.models import Structure, StructureCorrection

PINNED = ("category_code", "department")
MAX_CAPACITY = 100_000


class InvalidCorrection(InvalidFields):
    message = "La correction n’a pas été enregistrée : corrigez les champs signalés."


class CorrectionForm(FormModel):
    category_code: str = ""
    capacity: str = ""
    department: str = ""

    @classmethod
    def of(cls, s: Structure) -> CorrectionForm:
        return cls(category_code=s.category_code,
                   capacity="" if s.capacity is None else str(s.capacity),
                   department=s.department)


def _check(actor: Actor | None) -> Actor:
    if actor is None or not can(actor, Action.correct_structure):
        raise Forbidden()
    return actor


def get_structure(session: Session, actor: Actor | None, finess: str) -> Structure:
    _check(actor)
    structure = session.exec(select(Structure).where(
        col(Structure.finess) == normalize(finess))).first()
    if structure is None:
        raise NotFound("Aucune structure de ce numéro FINESS.")
    return structure


def pins(session: Session, structure: Structure) -> dict[str, StructureCorrection]:
    return {c.field: c for c in session.exec(select(StructureCorrection).where(
        StructureCorrection.structure_id == structure.id)).all()}


def _snapshot(s: Structure) -> dict[str, Any]:
    return {"category_code": s.category_code, "category_label": s.category_label,
            "capacity": s.capacity, "department": s.department, "region": s.region}


def correct(session: Session, actor: Actor | None, finess: str, data: CorrectionForm,
            ip: str | None = None) -> list[str]:
    """Apply the correction; returns the names of the fields changed (maybe none)."""
    actor = _check(actor)
    errors: dict[str, str] = {}
    category = data.category_code.strip()
    known = finess_categories().get(category)
    if known is None:
        errors["category_code"] = "Choisissez une catégorie FINESS de la liste."
    department = data.department.strip().upper()
    if department not in departments():
        errors["department"] = "Choisissez un département de la liste."
    capacity: int | None = None
    try:
        capacity = parse_integer_fr(data.capacity)
    except NumberError:
        errors["capacity"] = "Indiquez un nombre entier de places, par exemple 80."
    if capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = f"Indiquez un nombre de places entre 0 et {number_fr(MAX_CAPACITY)}."
    if errors:
        raise InvalidCorrection(errors)
    assert known is not None

    begin_write(session)
    structure = get_structure(session, actor, finess)
    if not can_write_structure(actor, structure.region,
                               region_of_department(department) or structure.region):
        session.rollback()
        raise NotFound("Aucune structure de ce numéro FINESS.")
    before = _snapshot(structure)
    structure.category_code, structure.category_label = category, known.label
    structure.capacity = capacity
    structure.department = department
    structure.region = region_of_department(department) or structure.region
    after = _snapshot(structure)
    changed = [k for k in ("category_code", "capacity", "department") if before[k] != after[k]]
    if not changed:
        session.rollback()
        return []
    structure.updated_at = utcnow()
    session.add(structure)
    existing = pins(session, structure)
    assert structure.id is not None
    for name in PINNED:
        if name in changed:
            pin = existing.get(name) or StructureCorrection(structure_id=structure.id,
                                                            field=name, value="")
            pin.value = str(after[name])
            pin.corrected_by = actor.id
            pin.corrected_at = utcnow()
            session.add(pin)
    record(session, actor, "structure_corrected", "structure", structure.id,
           {"finess": structure.finess, "fields": changed, "before": before, "after": after},
           ip=ip)
    session.flush()
    refresh_structures(session, [structure.id])  # the dashboards copy these fields
    session.commit()
    return changed


def unpin(session: Session, actor: Actor | None, finess: str, name: str,
          ip: str | None = None) -> None:
    """Forget a pinned correction: the next import sets the file's value again."""
    actor = _check(actor)
    begin_write(session)
    structure = get_structure(session, actor, finess)
    if not can_write_structure(actor, structure.region, structure.region):
        session.rollback()
        raise NotFound("Aucune structure de ce numéro FINESS.")
    pin = pins(session, structure).get(name)
    if pin is None:
        raise NotFound()
    session.delete(pin)
    record(session, actor, "structure_correction_removed", "structure", structure.id,
           {"finess": structure.finess, "field": name, "value": pin.value}, ip=ip)
    session.commit()
