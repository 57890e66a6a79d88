"""E-mail through SMTP: a real local SMTP server (aiosmtpd) receives what the app sends."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session

from app.config import Settings
from app.email import send_email
from app.permissions import Role
from tests.auth_helpers import csrf_headers, csrf_token, log_in
from tests.factories import make_structure, make_user
from tests.live import _free_port


@dataclass
class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content or b"",  # type: ignore[misc]
                                         policy=email.policy.default)
                for e in self.envelopes]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def use_smtp(settings: Settings, port: int, **kw: Any) -> None:
    settings.email_backend = "smtp"
    settings.smtp_host, settings.smtp_port, settings.smtp_tls = "127.0.0.1", port, "none"
    settings.email_from = "Palier Santé <ne-pas-repondre@palier.example.fr>"
    for name, value in kw.items():
        setattr(settings, name, value)


def test_an_invitation_reaches_the_smtp_server(
        app_client: TestClient, session: Session, settings: Settings,
        smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    use_smtp(settings, port)
    make_structure(session, finess="690000039", name="EHPAD Les Tilleuls", department="69")
    ars = make_user(session, Role.ars, region="84", name="Référente ARS")
    token = log_in(app_client, session, settings, ars)
    sent = app_client.post("/invitations", data={"email": "direction@exemple.fr",
                                                 "structures": "690000039"},
                           headers=csrf_headers(token))
    assert sent.status_code == 200, sent.text

    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "ne-pas-repondre@palier.example.fr"
    assert envelope.rcpt_tos == ["direction@exemple.fr"]
    (message,) = inbox.messages()
    assert message["From"] == "Palier Santé <ne-pas-repondre@palier.example.fr>"
    assert message["To"] == "direction@exemple.fr"
    assert message["Subject"] == "Invitation à l’autodiagnostic Palier"
    raw = envelope.original_content or b""
    assert b"Subject: Invitation =?utf-8?q?=C3=A0_l=E2=80=99autodiagnostic?= Palier\r\n" in raw
    assert b"From: Palier =?utf-8?q?Sant=C3=A9?= <ne-pas-repondre@palier.example.fr>" in raw
    assert re.fullmatch(r"<[^@>]+@palier\.example\.fr>", message["Message-ID"])
    assert message["Date"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert "Référente ARS vous invite" in body
    link = re.search(r"http://127\.0\.0\.1:8000/invitation/[A-Za-z0-9_\-]+", body)
    assert link is not None and link.group(0) in sent.text  # the same link as on the page


def test_a_password_reset_logs_in_to_the_smtp_server(
        app_client: TestClient, session: Session, settings: Settings) -> None:
    inbox = Inbox()
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"palier", b"mot-de-passe-smtp")
        return AuthResult(success=ok)

    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)  # plain-text AUTH on loopback
    controller.start()
    try:
        use_smtp(settings, port, smtp_username="palier",
                 smtp_password=SecretStr("mot-de-passe-smtp"))
        make_user(session, Role.director, email="oubli@example.fr")
        response = app_client.post("/mot-de-passe-oublie",
                                   data={"email": "oubli@example.fr",
                                         "csrf_token": csrf_token(app_client)},
                                   follow_redirects=False)
        assert response.status_code == 303
    finally:
        controller.stop()
    assert logins == [(b"palier", b"mot-de-passe-smtp")]
    (message,) = inbox.messages()
    assert message["Subject"] == "Palier : choisir un nouveau mot de passe"
    assert re.search(r"http://127\.0\.0\.1:8000/reinitialiser/\S+", message.get_content())


def test_an_unreachable_server_is_logged_and_the_page_still_answers(
        app_client: TestClient, session: Session, settings: Settings,
        caplog: pytest.LogCaptureFixture) -> None:
    use_smtp(settings, _free_port())  # nothing listens there
    make_user(session, Role.director, email="perdu@example.fr")
    with caplog.at_level("ERROR", logger="palier.email"):
        response = app_client.post("/mot-de-passe-oublie",
                                   data={"email": "perdu@example.fr",
                                         "csrf_token": csrf_token(app_client)},
                                   follow_redirects=False)
    assert response.status_code == 303
    (record,) = [r for r in caplog.records if r.name == "palier.email"]
    assert record.getMessage().startswith(
        "e-mail not sent to perdu@example.fr: ConnectionRefusedError")


def test_a_refused_login_is_logged(settings: Settings, smtp_server: tuple[Inbox, int],
                                   caplog: pytest.LogCaptureFixture) -> None:
    """The server offers no AUTH: the credentials cannot be used, nothing is sent."""
    inbox, port = smtp_server
    use_smtp(settings, port, smtp_username="palier", smtp_password=SecretStr("x"))
    with caplog.at_level("ERROR", logger="palier.email"):
        send_email(settings, "a@example.fr", "Sujet", "Corps")
    assert inbox.envelopes == []
    assert "SMTPNotSupportedError" in caplog.text


def test_console_stays_the_default() -> None:
    assert Settings(env="development").email_backend == "console"
    assert (Settings(env="development").smtp_tls, Settings(env="development").smtp_port) == (
        "starttls", 587)


def test_starttls_verifies_the_server_certificate(
        settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A server offering STARTTLS with a self-signed certificate is not trusted: nothing
    is sent, the failure is logged."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context)
    controller.start()
    try:
        use_smtp(settings, port, smtp_tls="starttls")
        with caplog.at_level("ERROR", logger="palier.email"):
            send_email(settings, "a@example.fr", "Sujet", "Corps")
    finally:
        controller.stop()
    assert inbox.envelopes == []
    assert "SSLCertVerificationError" in caplog.text
