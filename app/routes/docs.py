"""/docs: Swagger UI for the JSON API, served from static/ (no CDN, no inline script)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web.templating import dsfr_url

SWAGGER_UI_VERSION = "5.35.0"

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} - documentation de l’API</title>
  <link rel="icon" href="{favicon}" type="image/svg+xml">
  <link rel="stylesheet" href="/static/vendor/swagger-ui-{version}/swagger-ui.css">
</head>
<body>
  <main id="swagger-ui" data-openapi-url="{openapi_url}"></main>
  <script src="/static/vendor/swagger-ui-{version}/swagger-ui-bundle.js"></script>
  <script src="/static/js/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    app = request.app
    return HTMLResponse(PAGE.format(title=app.title, version=SWAGGER_UI_VERSION,
                                    favicon=dsfr_url("favicon/favicon.svg"),
                                    openapi_url=app.openapi_url or "/openapi.json"))
