"""The hello-world floor of the HTTP benchmarks: the smallest app uvicorn can serve (raw
ASGI, one fixed answer), run with `palier serve`'s server options (bench/http.py)."""

from __future__ import annotations

from typing import Any

BODY = b"hello"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})
