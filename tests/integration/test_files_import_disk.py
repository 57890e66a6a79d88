"""`palier files import-disk`: evidence files an older install kept on disk
(`<evidence_dir>/<2 chars>/<stored name>`) moved into the database, idempotent, with a
report. Real files in a temporary directory; expected values written by hand."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from app import files
from app.cli import cli
from app.reviews.disk_import import import_disk
from app.reviews.models import Evidence
from app.structures.models import Structure
from tests.factories import make_assessment, make_structure
from tests.integration.test_cli_db import cli_db, cli_engine  # noqa: F401  (fixtures)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
NAMES = {"pdf": "ab" + "0" * 30, "png": "cd" + "1" * 30, "gone": "ef" + "2" * 30,
         "bad": "a0" + "3" * 30}


def _old_install(session: Session, root: Path) -> None:
    """Four evidence rows of an older install: two files on disk, one lost, one whose
    content no longer matches its sha256; plus a stray file named by no row."""
    structure = make_structure(session, name="EHPAD Les Tilleuls")
    draft = make_assessment(session, structure)
    contents = {"pdf": PDF, "png": PNG, "gone": b"perdu", "bad": b"version d'origine"}
    types = {"pdf": "application/pdf", "png": "image/png", "gone": "application/pdf",
             "bad": "application/pdf"}
    for key, name in NAMES.items():
        session.add(Evidence(assessment_id=draft.id, question_id="wifi", kind="file",
                             original_filename=f"{key}.bin", stored_name=name,
                             content_type=types[key], size=len(contents[key]),
                             sha256=hashlib.sha256(contents[key]).hexdigest()))
    session.add(Evidence(assessment_id=draft.id, question_id="wifi", kind="note",
                         note="Une note, sans fichier."))
    session.commit()
    for key in ("pdf", "png", "bad"):
        path = root / NAMES[key][:2] / NAMES[key]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(contents[key] if key != "bad" else b"version modifiee")
    (root / "ab" / ("ab" + "9" * 30)).write_bytes(b"orphelin")


def test_import_is_checked_and_idempotent(session: Session, tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    _old_install(session, root)
    first = import_disk(session, root)
    assert first.moved == [NAMES["pdf"], NAMES["png"]]
    assert first.bytes_moved == len(PDF) + len(PNG) == 125
    assert first.missing == [NAMES["gone"]]
    assert first.mismatched == [NAMES["bad"]]
    assert first.unknown == [root / "ab" / ("ab" + "9" * 30)]
    stored = files.get(session, f"evidence/{NAMES['pdf']}")
    assert stored is not None
    assert (stored.data, stored.content_type, stored.size) == (PDF, "application/pdf", 77)
    png = files.get(session, f"evidence/{NAMES['png']}")
    assert png is not None and png.data == PNG and png.content_type == "image/png"
    assert files.get(session, f"evidence/{NAMES['bad']}") is None
    assert (root / "ab" / NAMES["pdf"]).exists()  # kept without remove

    again = import_disk(session, root, remove=True)
    assert again.moved == []
    assert again.present == [NAMES["pdf"], NAMES["png"]]
    assert again.removed == 2
    assert not (root / "ab" / NAMES["pdf"]).exists()
    assert not (root / "cd" / NAMES["png"]).exists()
    assert (root / "a0" / NAMES["bad"]).exists()  # not imported: left in place


def test_the_command(cli_engine, tmp_path: Path) -> None:  # noqa: F811
    root = tmp_path / "ancien" / "evidence"
    with Session(cli_engine) as session:
        _old_install(session, root)
    result = CliRunner().invoke(cli, ["files", "import-disk", "--dossier", str(root)])
    assert result.exit_code == 1  # a file does not match its sha256
    lines = result.output.splitlines()
    assert lines[0] == f"Dossier : {root}"
    assert lines[1:6] == [
        "Importés : 2 fichier(s), 125 octets.",
        f"  importé : {NAMES['pdf']}",
        f"  importé : {NAMES['png']}",
        "Déjà en base : 0.",
        "Introuvables sur le disque : 1.",
    ]
    assert "Contenu différent de l'empreinte enregistrée (non importés) : 1." in lines
    assert ("Fichiers du dossier sans pièce justificative correspondante (laissés en "
            "place) : 1.") in lines
    with Session(cli_engine) as session:
        assert len(session.exec(select(files.StoredFile)).all()) == 2
        assert session.exec(select(Structure.name)).one() == "EHPAD Les Tilleuls"
    rerun = CliRunner().invoke(cli, ["files", "import-disk", "--dossier", str(root)])
    assert "Importés : 0 fichier(s), 0 octets." in rerun.output
    assert "Déjà en base : 2." in rerun.output
