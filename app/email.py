"""Outgoing e-mail. Backends (setting `PALIER_EMAIL_BACKEND`):

- `console` (default): the message is written to the log and to standard output;
- `memory` (tests): the message is appended to `outbox`, a list tests read and clear;
- `smtp`: sent to PALIER_SMTP_HOST:PALIER_SMTP_PORT (PALIER_SMTP_TLS none | starttls | ssl,
  PALIER_SMTP_USERNAME / PALIER_SMTP_PASSWORD when set), from PALIER_MAIL_FROM.

Sending is the job "email" (app.jobs): on the queue runner (PostgreSQL) the message is
stored and a worker delivers it, retrying a failed SMTP delivery (server down, timeout) up
to PALIER_JOBS_MAX_ATTEMPTS times; on the inline runner it is delivered at once. A failed
delivery is logged (error, with the recipient) and never fails the request that asked for
it: the page answers as if sent (password reset pages say nothing either way).
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

from app import jobs
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
    """Send a message (through the job runner); returns it as built now."""
    message = Email(to=to, subject=subject, body=body, sender=settings.email_from)
    if jobs.runner(settings) == "queue" and settings.email_backend == "smtp":
        jobs.defer(settings, "email", to=to, subject=subject, body=body,
                   sent_at=message.sent_at.isoformat())
    else:
        deliver(settings, message)
    return message


@jobs.register("email")
def email_job(ctx: jobs.JobContext, to: str, subject: str, body: str,
              sent_at: str | None = None) -> None:
    """The "email" job: deliver, and let the queue retry a failed SMTP delivery."""
    message = Email(to=to, subject=subject, body=body, sender=ctx.settings.email_from,
                    sent_at=datetime.fromisoformat(sent_at) if sent_at else utcnow())
    deliver(ctx.settings, message, raise_errors=not ctx.last_attempt)


def deliver(settings: Settings, message: Email, *, raise_errors: bool = False) -> None:
    """Hand `message` to the configured backend. An SMTP failure is logged, and raised
    when `raise_errors` (a job with attempts left)."""
    backend = settings.email_backend
    to, subject = message.to, message.subject
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
            if raise_errors:
                raise
        else:
            log.info("e-mail sent to %s: %s", to, subject)
    else:  # pragma: no cover - the settings type admits no other value
        raise ValueError(f"unknown e-mail backend {backend!r}")
