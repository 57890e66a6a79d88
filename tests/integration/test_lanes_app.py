"""Admission lanes in the real app: wired with the settings, and the French 503 page."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.web.lanes import Lanes
from tests.unit.test_lanes import Inner, call, settle


def test_the_app_admits_reads_through_lanes_set_by_the_settings(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PALIER_PAGE_SLOTS", "3")
    monkeypatch.setenv("PALIER_DOWNLOAD_SLOTS", "0")
    monkeypatch.setenv("PALIER_LANE_WAIT_SECONDS", "12.5")
    from app.config import get_settings

    get_settings.cache_clear()
    app = create_app()
    found = [m for m in app.user_middleware if m.cls is Lanes]
    assert len(found) == 1
    assert found[0].kwargs == {"page_slots": 3, "download_slots": 0, "wait_seconds": 12.5}
    get_settings.cache_clear()


def test_a_page_refused_for_want_of_a_slot_gets_the_french_busy_page(
    app_client: TestClient,
) -> None:
    # app_client configured the templates; the page is rendered for a request no route saw.
    async def scenario() -> dict[str, object]:
        inner = Inner()
        app = Lanes(inner, page_slots=1, download_slots=1, wait_seconds=0.05)
        held = asyncio.create_task(call(app, "GET", "/hold"))
        await settle()
        refused = await call(app, "GET", "/regions/84/tableau-de-bord")
        inner.release.set()
        await held
        return refused

    refused = asyncio.run(scenario())
    assert refused["status"] == 503
    headers = refused["headers"]
    assert isinstance(headers, dict)
    assert headers["retry-after"] == "2"
    body = refused["body"]
    assert isinstance(body, bytes)
    page = body.decode()
    assert "Service momentanément indisponible" in page
    assert "Rien n’a été perdu : réessayez dans quelques secondes." in page
    assert '<html lang="fr"' in page


def test_by_default_one_read_and_one_download_at_a_time_per_process() -> None:
    from app.config import Settings

    s = Settings()
    assert (s.page_slots, s.download_slots, s.lane_wait_seconds, s.switch_interval_ms) == (
        1, 1, 30.0, 1.0)
