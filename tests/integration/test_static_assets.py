"""Static files: versioned URLs cached for a year, gzip when asked, a favicon at the root."""

from __future__ import annotations

import gzip
import hashlib
import re

from fastapi.testclient import TestClient

from app.web.assets import ROOT


def test_pages_link_versioned_css_served_gzip_with_a_long_cache(app_client: TestClient) -> None:
    home = app_client.get("/").text
    found = re.search(r'href="(/static/css/palier\.css\?v=([0-9a-f]+))"', home)
    assert found is not None
    url, version = found.groups()
    on_disk = (ROOT / "static" / "css" / "palier.css").read_bytes()
    assert version == hashlib.sha256(on_disk).hexdigest()[:12]

    r = app_client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["etag"]
    assert "Accept-Encoding" in r.headers["vary"]
    assert r.content == on_disk  # httpx decodes the gzip body


def test_dsfr_css_is_compressed_to_a_fraction(app_client: TestClient) -> None:
    path = "/static/vendor/dsfr-1.15.3/dsfr.min.css"
    with app_client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as r:
        wire = b"".join(r.iter_raw())
    assert r.headers["content-encoding"] == "gzip"
    dsfr = ROOT / "static" / "vendor" / "dsfr-1.15.3" / "dsfr.min.css"
    assert len(wire) * 4 < dsfr.stat().st_size
    assert gzip.decompress(wire) == dsfr.read_bytes()


def test_unversioned_url_is_revalidated_with_its_etag(app_client: TestClient) -> None:
    r = app_client.get("/static/css/palier.css", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    assert "content-encoding" not in r.headers
    assert r.headers["cache-control"] == "public, no-cache"
    again = app_client.get("/static/css/palier.css", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_favicon_at_the_root_and_linked_from_every_page(app_client: TestClient) -> None:
    r = app_client.get("/favicon.ico")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/x-icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # the ICO signature
    home = app_client.get("/").text
    assert re.search(r'<link rel="icon" href="/static/vendor/dsfr-1\.15\.3/favicon/favicon\.svg'
                     r'\?v=[0-9a-f]{12}" type="image/svg\+xml">', home)
