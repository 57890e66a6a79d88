"""Outgoing e-mail. Backends (setting `PALIER_EMAIL_BACKEND`):

- `console` (default): the message is written to the log and to standard output;
- `memory` (tests): the message is appended to `outbox`, a list tests read and clear;
- `smtp`: sent to PALIER_SMTP_HOST:PALIER_SMTP_PORT (PALIER_SMTP_TLS none | starttls | ssl,
  PALIER_SMTP_USERNAME / PALIER_SMTP_PASSWORD when set), from PALIER_MAIL_FROM.

A failed delivery is logged (error, with the recipient) and never fails the request that
asked for it: the page answers as if sent (password reset pages say nothing either way).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from app.config import Settings
from app.db import utcnow

log = logging.getLogger("palier.email")


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str
    sender: str
    sent_at: datetime = field(default_factory=utcnow)

    def as_text(self) -> str:
        return (
            f"From: {self.sender}\nTo: {self.to}\nSubject: {self.subject}\n"
            f"Date: {self.sent_at.isoformat()}\n\n{self.body}\n"
        )

    def as_mime(self) -> EmailMessage:
        """The message as sent over SMTP: UTF-8 text, encoded headers, a Message-ID."""
        mime = EmailMessage()
        mime["From"] = self.sender
        mime["To"] = self.to
        mime["Subject"] = self.subject
        mime["Date"] = format_datetime(self.sent_at)
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or None
        mime["Message-ID"] = make_msgid(domain=domain)
        mime.set_content(self.body, charset="utf-8")
        return mime


def send_smtp(settings: Settings, message: Email) -> None:
    """Deliver `message` to the configured SMTP server (raises on failure)."""
    timeout = settings.smtp_timeout_seconds
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if settings.smtp_tls == "ssl":
        server = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                  context=context)
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with server:
        if settings.smtp_tls == "starttls":
            server.starttls(context=context)
        if settings.smtp_username:
            server.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        server.send_message(message.as_mime())


# The memory backend's sent messages (tests only).
outbox: list[Email] = []


def send_email(settings: Settings, to: str, subject: str, body: str) -> Email:
    message = Email(to=to, subject=subject, body=body, sender=settings.email_from)
    backend = settings.email_backend
    if backend == "memory":
        outbox.append(message)
    elif backend == "console":
        text = message.as_text()
        log.info("e-mail (console backend):\n%s", text)
        print(f"----- e-mail -----\n{text}------------------", file=sys.stdout, flush=True)
    elif backend == "smtp":
        try:
            send_smtp(settings, message)
        except (smtplib.SMTPException, OSError) as exc:
            log.error("e-mail not sent to %s: %s: %s", to, type(exc).__name__, exc)
        else:
            log.info("e-mail sent to %s: %s", to, subject)
    else:  # pragma: no cover - the settings type admits no other value
        raise ValueError(f"unknown e-mail backend {backend!r}")
    return message
