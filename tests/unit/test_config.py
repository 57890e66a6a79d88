from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import DEV_SECRET_KEY, ROOT, Settings

STRONG = "k" * 40


def test_defaults_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PALIER_ENV", "PALIER_SECRET_KEY", "PALIER_DATABASE_URL", "PALIER_EVIDENCE_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.env == "development"
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.database_url == f"sqlite:///{ROOT / 'var' / 'palier.db'}"
    assert settings.questionnaires_dir == ROOT / "questionnaires"
    assert (settings.session_idle_minutes, settings.session_absolute_hours) == (60, 12)
    assert settings.state_marks is True


@pytest.mark.parametrize("env", ["production", "test"])
@pytest.mark.parametrize("key", [DEV_SECRET_KEY, "", "too-short"])
def test_weak_secret_refused_outside_development(env: str, key: str) -> None:
    with pytest.raises(ValidationError, match="PALIER_SECRET_KEY"):
        Settings(env=env, secret_key=key)


def test_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PALIER_ENV", "production")
    monkeypatch.setenv("PALIER_SECRET_KEY", STRONG)
    monkeypatch.setenv("PALIER_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("PALIER_STATE_MARKS", "false")
    monkeypatch.setenv("PALIER_BASE_URL", "https://palier.example.fr")
    monkeypatch.setenv("PALIER_QUESTIONNAIRES_DIR", str(tmp_path))
    settings = Settings()
    assert settings.env == "production"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.state_marks is False
    assert settings.public_url == "https://palier.example.fr"
    assert settings.questionnaires_dir == tmp_path


def test_event_loop_pool_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PALIER_EVENT_LOOP_POOL_SIZE", raising=False)
    assert Settings().event_loop_pool_size == 8
    monkeypatch.setenv("PALIER_EVENT_LOOP_POOL_SIZE", "4")
    assert Settings().event_loop_pool_size == 4
    for bad in ("0", "-1", "201", "seize"):
        monkeypatch.setenv("PALIER_EVENT_LOOP_POOL_SIZE", bad)
        with pytest.raises(ValidationError, match="event_loop_pool_size"):
            Settings()


def test_job_duty_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PALIER_JOB_DUTY_CYCLE", raising=False)
    assert Settings().job_duty_cycle == 1.0
    monkeypatch.setenv("PALIER_JOB_DUTY_CYCLE", "0.4")
    assert Settings().job_duty_cycle == 0.4
    for bad in ("0", "-0.1", "1.5", "moitié"):
        monkeypatch.setenv("PALIER_JOB_DUTY_CYCLE", bad)
        with pytest.raises(ValidationError, match="job_duty_cycle"):
            Settings()
