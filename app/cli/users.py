"""`palier user`: create and list accounts (honours PALIER_DATABASE_URL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts import auth
from app.accounts.models import DirectorStructure, User
from app.accounts.passwords import hash_password, password_problems
from app.config import get_settings
from app.db import make_engine
from app.permissions import Role
from app.reference import regions
from app.structures.finess import normalize
from app.structures.models import Structure

app = typer.Typer(help="Comptes utilisateurs.", no_args_is_help=True)

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
REGIONAL_ROLES = {Role.ars, Role.committee}


@contextmanager
def _session() -> Iterator[Session]:
    engine = make_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Erreur : {message}", err=True)
    return typer.Exit(code=1)


@app.command("create")
def create(
    email: str = typer.Option(..., "--email", help="Adresse électronique (identifiant)."),
    password: str = typer.Option(..., "--password", help="Mot de passe (12 caractères min.)."),
    role: Role = typer.Option(..., "--role", help="Rôle du compte."),
    name: str = typer.Option("", "--name", help="Nom affiché."),
    region: str | None = typer.Option(
        None,
        "--region",
        help="Code INSEE de la région (ars : obligatoire ; committee : "
        "facultatif, absent = national).",
    ),
    structures: list[str] = typer.Option(
        [], "--structure", help="Numéro FINESS d'une structure du directeur (répétable)."
    ),
) -> None:
    # Long: the typer options in its signature (15 lines); the body is under 60.
    """Créer un compte."""
    email = email.strip().lower()
    if not EMAIL.fullmatch(email):
        raise _fail(f"adresse électronique invalide : {email!r}.")
    problems = password_problems(password)
    if problems:
        raise _fail(" ".join(problems))
    if region is not None:
        region = region.strip()
        if role not in REGIONAL_ROLES:
            raise _fail("--region ne s'applique qu'aux rôles ars et committee.")
        if region not in regions():
            known = ", ".join(sorted(regions()))
            raise _fail(f"région inconnue : {region!r} (codes INSEE connus : {known}).")
    if role is Role.ars and region is None:
        raise _fail("un compte ars doit avoir une région (--region CODE).")
    if structures and role is not Role.director:
        raise _fail("--structure ne s'applique qu'au rôle director.")

    with _session() as session:
        if session.exec(select(User).where(User.email == email)).first() is not None:
            raise _fail(f"un compte existe déjà pour {email}.")
        linked: list[Structure] = []
        for raw in structures:
            finess = normalize(raw)
            structure = session.exec(select(Structure).where(Structure.finess == finess)).first()
            if structure is None:
                raise _fail(f"aucune structure de numéro FINESS {finess} dans la base.")
            linked.append(structure)
        user = User(
            email=email,
            name=name.strip(),
            password_hash=hash_password(password),
            role=role.value,
            region=region,
        )
        session.add(user)
        session.flush()
        assert user.id is not None
        auth.link_structures(session, user.id, linked)
        session.commit()
        scope = f", région {region}" if region else ""
        links = f", {len(linked)} structure(s)" if linked else ""
        typer.echo(f"Compte créé : {email} ({role.value}{scope}{links}).")


@app.command("list")
def list_users() -> None:
    """Lister les comptes."""
    with _session() as session:
        counts = dict(
            session.exec(
                select(DirectorStructure.user_id, func.count()).group_by(
                    col(DirectorStructure.user_id)
                )
            ).all()
        )
        users = session.exec(select(User).order_by(User.role, User.email)).all()
        if not users:
            typer.echo("Aucun compte.")
            return
        for user in users:
            state = "actif" if user.active else "désactivé"
            parts = [user.email, user.role, user.region or "-", state]
            if user.role == Role.director:
                parts.append(f"{counts.get(user.id or 0, 0)} structure(s)")
            typer.echo("\t".join(parts))
