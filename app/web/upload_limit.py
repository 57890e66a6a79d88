"""Refuse evidence uploads that are too large before their body is read.

The CSRF check parses every form body before any route runs, so the size of an upload must
be checked earlier, here: a POST to the upload path whose Content-Length exceeds the file
limit plus room for the other fields gets 413 at once; one without a Content-Length (chunked)
gets 411. Within that, the storage module counts the file's bytes itself.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from app.reviews.storage import MAX_BYTES, MAX_LABEL
from app.web.templating import env

UPLOAD_PATH = re.compile(r"^/evaluations/\d+/preuves/?$")
OVERHEAD = 64 * 1024  # multipart boundaries, CSRF token, question id, a note


def _page(status: int, title: str, message: str) -> bytes:
    html = env.get_template("pages/error.html").render(status=status, title=title,
                                                       message=message)
    return html.encode()


class UploadSizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BYTES + OVERHEAD) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = self.refusal(scope) if scope["type"] == "http" else None
        if refused is None:
            await self.app(scope, receive, send)
        else:
            await send_page(send, *refused)

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        """(411 or 413, title, message) for an HTTP request this refuses, else None."""
        if scope["method"] != "POST" or not UPLOAD_PATH.match(scope["path"]):
            return None
        length = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else -1
        if length is None:
            return 411, "Longueur requise", ("L’envoi du fichier a échoué : réessayez depuis "
                                             "le formulaire.")
        if length < 0 or length > self.max_bytes:
            return 413, "Fichier trop volumineux", (
                f"Le fichier dépasse la taille maximale de {MAX_LABEL}. Réduisez-le "
                "(par exemple en l’enregistrant en PDF ou en réduisant les images) "
                "puis réessayez.")
        return None


async def send_page(send: Send, status: int, title: str, message: str) -> None:
    """The error page of a refused upload."""
    body = _page(status, title, message)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
