"""Jinja2 environment, French display filters and the single `render()` helper.

Every HTML page goes through `render()`: a full page normally, one block of the same
template when htmx asks for it (`HX-Request` header and a `block_name`), with
`Vary: HX-Request` always set so caches keep both versions apart.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2_fragments import render_block as render_jinja_block
from jinja2_fragments.fastapi import Jinja2Blocks
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from app.accounts.oidc import LOGIN_REQUEST_MINUTES
from app.accounts.retention import UNATTACHED_IDENTITY_RETENTION
from app.assessments.glossary import question_terms
from app.assessments.guide import Estimate, estimate
from app.assessments.service import DEFAULT_QUESTIONNAIRE
from app.config import Settings, get_settings
from app.formatting import date_fr, finess
from app.numbers_fr import number_fr, number_input_fr
from app.questionnaires import get_registry
from app.reference import department_words
from app.shortlists.words import day_words, group_words, reason_words
from app.web import assets
from app.web.assets import static_url
from app.web.navigation import main_nav
from app.web.trend_charts import position_chart, trend_chart

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"

DSFR_VERSION = "1.15.3"
HTMX_VERSION = "2.0.11"



# --- filters -------------------------------------------------------------------------------


_md = MarkdownIt("commonmark", {"html": False})


@lru_cache(maxsize=4096)  # the questionnaires' help texts: the same few hundred on every page
def markdown(text: str | None) -> Markup:
    """Markdown (CommonMark) to HTML; raw HTML in the source is escaped, never rendered."""
    if not text:
        return Markup("")
    return Markup(_md.render(text))


@lru_cache(maxsize=4096)
def markdown_inline(text: str | None) -> Markup:
    """Inline Markdown only (no paragraphs): for labels and other phrasing contexts."""
    if not text:
        return Markup("")
    return Markup(_md.renderInline(text))


# --- environment ---------------------------------------------------------------------------


def configure(settings: Settings) -> None:
    """Apply the settings to the environment (called once by `create_app`): template files
    are re-checked on every render only in development (48 stats a page)."""
    env.auto_reload = settings.is_development
    assets.configure(settings.is_development)


def template_globals(request: Request | None = None) -> dict[str, Any]:
    """Values every page may read, from the settings of the request (set on
    `request.state.settings` by `app.web.auth_deps.resolve_user`; `get_settings()` when no
    route ran, e.g. an error page from a middleware).

    `legal`: deployment facts shown on the legal pages (operator_name, operator_address,
    operator_email, publication_director, host_name, host_address, host_contact,
    host_location, dpo_contact, accessibility_contact, statement_date, site_url); a missing
    key shows a visible "à compléter par l'exploitant" placeholder.
    """
    found = getattr(request.state, "settings", None) if request is not None else None
    settings = found or get_settings()
    return {"state_marks": settings.state_marks, "legal": settings.legal_facts(),
            "retention": retention_words(settings)}


def retention_words(settings: Settings) -> dict[str, int]:
    """The durations the personal-data page states, from the settings that enforce them."""
    return {"session_hours": settings.session_absolute_hours,
            "device_days": settings.mfa_remember_days,
            "challenge_minutes": settings.mfa_challenge_minutes,
            "link_hours": settings.oidc_link_hours,
            "login_request_minutes": LOGIN_REQUEST_MINUTES,
            "login_window_minutes": settings.login_window_minutes,
            "unattached_identity_days": UNATTACHED_IDENTITY_RETENTION.days}


def _request_state(request: Request) -> dict[str, Any]:
    """Context processor: CSRF token and current user set on request.state by middleware."""
    return {
        "csrf_token": getattr(request.state, "csrf_token", "") or "",
        "current_user": getattr(request.state, "user", None),
        "main_nav": main_nav(getattr(request.state, "actor", None), request.url.path),
    }


def dsfr_url(path: str) -> str:
    return static_url(f"vendor/dsfr-{DSFR_VERSION}/{path.lstrip('/')}")


def htmx_url(path: str = "htmx.min.js") -> str:
    return static_url(f"vendor/htmx-{HTMX_VERSION}/{path.lstrip('/')}")


def time_estimate(request: Request) -> Estimate | None:
    """The estimated time to fill in the current questionnaire (structure page)."""
    q = get_registry(request).latest(DEFAULT_QUESTIONNAIRE)
    return estimate(q) if q is not None else None


templates = Jinja2Blocks(directory=TEMPLATES_DIR, context_processors=[_request_state])
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True


def _by_name(*functions: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """Filters and globals are known to the templates by their Python names."""
    return {f.__name__: f for f in functions}


env.filters.update(_by_name(
    date_fr, number_fr, number_input_fr, finess, markdown, markdown_inline,
    # the committee's words for the shortlist's values (pages and the PDF report)
    reason_words, group_words, department_words, day_words))
env.globals.update(
    # question_terms: the acronyms a question uses (glossary links)
    _by_name(static_url, dsfr_url, htmx_url, trend_chart, position_chart, question_terms,
             time_estimate),
    DSFR_VERSION=DSFR_VERSION, HTMX_VERSION=HTMX_VERSION,
    state_marks=True, legal={}, csrf_token="", current_user=None)


# --- questions ------------------------------------------------------------------------------


_FIELDS: OrderedDict[tuple[Any, ...], tuple[Any, Markup]] = OrderedDict()
_FIELDS_MAX = 4096  # ~3 KiB each; a version has ~70 questions, choices a handful of values
_fields_lock = threading.Lock()


def value_key(value: Any) -> Any:
    """A memo key of an answer: equal answers of different types (1, 1.0, True) differ."""
    if isinstance(value, list | tuple):
        return ("seq", tuple(value_key(v) for v in value))
    return (type(value).__name__, value)


def question_field(question: Any, value: Any = None, error: str | None = None,
                   disabled: bool = False, flagged: bool = False) -> Markup:
    """`partials/questions/_question.html` for one question, value, error, disabled state and
    "à revoir" flag (no extra field attributes). The output depends on nothing else, and a
    questionnaire version's questions live as long as the registry: memoised per question
    object (checked by identity) and inputs, so a section page re-renders only the questions
    whose answers it has not met yet. Not in development, where templates change under it
    (`auto_reload`)."""
    try:
        key = None if env.auto_reload else (id(question), value_key(value), error,
                                            bool(disabled), bool(flagged))
        hash(key)
    except TypeError:  # an unhashable answer (never from a validated draft): no memo
        key = None
    if key is not None:
        with _fields_lock:
            hit = _FIELDS.get(key)
            if hit is not None and hit[0] is question:
                _FIELDS.move_to_end(key)
                return hit[1]
    html = Markup(env.get_template("partials/questions/_question.html").render(
        question=question, value=value, error=error, disabled=bool(disabled),
        flagged=bool(flagged), field_attrs=None))
    if key is not None:
        with _fields_lock:
            _FIELDS[key] = (question, html)
            while len(_FIELDS) > _FIELDS_MAX:
                _FIELDS.popitem(last=False)
    return html


env.globals["question_field"] = question_field


# --- rendering -----------------------------------------------------------------------------


class RenderedResponse(HTMLResponse):
    """HTML rendered from `template` and `context`, which it keeps for tests (sent as the
    `http.response.debug` extension, like Starlette's TemplateResponse)."""

    def __init__(
        self,
        content: str,
        template: Any,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(content, status_code, headers, background=background)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions") or {}
        if "http.response.debug" in extensions:
            info = {"template": self.template, "context": self.context}
            await send({"type": "http.response.debug", "info": info})
        await super().__call__(scope, receive, send)


class FragmentResponse(RenderedResponse):
    """One block of a template; keeps `template` and `context` for tests, like full pages."""

    def __init__(
        self,
        template_name: str,
        block_name: str,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.block_name = block_name
        content = render_jinja_block(env, template_name, block_name, context)
        super().__init__(content, env.get_template(template_name), context, status_code,
                         headers, background=background)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request", "").lower() == "true"


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    block_name: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render `template`; only `block_name` for an htmx request. Always `Vary: HX-Request`.

    The context gets `request`, `csrf_token`, `current_user` and `template_globals()`;
    values passed by the caller win over the globals.
    """
    if block_name and is_htmx(request):
        return render_block(request, template, block_name, context, status_code, headers)
    full: dict[str, Any] = {**template_globals(request), **(context or {})}
    response = templates.TemplateResponse(
        request, template, full, status_code=status_code, headers=headers
    )
    return vary(response)


def render_block(
    request: Request,
    template: str,
    block_name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Only `block_name` of `template`, whatever the request (a response only htmx asks for,
    e.g. an autosave); same context as `render()`."""
    full: dict[str, Any] = {**template_globals(request), **(context or {})}
    full.setdefault("request", request)
    full.update(_request_state(request))
    return vary(FragmentResponse(template, block_name, full, status_code, headers))


def vary(response: Response) -> Response:
    vary = response.headers.get("Vary")
    if vary is None:
        response.headers["Vary"] = "HX-Request"
    elif "hx-request" not in vary.lower():
        response.headers["Vary"] = f"{vary}, HX-Request"
    return response
