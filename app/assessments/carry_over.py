"""Carrying a draft's answers over to a newer questionnaire version with a migration map
(`questionnaires/migrations/<id>-<from>-to-<to>.yaml`, semantics in its header comment).

Pure: reads map files and answer dicts, never the database. The service
(`assessments.service.carry_over_draft`) decides when a draft moves and writes it.

    maps, errors = load_maps(Path("questionnaires/migrations"))
    out = migrate({"medicalise": "non", "ror": "non"}, maps[("esms-maturite-numerique", "2026.1")])
    out.answers   == {"medicalisation": "non"}
    out.moved     == [Moved("medicalise", "medicalisation", "non", "non")]
    out.ask_again == ["ror"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scoring import Questionnaire, validate_answers

MIGRATIONS_DIR = "migrations"
ACTIONS = ("kept", "renamed", "removed")


class MigrationMapError(ValueError):
    """A map file that cannot be read or does not fit its two questionnaire versions."""


@dataclass(frozen=True)
class Rule:
    action: str  # kept, renamed, removed
    to: str | None = None  # the new id of a renamed question
    values: Mapping[str, str | None] = field(default_factory=dict)  # old option -> new/None
    note: str | None = None  # what the director is told when this answer moves or is dropped

    def target(self, qid: str) -> str | None:
        if self.action == "removed":
            return None
        return self.to if self.action == "renamed" else qid


@dataclass(frozen=True)
class MigrationMap:
    questionnaire_id: str
    from_version: str
    to_version: str
    added: tuple[str, ...]
    questions: Mapping[str, Rule]
    source: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.questionnaire_id, self.from_version)


@dataclass(frozen=True)
class Moved:
    """An answer carried over under another id or with another value."""

    question: str  # old id
    to: str  # new id
    old: Any
    new: Any


@dataclass
class CarriedOver:
    answers: dict[str, Any]  # the answers in the new version
    kept: list[str] = field(default_factory=list)  # same id, same value
    moved: list[Moved] = field(default_factory=list)  # renamed, or a value mapped
    ask_again: list[str] = field(default_factory=list)  # new ids whose answer was dropped
    removed: list[str] = field(default_factory=list)  # old ids with no counterpart
    added: list[str] = field(default_factory=list)  # new questions with no old counterpart
    notes: dict[str, str] = field(default_factory=dict)  # new id -> note of its rule


# ---- reading maps ---------------------------------------------------------------------------


def _ref(doc: Any, key: str, where: str) -> tuple[str, str]:
    ref = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(ref, dict) or not ref.get("id") or not ref.get("version"):
        raise MigrationMapError(f"{where}: « {key} » doit donner id et version")
    return str(ref["id"]), str(ref["version"])


def parse_map(doc: Any, source: str = "<map>") -> MigrationMap:
    from_id, from_version = _ref(doc, "from", source)
    to_id, to_version = _ref(doc, "to", source)
    if from_id != to_id:
        raise MigrationMapError(f"{source}: « from » et « to » doivent nommer le même "
                                "questionnaire")
    questions = doc.get("questions")
    if not isinstance(questions, dict) or not questions:
        raise MigrationMapError(f"{source}: « questions » manquant")
    rules: dict[str, Rule] = {}
    for qid, raw in questions.items():
        if not isinstance(raw, dict) or raw.get("action") not in ACTIONS:
            raise MigrationMapError(f"{source}: {qid}: « action » doit être l'une de "
                                    + ", ".join(ACTIONS))
        if raw["action"] == "renamed" and not raw.get("to"):
            raise MigrationMapError(f"{source}: {qid}: « to » manquant")
        values = raw.get("values") or {}
        if not isinstance(values, dict):
            raise MigrationMapError(f"{source}: {qid}: « values » doit être un dictionnaire")
        rules[str(qid)] = Rule(
            raw["action"], str(raw["to"]) if raw.get("to") else None,
            {str(k): (None if v is None else str(v)) for k, v in values.items()},
            str(raw["note"]).strip() if raw.get("note") else None)
    added = doc.get("added") or []
    if not isinstance(added, list):
        raise MigrationMapError(f"{source}: « added » doit être une liste")
    return MigrationMap(from_id, from_version, to_version, tuple(str(a) for a in added),
                        rules, source)


def load_map(path: Path) -> MigrationMap:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MigrationMapError(f"{path.name}: illisible ({exc})") from exc
    return parse_map(doc, path.name)


def load_maps(directory: Path) -> tuple[dict[tuple[str, str], MigrationMap], list[str]]:
    """Every map of `directory` by (questionnaire id, from version), and the errors of the
    files refused."""
    maps: dict[tuple[str, str], MigrationMap] = {}
    errors: list[str] = []
    if not directory.is_dir():
        return maps, errors
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            m = load_map(path)
        except MigrationMapError as exc:
            errors.append(str(exc))
            continue
        maps[m.key] = m
    return maps, errors


def check_map(m: MigrationMap, old: Questionnaire, new: Questionnaire) -> list[str]:
    """What does not fit: an old question not listed, a target or option that does not
    exist, an added question that is not new."""
    where = m.source or "map"
    errors = [f"{where}: la question {qid} de {old.version} n'est pas décrite"
              for qid in old.questions if qid not in m.questions]
    for qid, rule in m.questions.items():
        if qid not in old.questions:
            errors.append(f"{where}: {qid} n'existe pas en {old.version}")
            continue
        target = rule.target(qid)
        if target is None:
            continue
        if target not in new.questions:
            errors.append(f"{where}: {qid} → {target} n'existe pas en {new.version}")
            continue
        old_options = {o.value for o in old.questions[qid].options or []}
        new_options = {o.value for o in new.questions[target].options or []}
        for before, after in rule.values.items():
            if before not in old_options:
                errors.append(f"{where}: {qid}: l'option {before} n'existe pas en "
                              f"{old.version}")
            if after is not None and after not in new_options:
                errors.append(f"{where}: {qid}: l'option {after} n'existe pas en "
                              f"{new.version}")
    errors += [f"{where}: {qid} (ajoutée) n'existe pas en {new.version}"
               for qid in m.added if qid not in new.questions]
    return errors


# ---- carrying answers over ------------------------------------------------------------------


def migrate(answers: Mapping[str, Any], m: MigrationMap,
            new: Questionnaire | None = None) -> CarriedOver:
    """The answers of the map's old version in its new version. With `new`, an answer the
    new version refuses (a number out of a new range...) is asked again too."""
    out = CarriedOver({}, added=list(m.added))
    # In the map's (questionnaire) order, whatever the order of the stored keys (JSONB).
    rank = {qid: i for i, qid in enumerate(m.questions)}
    for qid in sorted(answers, key=lambda k: (rank.get(k, len(rank)), k)):
        value = answers[qid]
        rule = m.questions.get(qid, Rule("removed"))
        target = rule.target(qid)
        if target is None:
            out.removed.append(qid)
            continue
        if isinstance(value, list):
            mapped = [rule.values.get(v, v) if isinstance(v, str) else v for v in value]
            new_value: Any = [v for v in mapped if v is not None] or None
        elif isinstance(value, str):
            new_value = rule.values.get(value, value)
        else:
            new_value = value
        if new_value is not None and new is not None \
                and validate_answers(new, {target: new_value}):
            new_value = None
        if new_value is None:
            out.ask_again.append(target)
        else:
            out.answers[target] = new_value
            if target == qid and new_value == value:
                out.kept.append(qid)
            else:
                out.moved.append(Moved(qid, target, value, new_value))
        if rule.note and (target != qid or new_value != value):
            out.notes[target] = rule.note
    return out
