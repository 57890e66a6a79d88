"""`palier db` and `palier user` through the real CLI, on a temporary SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.accounts.models import DirectorStructure, User
from app.accounts.passwords import verify_password
from app.cli import cli
from app.config import get_settings
from app.db import make_engine
from app.structures.models import Structure

PASSWORD = "un mot de passe solide"


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """PALIER_DATABASE_URL on a new SQLite file; the CLI runs from another directory."""
    url = f"sqlite:///{tmp_path / 'sub' / 'cli.db'}"
    monkeypatch.setenv("PALIER_DATABASE_URL", url)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def cli_engine(cli_db: str) -> Iterator[Engine]:
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(cli_db)
    yield engine
    engine.dispose()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_db_upgrade_then_downgrade(cli_db: str) -> None:
    code, output = run("db", "upgrade")
    assert code == 0, output
    assert "Base à jour (head)" in output
    engine = make_engine(cli_db)
    try:
        assert "assessment" in inspect(engine).get_table_names()
        code, output = run("db", "downgrade", "base")
        assert code == 0, output
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        code, output = run("db", "upgrade", "--revision", "0001")
        assert code == 0, output
        assert "structure" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _add_structure(engine: Engine, finess: str) -> int:
    with Session(engine) as session:
        structure = Structure(
            finess=finess,
            name="EHPAD Les Tilleuls",
            category_code="500",
            category_label="EHPAD",
            department="69",
            region="84",
        )
        session.add(structure)
        session.commit()
        assert structure.id is not None
        return structure.id


def test_create_director_with_structures(cli_engine: Engine) -> None:
    first = _add_structure(cli_engine, "690781810")
    second = _add_structure(cli_engine, "970302287")
    code, output = run(
        "user", "create", "--email", "Directrice@Ehpad.FR", "--password", PASSWORD,
        "--role", "director", "--name", "Claire Martin",
        "--structure", "69 078 181 0", "--structure", "970302287",
    )  # fmt: skip
    assert code == 0, output
    assert output.strip() == "Compte créé : directrice@ehpad.fr (director, 2 structure(s))."
    with Session(cli_engine) as session:
        user = session.exec(select(User)).one()
        assert (user.email, user.name, user.role, user.region, user.active) == (
            "directrice@ehpad.fr",
            "Claire Martin",
            "director",
            None,
            True,
        )
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(PASSWORD, user.password_hash)
        links = session.exec(select(DirectorStructure.structure_id)).all()
        assert sorted(links) == sorted([first, second])

    code, output = run("user", "list")
    assert code == 0, output
    assert output.splitlines() == ["directrice@ehpad.fr\tdirector\t-\tactif\t2 structure(s)"]


def test_create_regional_accounts(cli_engine: Engine) -> None:
    assert run("user", "create", "--email", "ars@ars.sante.fr", "--password", PASSWORD,
               "--role", "ars", "--region", "84")[0] == 0  # fmt: skip
    assert run("user", "create", "--email", "comite@cnsa.fr", "--password", PASSWORD,
               "--role", "committee")[0] == 0  # fmt: skip
    assert run("user", "create", "--email", "admin@palier.fr", "--password", PASSWORD,
               "--role", "admin")[0] == 0  # fmt: skip
    code, output = run("user", "list")
    assert code == 0
    assert output.splitlines() == [
        "admin@palier.fr\tadmin\t-\tactif",
        "ars@ars.sante.fr\tars\t84\tactif",
        "comite@cnsa.fr\tcommittee\t-\tactif",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "ars"], "Erreur : un compte ars doit avoir une région (--region CODE)."),
        (["--role", "ars", "--region", "99"], "Erreur : région inconnue : '99'"),
        (["--role", "director", "--region", "84"],
         "Erreur : --region ne s'applique qu'aux rôles ars et committee."),
        (["--role", "director", "--structure", "750712184"],
         "Erreur : aucune structure de numéro FINESS 750712184 dans la base."),
        (["--role", "admin", "--structure", "750712184"],
         "Erreur : --structure ne s'applique qu'au rôle director."),
    ],
)  # fmt: skip
def test_create_refuses_bad_input(cli_engine: Engine, args: list[str], message: str) -> None:
    code, output = run("user", "create", "--email", "x@example.fr", "--password", PASSWORD, *args)
    assert code == 1
    assert output.startswith(message), output
    with Session(cli_engine) as session:
        assert session.exec(select(User)).all() == []


def test_create_refuses_short_password_bad_email_and_duplicates(cli_engine: Engine) -> None:
    code, output = run("user", "create", "--email", "x@example.fr", "--password", "court",
                       "--role", "admin")  # fmt: skip
    assert (code, output.strip()) == (
        1,
        "Erreur : Le mot de passe doit comporter au moins 12 caractères.",
    )
    code, output = run("user", "create", "--email", "pas-une-adresse", "--password", PASSWORD,
                       "--role", "admin")  # fmt: skip
    assert code == 1
    assert output.strip() == "Erreur : adresse électronique invalide : 'pas-une-adresse'."
    assert run("user", "create", "--email", "x@example.fr", "--password", PASSWORD,
               "--role", "admin")[0] == 0  # fmt: skip
    code, output = run("user", "create", "--email", "X@example.fr", "--password", PASSWORD,
                       "--role", "director")  # fmt: skip
    assert (code, output.strip()) == (1, "Erreur : un compte existe déjà pour x@example.fr.")


def test_list_without_accounts(cli_engine: Engine) -> None:
    assert run("user", "list") == (0, "Aucun compte.\n")
