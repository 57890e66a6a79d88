"""Outgoing e-mail. Backends (setting `PALIER_EMAIL_BACKEND`):

- `console` (default): the message is written to the log and to standard output;
- `memory` (tests): the message is appended to `outbox`, a list tests read and clear.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime

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
    else:  # pragma: no cover - the settings type admits no other value
        raise ValueError(f"unknown e-mail backend {backend!r}")
    return message
