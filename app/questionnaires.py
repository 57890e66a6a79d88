"""The questionnaires the app serves: every file of the questionnaires folder, loaded at start.

Refused files (with their errors) are kept for the admin page; a refused file never replaces
a version already served. New drafts use the newest valid version of each questionnaire id.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from app.assessments.carry_over import MIGRATIONS_DIR, MigrationMap, check_map, load_maps
from scoring import (
    CATALOGUE_FILE,
    Catalogue,
    Questionnaire,
    QuestionnaireError,
    load_catalogue,
    load_questionnaires,
    questionnaire_files,
)


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of versions: 2026.2 < 2026.10; numbers before text."""
    parts = re.findall(r"\d+|[^\d.]+", version)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


@dataclass
class Registry:
    by_key: dict[tuple[str, str], Questionnaire] = field(default_factory=dict)
    refused: list[QuestionnaireError] = field(default_factory=list)
    catalogue: Catalogue | None = None  # programmes.yaml: current status of each programme
    # migrations/*.yaml whose two versions are served: (id, from version) -> map
    migrations: dict[tuple[str, str], MigrationMap] = field(default_factory=dict)
    migration_errors: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, directory: str | Path) -> Registry:
        """Load every questionnaire of `directory` against its programmes.yaml, read once.
        An invalid catalogue is listed among the refused files (and refuses the
        questionnaires that name programmes); a broken file never stops the others.

        Loaded questionnaires are immutable, so the same bytes are parsed and compiled once
        per process: a directory whose files (names and contents) are unchanged gives a new
        registry over the same questionnaires (several apps in one process, `reload`)."""
        key = _fingerprint(Path(directory))
        kept = _LOADED.get(key)
        if kept is None:
            kept = cls._parse(directory)
            if len(_LOADED) >= _KEEP:
                _LOADED.pop(next(iter(_LOADED)))
            _LOADED[key] = kept
        return kept.copy()

    def copy(self) -> Registry:
        return Registry(dict(self.by_key), list(self.refused), self.catalogue,
                        dict(self.migrations), list(self.migration_errors))

    @classmethod
    def _parse(cls, directory: str | Path) -> Registry:
        files = questionnaire_files(directory)
        path = Path(directory) / CATALOGUE_FILE
        loaded, refused = load_questionnaires([path, *files] if path.is_file() else files)
        catalogue = next((q.catalogue for q in loaded if q.catalogue is not None), None)
        if catalogue is None and path.is_file():
            with contextlib.suppress(QuestionnaireError):  # else among the refused files
                catalogue = load_catalogue(path)
        registry = cls({q.key: q for q in loaded}, refused, catalogue)
        registry._load_migrations(Path(directory) / MIGRATIONS_DIR)
        return registry

    def _load_migrations(self, directory: Path) -> None:
        """The maps that fit the versions served (a map that does not fit is not used)."""
        maps, errors = load_maps(directory)
        for key, m in maps.items():
            old = self.get(m.questionnaire_id, m.from_version)
            new = self.get(m.questionnaire_id, m.to_version)
            if old is None or new is None:
                continue
            problems = check_map(m, old, new)
            if problems:
                errors += problems
            else:
                self.migrations[key] = m
        self.migration_errors = errors

    def migration(self, qid: str, from_version: str) -> MigrationMap | None:
        """The map from `from_version` to the newest version of `qid`, if one exists."""
        m = self.migrations.get((qid, from_version))
        if m is None:  # most drafts (every section page asks): no walk over the versions
            return None
        latest = self.latest(qid)
        if latest is None or m.to_version != latest.version:
            return None
        return m

    def get(self, qid: str, version: str) -> Questionnaire | None:
        return self.by_key.get((qid, version))

    def latest(self, qid: str) -> Questionnaire | None:
        versions = [q for (i, _), q in self.by_key.items() if i == qid]
        return max(versions, key=lambda q: version_key(q.version), default=None)

    def ids(self) -> list[str]:
        return sorted({i for i, _ in self.by_key})

    def all(self) -> list[Questionnaire]:
        return sorted(self.by_key.values(), key=lambda q: (q.id, version_key(q.version)))

    def reload(self, directory: str | Path) -> Registry:
        """Load again; versions already served stay served even if their file now fails."""
        fresh = Registry.load(directory)
        merged = dict(self.by_key)
        merged.update(fresh.by_key)
        registry = Registry(merged, fresh.refused, fresh.catalogue or self.catalogue)
        registry._load_migrations(Path(directory) / MIGRATIONS_DIR)
        return registry


_KEEP = 8  # registries kept by fingerprint (tests load many small temporary folders)
_LOADED: dict[str, Registry] = {}


def _fingerprint(directory: Path) -> str:
    """The directory's path and every file under it (relative name and bytes)."""
    digest = hashlib.sha256(str(directory.resolve()).encode())
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(b"\0" + str(path.relative_to(directory)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def get_registry(request: Request) -> Registry:
    """FastAPI dependency: the registry loaded by create_app()."""
    registry: Registry = request.app.state.registry
    return registry


async def _registry_dependency(request: Request) -> Registry:
    """`get_registry` as an `async def` dependency (no threadpool hop: it only reads app
    state)."""
    return get_registry(request)


RegistryDep = Annotated[Registry, Depends(_registry_dependency)]
