"""Load and validate questionnaire files; report every error as FILE:LINE:COL: message."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from scoring.errors import Loc, QuestionnaireError, SourceError
from scoring.model import Catalogue, Questionnaire
from scoring.plan import compile_plan
from scoring.schema import CATALOGUE_FILE
from scoring.validation import check_catalogue_ids, validate_catalogue, validate_data
from scoring.yamlsrc import LMap, load_located

M = TypeVar("M", bound=BaseModel)


def _load(text: str, file: str) -> tuple[Any, Loc]:
    """The parsed, non-empty YAML document and its root location, else QuestionnaireError."""
    data, root, errors = load_located(text, file)
    if errors:
        raise QuestionnaireError(errors)
    if data is None:
        raise QuestionnaireError([SourceError(file, 1, 1, "le fichier est vide")])
    return data, root


def _validated(model: type[M], data: LMap, file: str, what: str) -> M:
    """`data` as a `model` (the checker ran first, so this should not fail)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:  # pragma: no cover - the checker should catch all of it
        raise QuestionnaireError([SourceError(file, 1, 1, f"{what} invalide : {exc}")]) \
            from None


def _build(data: LMap, file: str) -> Questionnaire:
    q = _validated(Questionnaire, data, file, "questionnaire")
    q._source = file
    line, col = data.val_loc["id"]
    q._id_line = (line, col)
    q._plan = compile_plan(q)
    return q


def parse_questionnaire(text: str, file: str = "<questionnaire>",
                        catalogue: Catalogue | None = None) -> Questionnaire:
    """Validate and compile a questionnaire from YAML text.

    With a `catalogue`, every funding id must be one of its programmes; without one (tests,
    tools) funding ids are not checked against any catalogue.
    """
    cfile = (catalogue.source or CATALOGUE_FILE) if catalogue is not None else ""
    return _parse(text, file, catalogue, cfile, check=catalogue is not None)


def _parse(text: str, file: str, catalogue: Catalogue | None, cfile: str, *, check: bool,
           catalogue_errors: list[SourceError] | None = None) -> Questionnaire:
    data, root = _load(text, file)
    errors = validate_data(data, root, file)
    if check and isinstance(data, LMap):
        id_errors = check_catalogue_ids(data, file, catalogue, cfile)
        if id_errors:
            errors += id_errors + (catalogue_errors or [])
    if errors:
        raise QuestionnaireError(errors)
    q = _build(data, file)
    q._catalogue = catalogue
    return q


def parse_catalogue(text: str, file: str = CATALOGUE_FILE) -> Catalogue:
    """Validate the programme catalogue from YAML text."""
    data, root = _load(text, file)
    errors = validate_catalogue(data, root, file)
    if errors:
        raise QuestionnaireError(errors)
    catalogue = _validated(Catalogue, data, file, "catalogue")
    catalogue._source = file
    return catalogue


def load_catalogue(path: str | Path) -> Catalogue:
    """Load programmes.yaml; raise QuestionnaireError listing every FILE:LINE:COL: message."""
    path = Path(path)
    return parse_catalogue(_read(path), str(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError([SourceError(str(path), 1, 1, f"lecture impossible : {exc}")]) \
            from None


CatalogueState = tuple[Catalogue | None, str, list[SourceError]]


def catalogue_beside(path: str | Path) -> CatalogueState:
    """The catalogue of the folder holding `path`: (catalogue or None, its file, its errors)."""
    cpath = Path(path).parent / CATALOGUE_FILE
    if not cpath.is_file():
        return None, str(cpath), []
    try:
        return load_catalogue(cpath), str(cpath), []
    except QuestionnaireError as exc:
        return None, str(cpath), exc.errors


def load_questionnaire(path: str | Path, catalogue: Catalogue | None = None) -> Questionnaire:
    """Load one file; raise QuestionnaireError listing every FILE:LINE:COL: message.

    Its funding ids are checked against `catalogue`, by default the programmes.yaml of the
    file's folder (a missing or invalid catalogue refuses a questionnaire that has funding).
    """
    path = Path(path)
    if catalogue is None:
        state = catalogue_beside(path)
    else:
        state = (catalogue, catalogue.source or CATALOGUE_FILE, [])
    return _load_one(path, state, with_catalogue_errors=True)


def _load_one(path: Path, state: CatalogueState, *, with_catalogue_errors: bool
              ) -> Questionnaire:
    file = str(path)
    catalogue, cfile, cerrors = state
    q = _parse(_read(path), file, catalogue, cfile, check=True,
               catalogue_errors=cerrors if with_catalogue_errors else None)
    expected = f"{q.id}-{q.version}"
    if path.stem != expected:
        line, col = q._id_line
        raise QuestionnaireError([SourceError(
            file, line, col,
            f"le fichier doit s'appeler « {expected}{path.suffix} » (un fichier par id et version)",
        )])
    return q


def load_questionnaires(
    paths: Iterable[str | Path], catalogue: Catalogue | None = None,
) -> tuple[list[Questionnaire], list[QuestionnaireError]]:
    """Load several files: (valid questionnaires, one error per refused file).

    Two files with the same (id, version) are both refused. Each folder's programmes.yaml
    (or `catalogue`) is loaded once; an invalid catalogue is one refused entry of its own,
    and a path naming a programmes.yaml is checked as a catalogue.
    """
    loaded: list[Questionnaire] = []
    refused: list[QuestionnaireError] = []
    states: dict[Path, CatalogueState] = {}

    def state_of(path: Path) -> CatalogueState:
        if catalogue is not None:
            return (catalogue, catalogue.source or CATALOGUE_FILE, [])
        folder = path.resolve().parent
        if folder not in states:
            states[folder] = catalogue_beside(path)
            if states[folder][2]:
                refused.append(QuestionnaireError(states[folder][2]))
        return states[folder]

    for raw in paths:
        path = Path(raw)
        if path.name == CATALOGUE_FILE:
            state_of(path)
            continue
        try:
            loaded.append(_load_one(path, state_of(path), with_catalogue_errors=False))
        except QuestionnaireError as exc:
            refused.append(exc)
    by_key: dict[tuple[str, str], list[Questionnaire]] = {}
    for q in loaded:
        by_key.setdefault(q.key, []).append(q)
    keep: list[Questionnaire] = []
    for key, group in by_key.items():
        if len(group) == 1:
            keep.append(group[0])
            continue
        names = ", ".join(str(q.source) for q in group)
        for q in group:
            line, col = q._id_line
            refused.append(QuestionnaireError([SourceError(
                str(q.source), line, col,
                f"(id, version) {key} défini dans plusieurs fichiers : {names}",
            )]))
    return keep, refused


def questionnaire_files(directory: str | Path) -> list[Path]:
    """The questionnaire files of a directory (*.yaml, *.yml but programmes.yaml), by name."""
    d = Path(directory)
    return sorted(p for p in [*d.glob("*.yaml"), *d.glob("*.yml")] if p.name != CATALOGUE_FILE)
