"""An admin adds a structure by typing its FINESS number (audited).

The one place where a person types a FINESS number for a new structure (see domain.md): a
malformed number is refused; a bad check digit is a warning the admin must confirm
(`confirm`); the department must match the one the number encodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app import textcheck
from app.audit import record
from app.dashboard.read_model import refresh_structures
from app.db import begin_write
from app.errors import Forbidden, Unprocessable
from app.numbers_fr import NumberError, number_fr, parse_integer_fr
from app.permissions import Action, Actor, can, can_write_structure
from app.reference import Category, departments, finess_categories, region_of_department
from app.structures.corrections import MAX_CAPACITY
from app.structures.finess import FinessCheck, department_of, normalize, validate
from app.structures.models import Structure

MAX_NAME = 200
MAX_CITY = 100


class InvalidStructure(Unprocessable):
    """The form has errors, or a warning to confirm: nothing was created."""

    message = "La structure n’a pas été créée : corrigez les champs signalés."

    def __init__(self, form: NewStructureForm) -> None:
        super().__init__()
        self.form = form


@dataclass(slots=True)
class NewStructureForm:
    finess: str = ""
    finess_ej: str = ""
    name: str = ""
    category_code: str = ""
    department: str = ""
    city: str = ""
    capacity: str = ""
    # The number the admin confirmed despite a wrong check digit (the checkbox's value is the
    # number that was warned about, so a confirmation never covers another number).
    confirmed: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    # the structure already holding this FINESS ET (its correction page is linked)
    existing: str | None = None


def _check(actor: Actor | None) -> Actor:
    if actor is None or not can(actor, Action.correct_structure):
        raise Forbidden()
    return actor


def _capacity(raw: str, errors: dict[str, str]) -> int | None:
    try:
        value = parse_integer_fr(raw)
    except NumberError:
        errors["capacity"] = "Indiquez un nombre entier de places, par exemple 80."
        return None
    if value is not None and not 0 <= value <= MAX_CAPACITY:
        errors["capacity"] = f"Indiquez un nombre de places entre 0 et {number_fr(MAX_CAPACITY)}."
    return value


def _check_fields(form: NewStructureForm, errors: dict[str, str], warnings: dict[str, str]
                  ) -> tuple[FinessCheck, str | None, Category | None, int | None]:
    """Check and normalise the typed fields (no database): the FINESS check, the EJ number,
    the category and the capacity; the name, department and city are normalised in `form`."""
    check = validate(form.finess)
    form.finess = check.number
    if check.errors:
        errors["finess"] = check.errors[0]
    elif check.warnings and normalize(form.confirmed) != check.number:
        warnings["finess"] = check.warnings[0]

    finess_ej: str | None = None
    if form.finess_ej.strip():
        ej = validate(form.finess_ej)
        form.finess_ej = ej.number
        if ej.errors:
            errors["finess_ej"] = ej.errors[0]
        else:
            finess_ej = ej.number  # a bad EJ check digit is not worth a confirmation

    name = " ".join(form.name.split())
    form.name = name
    if not name:
        errors["name"] = "Saisissez le nom de la structure."
    elif (bad := textcheck.problem(name, MAX_NAME)) is not None:
        errors["name"] = f"Nom : {bad}."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Le nom ne doit pas dépasser {MAX_NAME} caractères."

    category = finess_categories().get(form.category_code.strip())
    if category is None:
        errors["category_code"] = "Choisissez une catégorie FINESS de la liste."

    department = form.department.strip().upper()
    form.department = department
    if department not in departments():
        errors["department"] = "Choisissez un département de la liste."
    elif "finess" not in errors:
        encoded = department_of(check.number)
        if encoded is not None and encoded != department:
            name_of = departments()[encoded].name
            errors["department"] = (
                f"Le numéro FINESS est celui d’une structure du département {encoded} "
                f"({name_of}) : choisissez ce département ou vérifiez le numéro.")

    city = " ".join(form.city.split())
    form.city = city
    if len(city) > MAX_CITY:
        errors["city"] = f"La commune ne doit pas dépasser {MAX_CITY} caractères."
    capacity = _capacity(form.capacity, errors)
    return check, finess_ej, category, capacity


def create(session: Session, actor: Actor | None, form: NewStructureForm,
           ip: str | None = None) -> Structure:
    """Create the structure and commit; raise InvalidStructure (form with its errors and
    warnings, normalised values) when it cannot be created as typed."""
    actor = _check(actor)
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    check, finess_ej, category, capacity = _check_fields(form, errors, warnings)
    name, department, city = form.name, form.department, form.city

    if "finess" not in errors:
        begin_write(session)
        existing = session.exec(select(Structure).where(
            col(Structure.finess) == check.number)).first()
        if existing is not None:
            errors["finess"] = (f"Une structure porte déjà ce numéro FINESS : "
                                f"{existing.name}.")
            form.existing = existing.finess
            warnings.pop("finess", None)

    if not errors and not can_write_structure(actor, None,
                                              region_of_department(department) or ""):
        errors["department"] = ("Vous ne pouvez créer une structure que dans votre région : "
                                "choisissez un département de votre région.")
    if errors or warnings:
        form.errors, form.warnings = errors, warnings
        session.rollback()
        raise InvalidStructure(form)
    assert category is not None

    structure = Structure(
        finess=check.number, finess_ej=finess_ej, name=name,
        category_code=category.code, category_label=category.label,
        department=department, region=region_of_department(department) or "",
        city=city or None, capacity=capacity)
    session.add(structure)
    session.flush()
    assert structure.id is not None
    record(session, actor, "structure_created", "structure", structure.id,
           {"finess": structure.finess, "finess_ej": finess_ej, "name": name,
            "category_code": category.code, "department": department,
            "region": structure.region, "city": structure.city, "capacity": capacity,
            "check_digit_confirmed": bool(check.warnings)}, ip=ip)
    refresh_structures(session, [structure.id])  # the dashboards list every structure
    session.commit()
    return structure
