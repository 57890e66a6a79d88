"""The inline job runner (SQLite, tests) retries transient failures like the queue: at most
`jobs_max_attempts` attempts, then the job's row is failed with a reason. A real SMTP server
that starts late, and job kinds of this module counting their attempts."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app import jobs
from app.config import Settings
from app.jobs.core import JobContext
from tests.integration.test_smtp import Inbox
from tests.live import _free_port

GAVE_UP_3 = ("Échec : la tâche a été tentée 3 fois sans succès (base de données ou serveur "
             "de courriel indisponible). Relancez-la.")


@pytest.fixture
def inline(settings: Settings) -> Settings:
    return settings.model_copy(update={"jobs_runner": "inline", "jobs_max_attempts": 3,
                                       "jobs_retry_wait_seconds": 0})


class Recorder:
    """A job kind failing with `error` on its first `failures` attempts."""

    def __init__(self, failures: int, error: type[Exception]) -> None:
        self.failures, self.error = failures, error
        self.attempts: list[tuple[int, bool]] = []  # (ctx.attempt, ctx.last_attempt)
        self.abandoned: list[tuple[dict[str, Any], str]] = []

    def fn(self, ctx: JobContext, row: int) -> None:
        self.attempts.append((ctx.attempt, ctx.last_attempt))
        if len(self.attempts) <= self.failures:
            raise self.error("indisponible")

    def abandon(self, _ctx: JobContext, kwargs: dict[str, Any], reason: str) -> None:
        self.abandoned.append((kwargs, reason))


def _kind(monkeypatch: pytest.MonkeyPatch, name: str, recorder: Recorder,
          retry: bool = True) -> None:
    monkeypatch.setitem(jobs.KINDS, name, jobs.core.Kind(name, recorder.fn, retry,
                                                         recorder.abandon))


def test_a_transient_failure_is_retried_until_it_succeeds(
        inline: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder(failures=2, error=OSError)
    _kind(monkeypatch, "test_flaky", rec)
    jobs.defer(inline, "test_flaky", row=7)
    assert rec.attempts == [(0, False), (1, False), (2, True)]
    assert rec.abandoned == []


def test_no_attempt_left_fails_the_row_with_a_reason(
        inline: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder(failures=99, error=OSError)
    _kind(monkeypatch, "test_down", rec)
    jobs.defer(inline, "test_down", row=7)
    assert rec.attempts == [(0, False), (1, False), (2, True)]
    assert rec.abandoned == [({"row": 7}, GAVE_UP_3)]


def test_other_errors_and_kinds_without_retry_run_once(
        inline: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    bug = Recorder(failures=99, error=ValueError)
    _kind(monkeypatch, "test_bug", bug)
    jobs.defer(inline, "test_bug", row=1)
    assert bug.attempts == [(0, False)]
    assert bug.abandoned == [({"row": 1}, "Échec : erreur inattendue pendant la tâche. "
                                          "Relancez-la.")]
    once = Recorder(failures=99, error=OSError)
    _kind(monkeypatch, "test_once", once, retry=False)
    jobs.defer(inline, "test_once", row=2)
    assert once.attempts == [(0, True)]
    assert once.abandoned == [({"row": 2}, "Échec : la tâche a été tentée 1 fois sans "
                                           "succès (base de données ou serveur de courriel "
                                           "indisponible). Relancez-la.")]


def test_an_email_is_delivered_when_the_smtp_server_comes_back(
        inline: Settings, tmp_path: Path) -> None:
    port = _free_port()  # nothing listens yet: the first attempt is refused
    settings = inline.model_copy(update={
        "email_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port,
        "smtp_tls": "none", "jobs_retry_wait_seconds": 2})
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    starter = threading.Timer(0.5, controller.start)  # up before the second attempt (2 s)
    starter.start()
    try:
        jobs.defer(settings, "email", to="directrice@example.fr",
                   subject="Palier : accusé de réception", body="Bonjour.")
    finally:
        starter.join()
        controller.stop()
    [message] = inbox.messages()
    assert message["To"] == "directrice@example.fr"
    assert message["Subject"] == "Palier : accusé de réception"
