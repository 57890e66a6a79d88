"""The questionnaires the app serves: every file of the questionnaires folder, loaded at start.

Refused files (with their errors) are kept for the admin page; a refused file never replaces
a version already served. New drafts use the newest valid version of each questionnaire id.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

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

    @classmethod
    def load(cls, directory: str | Path) -> Registry:
        """Load every questionnaire of `directory` against its programmes.yaml, read once.
        An invalid catalogue is listed among the refused files (and refuses the
        questionnaires that name programmes); a broken file never stops the others."""
        files = questionnaire_files(directory)
        path = Path(directory) / CATALOGUE_FILE
        loaded, refused = load_questionnaires([path, *files] if path.is_file() else files)
        catalogue = next((q.catalogue for q in loaded if q.catalogue is not None), None)
        if catalogue is None and path.is_file():
            with contextlib.suppress(QuestionnaireError):  # else among the refused files
                catalogue = load_catalogue(path)
        return cls({q.key: q for q in loaded}, refused, catalogue)

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
        return Registry(merged, fresh.refused, fresh.catalogue or self.catalogue)


def get_registry(request: Request) -> Registry:
    """FastAPI dependency: the registry loaded by create_app()."""
    registry: Registry = request.app.state.registry
    return registry


RegistryDep = Annotated[Registry, Depends(get_registry)]
