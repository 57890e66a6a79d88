"""The app starts whatever the questionnaires folder holds; refused files are listed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings, get_settings
from app.db import get_session
from app.permissions import Role
from app.questionnaires import Registry
from tests.auth_helpers import log_in
from tests.conftest import _clear_caches
from tests.factories import make_user
from tests.unit.test_loader import billion_laughs

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "questionnaires" / "esms-maturite-numerique-2026.1.yaml"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "questionnaires"
    d.mkdir()
    shutil.copy(REAL, d / REAL.name)
    shutil.copy(ROOT / "questionnaires" / "programmes.yaml", d / "programmes.yaml")
    (d / "laughs-1.yaml").write_text(billion_laughs(), encoding="utf-8")
    (d / "loop-1.yaml").write_text("a: &a [*a]\n", encoding="utf-8")
    return d


@pytest.fixture
def client(folder: Path, session: Session, settings: Settings,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from app.main import create_app

    monkeypatch.setenv("PALIER_QUESTIONNAIRES_DIR", str(folder))
    monkeypatch.setenv("PALIER_DATABASE_URL", settings.database_url)
    _clear_caches()
    app = create_app()  # before the fix: RecursionError / minutes of expansion here
    app.dependency_overrides[get_session] = lambda: session
    app.dependency_overrides[get_settings] = lambda: settings
    try:
        with TestClient(app) as c:
            yield c
    finally:
        app.dependency_overrides.clear()
        _clear_caches()


def test_registry_refuses_alias_files_and_keeps_the_rest(folder: Path) -> None:
    registry = Registry.load(folder)
    assert [q.key for q in registry.all()] == [("esms-maturite-numerique", "2026.1")]
    assert sorted(Path(e.errors[0].file).name for e in registry.refused) == [
        "laughs-1.yaml", "loop-1.yaml"]
    loop = next(e for e in registry.refused if e.errors[0].file.endswith("loop-1.yaml"))
    assert [f"{e.line}:{e.col}" for e in loop.errors] == ["1:4", "1:8"]


def test_server_starts_and_admin_page_lists_the_refused_files(
        client: TestClient, session: Session, settings: Settings) -> None:
    admin = make_user(session, Role.admin)
    log_in(client, session, settings, admin)
    page = client.get("/admin/questionnaires")
    assert page.status_code == 200
    assert "Fichiers refusés (2)" in page.text
    assert "laughs-1.yaml:1:4: ancre « &amp;a »" in page.text
    assert "loop-1.yaml:1:8: alias « *a »" in page.text


def test_registry_reads_the_catalogue_once_and_refuses_a_broken_one(folder: Path) -> None:
    registry = Registry.load(folder)
    assert registry.catalogue is not None
    assert registry.catalogue.source == str(folder / "programmes.yaml")
    q = registry.get("esms-maturite-numerique", "2026.1")
    assert q is not None and q.catalogue is registry.catalogue
    # programmes.yaml is never taken for a questionnaire.
    assert not any(e.errors[0].file.endswith("programmes.yaml") for e in registry.refused)

    catalogue = folder / "programmes.yaml"
    catalogue.write_text(catalogue.read_text().replace("status: ended", "status: fini", 1))
    broken = Registry.load(folder)
    assert broken.catalogue is None and broken.all() == []
    files = [Path(e.errors[0].file).name for e in broken.refused]
    assert sorted(files) == ["esms-maturite-numerique-2026.1.yaml", "laughs-1.yaml",
                             "loop-1.yaml", "programmes.yaml"]
    # Reloading keeps serving the versions already loaded.
    assert [x.key for x in registry.reload(folder).all()] == [
        ("esms-maturite-numerique", "2026.1")]


def test_same_files_are_parsed_once_and_a_changed_file_is_read_again(folder: Path) -> None:
    first, second = Registry.load(folder), Registry.load(folder)
    assert first is not second and first.by_key is not second.by_key
    key = ("esms-maturite-numerique", "2026.1")
    assert first.by_key[key] is second.by_key[key]  # the same bytes: parsed once
    first.by_key.clear()  # a registry's own dicts: the next load is whole
    assert list(Registry.load(folder).by_key) == [key]
    # The same size, other contents: loaded again.
    path = folder / REAL.name
    text = path.read_text(encoding="utf-8")
    old = 'title: "Autodiagnostic de maturité numérique des ESMS"'
    assert old in text
    path.write_text(text.replace(old, old.replace("ESMS", "ESSM"), 1), encoding="utf-8")
    third = Registry.load(folder)
    assert third.by_key[key] is not second.by_key[key]
    assert third.by_key[key].title == "Autodiagnostic de maturité numérique des ESSM"
