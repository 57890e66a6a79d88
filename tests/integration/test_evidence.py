"""Evidence attached to answers: upload (file, note), limits and type checks, storage under a
random name, downloads with safe headers, permissions, deletion, and the review panel.

Expected values are written by hand; hashes are recomputed here with hashlib, not read from
the code under test."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import files
from app.accounts.models import User
from app.assessments.models import Assessment
from app.audit import AuditEvent
from app.config import Settings
from app.permissions import Role
from app.reviews import storage
from app.reviews.models import Evidence
from app.structures.models import Structure
from tests.answers import PETIT_EHPAD
from tests.auth_helpers import csrf_headers, log_in
from tests.factories import make_structure, make_user

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)
MIB = 1024 * 1024


def odf(mimetype: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # first, stored uncompressed
        zf.writestr("content.xml", "<office:document-content/>",
                    compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def ooxml(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            zf.writestr(name, "<x/>")
    return buf.getvalue()


class Browser:
    def __init__(self, client: TestClient, session: Session, settings: Settings) -> None:
        self.client, self.session, self.settings = client, session, settings
        self.token = ""

    def as_(self, user: User) -> Browser:
        self.token = log_in(self.client, self.session, self.settings, user)
        return self

    def get(self, url: str, htmx: bool = False) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(url, headers=headers, follow_redirects=False)

    def post(self, url: str, data: dict[str, Any] | None = None,
             files: dict[str, Any] | None = None) -> Any:
        return self.client.post(url, data=data or {}, files=files,
                                headers=csrf_headers(self.token), follow_redirects=False)

    def upload(self, aid: int, question: str, name: str | None = None, content: bytes = b"",
               note: str = "", mime: str = "application/octet-stream") -> Any:
        files = {"fichier": (name, content, mime)} if name is not None else None
        return self.post(f"/evaluations/{aid}/preuves", {"question_id": question, "note": note},
                         files)


@pytest.fixture
def ehpad(session: Session) -> Structure:
    return make_structure(session, name="EHPAD Les Tilleuls", department="69")


@pytest.fixture
def director(session: Session, ehpad: Structure) -> User:
    return make_user(session, Role.director, [ehpad], name="Claire Martin")


@pytest.fixture
def b(app_client: TestClient, session: Session, settings: Settings,
      director: User) -> Browser:
    return Browser(app_client, session, settings).as_(director)


@pytest.fixture
def draft(b: Browser, session: Session, ehpad: Structure) -> int:
    response = b.post(f"/structures/{ehpad.finess}/evaluation")
    assert response.status_code == 303
    match = re.match(r"/evaluations/(\d+)/", response.headers["location"])
    assert match
    aid = int(match.group(1))
    a = session.get(Assessment, aid)
    assert a is not None
    a.answers = dict(PETIT_EHPAD)
    a.version = 1
    session.add(a)
    session.commit()
    return aid


def evidence_rows(session: Session, aid: int) -> list[Evidence]:
    return list(session.exec(select(Evidence).where(Evidence.assessment_id == aid)
                             .order_by(col(Evidence.id))).all())


def stored_files(session: Session) -> list[files.StoredFile]:
    """The evidence files in the file storage (the database)."""
    return list(session.exec(select(files.StoredFile).where(
        col(files.StoredFile.key).startswith("evidence/"))).all())


# ---- upload and download --------------------------------------------------------------------


def test_upload_a_pdf_then_download_it_with_safe_headers(
        b: Browser, session: Session, settings: Settings, draft: int, director: User) -> None:
    response = b.upload(draft, "sauvegardes", "compte-rendu test.pdf", PDF,
                        mime="text/html")  # the browser's claim is ignored
    assert response.status_code == 303
    assert response.headers["location"] == \
        f"/evaluations/{draft}/sections/s-securite?preuve=sauvegardes#preuves-sauvegardes"

    [e] = evidence_rows(session, draft)
    assert (e.question_id, e.kind, e.original_filename, e.content_type, e.size, e.uploaded_by) \
        == ("sauvegardes", "file", "compte-rendu test.pdf", "application/pdf", len(PDF),
            director.id)
    assert e.sha256 == hashlib.sha256(PDF).hexdigest()
    assert e.stored_name is not None and re.fullmatch(r"[0-9a-f]{32}", e.stored_name)
    [blob] = stored_files(session)
    assert blob.key == f"evidence/{e.stored_name}"
    assert (blob.data, blob.size, blob.content_type) == (PDF, len(PDF), "application/pdf")
    assert not Path(settings.evidence_dir).exists()  # nothing on the local disk

    event = session.exec(select(AuditEvent).where(AuditEvent.action == "evidence_added")).one()
    assert (event.user_id, event.object_type, event.object_id) == \
        (director.id, "evidence", str(e.id))
    assert event.details["question"] == "sauvegardes"
    assert event.details["filename"] == "compte-rendu test.pdf"

    section = b.get(f"/evaluations/{draft}/sections/s-securite?preuve=sauvegardes")
    assert section.status_code == 200
    assert 'id="preuves-sauvegardes"' in section.text
    assert "Preuve ajoutée à la question « Les données de la structure sont-elles " \
        "sauvegardées ? »." in section.text
    assert f'href="/preuves/{e.id}" download>compte-rendu test.pdf' in section.text
    assert "PDF, 77 octets" in section.text
    assert f'href="/evaluations/{draft}/preuves?question=sauvegardes">Gérer les preuves' \
        in section.text
    # Other questions offer to attach one; those a palier depends on recommend it.
    assert f'href="/evaluations/{draft}/preuves?question=pca_pra">Joindre une preuve' \
        in section.text
    assert f'href="/evaluations/{draft}/preuves?question=diagnostic_cyber">Joindre une preuve' \
        in section.text
    hint = "Cette réponse compte pour le palier : votre ARS peut vous en demander une preuve."
    pca = section.text.split('id="preuves-pca_pra"', 1)[1].split("</div>", 1)[0]
    # (2026.2: the RGPD basics are a palier-2 requirement; the cyber diagnosis is read by none)
    diag = section.text.split('id="preuves-diagnostic_cyber"', 1)[1].split("</div>", 1)[0]
    assert hint in pca and hint not in diag

    download = b.get(f"/preuves/{e.id}")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == \
        "attachment; filename=\"compte-rendu test.pdf\"; filename*=UTF-8''compte-rendu%20test.pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"
    assert "no-store" in download.headers["cache-control"]


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("capture.PNG", PNG, "image/png"),
    ("photo.jpeg", JPEG, "image/jpeg"),
    ("procédure.odt", odf("application/vnd.oasis.opendocument.text"),
     "application/vnd.oasis.opendocument.text"),
    ("inventaire.ods", odf("application/vnd.oasis.opendocument.spreadsheet"),
     "application/vnd.oasis.opendocument.spreadsheet"),
    ("charte.docx", ooxml("[Content_Types].xml", "word/document.xml"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("parc.xlsx", ooxml("[Content_Types].xml", "xl/workbook.xml"),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("note.txt", "Sauvegarde testée le 3 mars.\n".encode(), "text/plain; charset=utf-8"),
    ("ancien.txt", "Sauvegarde testée.\n".encode("cp1252"), "text/plain; charset=windows-1252"),
])
def test_allowed_types_are_stored_with_their_own_content_type(
        b: Browser, session: Session, draft: int, name: str, content: bytes,
        content_type: str) -> None:
    assert b.upload(draft, "sauvegardes", name, content).status_code == 303
    [e] = evidence_rows(session, draft)
    assert (e.original_filename, e.content_type) == (name, content_type)
    download = b.get(f"/preuves/{e.id}")
    assert download.content == content
    assert download.headers["content-type"] == content_type


def test_non_ascii_names_download_with_an_ascii_fallback(b: Browser, session: Session,
                                                         draft: int) -> None:
    b.upload(draft, "sauvegardes", "procédure « PRA ».pdf", PDF)
    [e] = evidence_rows(session, draft)
    assert b.get(f"/preuves/{e.id}").headers["content-disposition"] == (
        'attachment; filename="procedure PRA .pdf"; '
        "filename*=UTF-8''proc%C3%A9dure%20%C2%AB%20PRA%20%C2%BB.pdf")


def test_a_note_a_file_and_a_note_together(b: Browser, session: Session, draft: int) -> None:
    assert b.upload(draft, "sdsi", note="Le SDSI est en ligne sur l’intranet du gestionnaire."
                    ).status_code == 303
    assert b.upload(draft, "sdsi", "sdsi.pdf", PDF, note="Version validée en CA.\nPage 4."
                    ).status_code == 303
    rows = evidence_rows(session, draft)
    assert [(e.kind, e.note, e.original_filename) for e in rows] == [
        ("note", "Le SDSI est en ligne sur l’intranet du gestionnaire.", None),
        ("file", None, "sdsi.pdf"),
        ("note", "Version validée en CA.\nPage 4.", None),
    ]
    assert b.get(f"/preuves/{rows[0].id}").status_code == 404  # a note is not a download
    page = b.get(f"/evaluations/{draft}/preuves?question=sdsi")
    assert page.status_code == 200
    assert "Version validée en CA.<br>Page 4." in page.text
    assert page.text.count("Supprimer<span") == 3


# ---- refusals -------------------------------------------------------------------------------


def test_file_over_the_size_limit_is_refused_and_nothing_is_kept(
        b: Browser, session: Session, settings: Settings, draft: int) -> None:
    too_big = b"%PDF-1.7\n" + bytes(5 * MIB - 8)  # 5 MiB + 1 byte
    response = b.upload(draft, "sauvegardes", "gros.pdf", too_big)
    assert response.status_code == 413
    assert "Le fichier dépasse la taille maximale de 5 Mo." in response.text
    assert "<title>Erreur : Preuves" in response.text
    assert 'name="fichier"' in response.text  # the form is shown again
    assert evidence_rows(session, draft) == []
    assert stored_files(session) == []

    exactly = b"%PDF-1.7\n" + bytes(5 * MIB - 9)
    assert b.upload(draft, "sauvegardes", "juste.pdf", exactly).status_code == 303

    # Far too large: refused from its Content-Length, before the body is read.
    response = b.upload(draft, "sauvegardes", "enorme.pdf", bytes(6 * MIB))
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.text
    assert "Le fichier dépasse la taille maximale de 5 Mo." in response.text
    assert len(evidence_rows(session, draft)) == 1
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-content-type-options"] == "nosniff"

    # No Content-Length (chunked): refused too, the size being unknown.
    def chunks() -> Any:
        yield b"--x\r\n"

    response = b.client.post(f"/evaluations/{draft}/preuves", content=chunks(),
                             headers={**csrf_headers(b.token),
                                      "Content-Type": "multipart/form-data; boundary=x"})
    assert response.status_code == 411
    assert len(evidence_rows(session, draft)) == 1


@pytest.mark.parametrize(("name", "content", "status", "message"), [
    ("outil.exe", b"MZ\x90\x00", 415, "Ce type de fichier n’est pas accepté."),
    ("page.html", b"<html><script>alert(1)</script></html>", 415,
     "Ce type de fichier n’est pas accepté."),
    ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415,
     "Ce type de fichier n’est pas accepté."),
    ("sans-extension", PDF, 415, "Ce type de fichier n’est pas accepté."),
    ("macro.docm", ooxml("[Content_Types].xml", "word/document.xml"), 415,
     "Ce type de fichier n’est pas accepté."),
    ("photo.png", PDF, 415, "Le contenu du fichier ne correspond pas à son extension"),
    ("rapport.pdf", b"<html><body>pas un PDF</body></html>", 415,
     "Le contenu du fichier ne correspond pas à son extension"),
    ("faux.docx", ooxml("readme.txt"), 415,
     "Le contenu du fichier ne correspond pas à son extension"),
    ("macros.docx", ooxml("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),
     415, "Le contenu du fichier ne correspond pas à son extension"),
    ("tableur.ods", odf("application/vnd.oasis.opendocument.text"), 415,
     "Le contenu du fichier ne correspond pas à son extension"),
    ("binaire.txt", b"texte\x00binaire", 415,
     "Le contenu du fichier ne correspond pas à son extension"),
    ("vide.pdf", b"", 422, "Le fichier est vide."),
])
def test_forbidden_types_and_mismatched_contents_are_refused(
        b: Browser, session: Session, settings: Settings, draft: int, name: str,
        content: bytes, status: int, message: str) -> None:
    response = b.upload(draft, "sauvegardes", name, content)
    assert response.status_code == status
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert evidence_rows(session, draft) == []
    assert stored_files(session) == []


def test_nothing_chosen_and_overlong_notes_are_refused(b: Browser, session: Session,
                                                       draft: int) -> None:
    response = b.upload(draft, "sauvegardes", note="   ")
    assert response.status_code == 422
    assert "Choisissez un fichier ou écrivez une note." in response.text
    response = b.upload(draft, "sauvegardes", note="x" * 2001)
    assert response.status_code == 422
    assert "La note ne doit pas dépasser 2000 caractères (elle en compte 2001)." in response.text
    assert "x" * 2001 in response.text  # kept in the field
    assert b.upload(draft, "question-inconnue", note="x").status_code == 404
    assert evidence_rows(session, draft) == []


def test_at_most_ten_pieces_of_evidence_per_question(b: Browser, session: Session,
                                                     draft: int) -> None:
    for i in range(10):
        assert b.upload(draft, "sauvegardes", note=f"note {i}").status_code == 303
    response = b.upload(draft, "sauvegardes", note="une de trop")
    assert response.status_code == 422
    assert "Une question peut recevoir au plus 10 preuves" in response.text
    assert len(evidence_rows(session, draft)) == 10


@pytest.mark.parametrize(("name", "shown"), [
    ("../../x.pdf", "x.pdf"),
    ("..\\..\\windows\\evil.pdf", "evil.pdf"),
    ("/etc/passwd.pdf", "passwd.pdf"),
])
def test_path_traversal_names_are_harmless(b: Browser, session: Session, settings: Settings,
                                           draft: int, tmp_path: Path, name: str,
                                           shown: str) -> None:
    assert b.upload(draft, "sauvegardes", name, PDF).status_code == 303
    [e] = evidence_rows(session, draft)
    assert e.original_filename == shown
    [blob] = stored_files(session)
    assert blob.key == f"evidence/{e.stored_name}" and shown not in blob.key
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path.parent / "x.pdf").exists()


def test_the_stored_name_is_random_not_the_users(b: Browser, session: Session,
                                                 draft: int) -> None:
    for _ in range(2):
        assert b.upload(draft, "sauvegardes", "meme-nom.pdf", PDF).status_code == 303
    first, second = evidence_rows(session, draft)
    assert first.stored_name != second.stored_name
    for e in (first, second):
        assert e.stored_name is not None and "meme" not in e.stored_name
    with pytest.raises(ValueError):
        storage.key_of("../../etc/passwd")


# ---- permissions ----------------------------------------------------------------------------


def test_strangers_get_404_the_region_reads_and_only_directors_change(
        b: Browser, session: Session, draft: int, ehpad: Structure, director: User) -> None:
    b.upload(draft, "sauvegardes", "preuve.pdf", PDF)
    [e] = evidence_rows(session, draft)
    other_director = make_user(session, Role.director, [make_structure(session)])
    other_ars = make_user(session, Role.ars, region="11")
    ars = make_user(session, Role.ars, region="84")
    committee = make_user(session, Role.committee, region="84")

    for stranger in (other_director, other_ars):
        b.as_(stranger)
        assert b.get(f"/preuves/{e.id}").status_code == 404
        assert b.get(f"/evaluations/{draft}/preuves?question=sauvegardes").status_code == 404
        assert b.post(f"/preuves/{e.id}/supprimer").status_code == 404
        assert b.upload(draft, "sauvegardes", "x.pdf", PDF).status_code == 404
    assert b.get("/preuves/999999").status_code == 404

    for reader in (ars, committee):  # a draft's evidence is hidden until submission
        b.as_(reader)
        assert b.get(f"/preuves/{e.id}").status_code == 403
        assert b.get(f"/evaluations/{draft}/preuves?question=sauvegardes").status_code == 403
        assert b.post(f"/preuves/{e.id}/supprimer").status_code == 403
        assert b.upload(draft, "sauvegardes", "x.pdf", PDF).status_code == 403

    b.client.cookies.clear()
    anonymous = b.client.get(f"/preuves/{e.id}", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/connexion")
    assert len(evidence_rows(session, draft)) == 1


def test_delete_removes_the_row_and_the_file(b: Browser, session: Session, settings: Settings,
                                             draft: int, director: User) -> None:
    b.upload(draft, "sauvegardes", "preuve.pdf", PDF)
    [e] = evidence_rows(session, draft)
    response = b.post(f"/preuves/{e.id}/supprimer")
    assert response.status_code == 303
    assert response.headers["location"] == \
        f"/evaluations/{draft}/preuves?question=sauvegardes&supprimee=1"
    assert evidence_rows(session, draft) == []
    assert stored_files(session) == []
    page = b.get(response.headers["location"])
    assert "La preuve a été supprimée." in page.text
    assert "Aucune preuve n’est jointe à cette réponse." in page.text
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "evidence_deleted")).one()
    assert (event.user_id, event.object_id, event.details["filename"]) == \
        (director.id, str(e.id), "preuve.pdf")
    assert b.post(f"/preuves/{e.id}/supprimer").status_code == 404


def test_evidence_stays_with_the_submitted_assessment_and_the_ars_sees_it(
        b: Browser, session: Session, draft: int, director: User) -> None:
    b.upload(draft, "sauvegardes", "restauration.pdf", PDF)
    b.upload(draft, "commentaires", note="Rien à ajouter.")
    [pdf, _] = evidence_rows(session, draft)
    assert b.post(f"/evaluations/{draft}/transmettre", {"declaration": "oui"}).status_code == 303

    assert b.upload(draft, "sauvegardes", "x.pdf", PDF).status_code == 409
    assert b.post(f"/preuves/{pdf.id}/supprimer").status_code == 409
    assert len(evidence_rows(session, draft)) == 2
    page = b.get(f"/evaluations/{draft}/preuves?question=sauvegardes")
    assert "Cette évaluation est transmise : ses preuves ne peuvent plus être modifiées." \
        in page.text
    section = b.get(f"/evaluations/{draft}/sections/s-securite")
    assert f'href="/preuves/{pdf.id}" download>restauration.pdf' in section.text
    assert "Joindre une preuve" not in section.text

    ars = make_user(session, Role.ars, region="84")
    panel = b.as_(ars).get(f"/evaluations/{draft}/revue", htmx=True)
    assert panel.status_code == 200
    # The backups answer decides palier 1: its evidence is on its row.
    row = panel.text.split("<th scope=\"row\">Les données de la structure sont-elles "
                           "sauvegardées ?</th>", 1)[1].split("</tr>", 1)[0]
    assert "<td>Des sauvegardes régulières, jamais testées</td>" in row
    assert f'href="/preuves/{pdf.id}" download>restauration.pdf' in row
    assert "par Claire Martin" in row
    # Evidence on an answer that decides nothing is listed apart.
    others = panel.text.split("Autres preuves jointes", 1)[1]
    assert "Rien à ajouter." in others
    assert b.get(f"/preuves/{pdf.id}").content == PDF


def test_missing_stored_file_is_a_404(b: Browser, session: Session, settings: Settings,
                                       draft: int) -> None:
    b.upload(draft, "sauvegardes", "preuve.pdf", PDF)
    [e] = evidence_rows(session, draft)
    assert e.stored_name is not None
    session.delete(session.get(files.StoredFile, f"evidence/{e.stored_name}"))
    session.commit()
    assert b.get(f"/preuves/{e.id}").status_code == 404


# ---- storage helpers (pure) -----------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown"), [
    ("rapport.pdf", "rapport.pdf"),
    ("C:\\Users\\claire\\Bureau\\rapport.pdf", "rapport.pdf"),
    ("../", ""),
    ("..", ""),
    (None, ""),
    ("e\u0301te\u0301.pdf", "été.pdf"),  # NFC
    ("a\x00b\r\n\u202e.pdf", "ab.pdf"),  # control and bidi characters dropped
    ("a" * 200 + ".pdf", "a" * 146 + ".pdf"),
])
def test_display_name(raw: str | None, shown: str) -> None:
    assert storage.display_name(raw) == shown
