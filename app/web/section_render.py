"""The director's section page rendered from parts (issue 14, lean requests): the same bytes
as `render(request, "pages/director/section.html", context)` for a GET of the page.

- The page without its per-request parts is rendered once per questionnaire version,
  section, state (editable, submitted) and header menu (`pages/director/_section_skeleton.html`
  overrides those blocks of section.html with holes; the user's name, the CSRF token, the
  structure and the assessment's id and version are marks): a `Skeleton`.
- Per request, its holes are filled: the blocks of section.html (side menu, progress,
  notices, save status; base.html's messages), each memoised by what it reads
  (`_block_keys`), and the questions, each `partials/director/_section_question.html`
  memoised by question and inputs (value, visibility, state, "à revoir" flag); the
  assessment's id is a hole in those memos. Every cache is a bounded LRU, dropped when the
  registry's questionnaire objects change (checked by identity).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from jinja2 import Template
from markupsafe import escape

from app.assessments.models import AssessmentStatus
from app.assessments.section_page import SectionPage
from app.config import Settings
from app.formatting import date_fr
from app.web.navigation import crumbs, main_nav
from app.web.skeleton import BoundedCache, Skeleton, hole, split
from app.web.templating import env, template_globals, value_key

PAGE = "pages/director/section.html"
SKELETON = "pages/director/_section_skeleton.html"
QUESTION = "partials/director/_section_question.html"

_skeletons: BoundedCache[tuple[Any, Skeleton]] = BoundedCache(256)  # ~45 KB each
_questions: BoundedCache[tuple[Any, Any, Skeleton]] = BoundedCache(4096)
_block_memo: BoundedCache[tuple[Any, Skeleton]] = BoundedCache(4096)


_loaded: dict[str, Template] = {}


def loaded(name: str) -> Template:
    """`env.get_template(name)`, kept here once loaded unless templates are re-checked on
    every render (development: `auto_reload`): Jinja's own lookup, a lock and a weak
    reference, costs microseconds four times a page."""
    if env.auto_reload:
        return env.get_template(name)
    found = _loaded.get(name)
    if found is None:
        found = _loaded[name] = env.get_template(name)
    return found


def _templates() -> tuple[Template, Template]:
    return loaded(PAGE), loaded("base.html")


def _skeleton(ctx: Mapping[str, Any], nav: list[dict[str, Any]]) -> Skeleton:
    """The page's skeleton for this questionnaire version, section, state and menu."""
    q, section = ctx["questionnaire"], ctx["section"]
    submitted = ctx["assessment"].status == "submitted"
    first = ctx["breadcrumb"][0]
    key = (id(q), section.id, ctx["editable"], submitted, ctx["state_marks"],
           tuple((i["href"], i["text"], i["current"]) for i in nav),
           (first["text"], first["href"]))

    def build() -> tuple[Any, Skeleton]:
        path = f"/evaluations/{hole('id')}/sections/{section.id}"
        marks = {
            **ctx, **template_globals(ctx["request"]),
            "hole": hole, "main_nav": nav, "csrf_token": hole("csrf"),
            "current_user": SimpleNamespace(name=hole("user"), email=""),
            "request": SimpleNamespace(url=SimpleNamespace(path=path), query_params={}),
            "assessment": SimpleNamespace(id=hole("id"), status=ctx["assessment"].status),
            "structure": SimpleNamespace(name=hole("structure_name"), finess=hole("finess")),
            "version": hole("version"), "errors": [], "conflicts": [],
            "breadcrumb": [first, {"text": hole("structure_name"),
                                   "href": f"/structures/{hole('finess')}"},
                           ctx["breadcrumb"][2]],
        }
        for name in ("slots", "progress", "messages", "correction"):
            marks.pop(name, None)
        return q, split(env.get_template(SKELETON).render(marks))

    found = _skeletons.get(key, build)
    if found[0] is not q:  # a registry reloaded: same id, another object
        _skeletons.clear()
        found = _skeletons.get(key, build)
    return found[1]


def _question(slot: Any, ctx: Mapping[str, Any], preuve: str | None,
              evidence: Mapping[str, list[Any]]) -> str:
    """`_section_question.html` for one slot (memoised by its inputs, evidence aside)."""
    qu, q, editable = slot.question, ctx["questionnaire"], ctx["editable"]
    correction = ctx["correction"]
    flagged = correction is not None and qu.id in correction.questions
    items = evidence.get(qu.id) if slot.visible else None
    try:
        key = (id(qu), id(q), slot.visible, value_key(slot.value), slot.error, editable,
               flagged, preuve == qu.id)
        hash(key)
    except TypeError:
        items = items or [None]  # an unhashable answer: rendered without a memo below
    if items:
        return env.get_template(QUESTION).render(
            slot=slot, assessment=ctx["assessment"], questionnaire=q, editable=editable,
            disabled=not editable, correction=correction, request=ctx["request"],
            evidence=evidence)

    def build() -> tuple[Any, Any, Skeleton]:
        html = env.get_template(QUESTION).render(
            slot=slot, assessment=SimpleNamespace(id=hole("id")), questionnaire=q,
            editable=editable, disabled=not editable,
            correction=SimpleNamespace(questions={qu.id}) if flagged else None,
            request=SimpleNamespace(query_params={"preuve": preuve} if preuve else {}),
            evidence={})
        return qu, q, split(html)

    found = _questions.get(key, build)
    if found[0] is not qu or found[1] is not q:
        _questions.clear()
        found = _questions.get(key, build)
    return found[2].fill({"id": str(ctx["assessment"].id)})


def _block_keys(ctx: Mapping[str, Any]) -> dict[str, Hashable | None]:
    """What each per-request block of the page reads (None: not memoised), but the
    assessment's id, a hole in their memo."""
    a, prog, editable = ctx["assessment"], ctx["progress"], ctx["editable"]
    return {
        "sidemenu": (editable, ctx["section"].id, tuple(
            (sp.id, sp.answered, sp.applicable, sp.missing_required) for sp in prog.sections)),
        "progress": (ctx["number"], ctx["total"], prog.answered, prog.applicable),
        "correction_notice": () if ctx["correction"] is None else None,
        "readonly_notice": (True,) if editable else (False, a.status, a.submitted_at),
        "save_status": (a.version > 0, date_fr(a.updated_at) if a.version else ""),
        "messages": tuple((m.get("level"), m.get("text"), m.get("title"))
                          for m in ctx["messages"]),
    }


def _blocks(ctx: Mapping[str, Any]) -> dict[str, str]:
    """The per-request blocks of the page (section.html's, base.html's messages), each
    memoised by what it reads (`_block_keys`)."""
    page, base = _templates()
    q, a = ctx["questionnaire"], ctx["assessment"]
    ui = loaded("macros/ui.html").module
    out = {}
    for name, key in _block_keys(ctx).items():
        template = base if name == "messages" else page

        def build(name: str = name, template: Template = template,
                  marked: bool = key is not None) -> tuple[Any, Skeleton]:
            assessment = SimpleNamespace(
                id=hole("id") if marked else a.id, status=a.status, version=a.version,
                updated_at=a.updated_at, submitted_at=a.submitted_at)
            context = page.new_context({**ctx, "ui": ui, "assessment": assessment})
            return q, split("".join(template.blocks[name](context)))

        if key is None:
            out[name] = build()[1].fill({})
            continue
        found = _block_memo.get((name, id(q), key), build)
        if found[0] is not q:
            _block_memo.clear()
            found = _block_memo.get((name, id(q), key), build)
        out[name] = found[1].fill({"id": str(a.id)})
    return out


def render_section(ctx: Mapping[str, Any], *, nav: list[dict[str, Any]], csrf_token: str,
                   user_name: str, evidence: Mapping[str, list[Any]]) -> str:
    """The page for `ctx`: what `routes.assessments._section_context` builds for a GET, with
    `request` and `state_marks` (the skeleton adds `template_globals()`); `nav`: `main_nav`
    of the actor and path; `evidence`: {question id: [evidence]} of the assessment."""
    skeleton = _skeleton(ctx, nav)
    a, s = ctx["assessment"], ctx["structure"]
    values = _blocks(ctx)
    preuve = ctx["request"].query_params.get("preuve")
    slots: Sequence[Any] = ctx["slots"]
    values["questions"] = "".join(_question(slot, ctx, preuve, evidence) for slot in slots)
    values.update(csrf=csrf_token, user=str(escape(user_name)), id=str(a.id),
                  version=str(ctx["version"]), structure_name=str(escape(s.name)),
                  finess=str(escape(s.finess)))
    return skeleton.fill(values)


def page_fields(actor: Any, a: Any, s: Any, q: Any, index: int, *, progress: Any,
                slots: Any, editable: bool, errors: list[dict[str, Any]],
                conflicts: list[dict[str, Any]], version: int,
                messages: list[dict[str, Any]], correction: Any) -> dict[str, Any]:
    """The section page's own template context, as both its paths give it (the route
    `assessments.section_page` and its lean path, `section_context`)."""
    section = q.sections[index]
    return dict(
        assessment=a, structure=s, questionnaire=q, section=section,
        number=index + 1, total=len(q.sections), progress=progress, slots=slots,
        editable=editable, disabled=not editable, errors=errors, conflicts=conflicts,
        version=version, prev_section=q.sections[index - 1] if index > 0 else None,
        next_section=q.sections[index + 1] if index + 1 < len(q.sections) else None,
        messages=messages, correction=correction,
        breadcrumb=crumbs(actor, (s.name, f"/structures/{s.finess}"),
                          (f"Autodiagnostic – {section.title}", "")),
    )


def section_context(page: SectionPage, request: Any, settings: Settings) -> dict[str, Any]:
    """The lean path's context: `page_fields` of a GET, with what the base layout reads."""
    read = page.read
    a, live = read.found.assessment, read.live
    return dict(
        page_fields(page.actor, a, read.found.structure, page.questionnaire, page.index,
                    progress=page.progress, slots=page.slots, editable=page.editable,
                    errors=[], conflicts=[], version=a.version, messages=page.messages,
                    correction=read.correction if a.status == AssessmentStatus.draft
                    else None),
        request=request, state_marks=settings.state_marks, csrf_token=live.csrf_token,
        current_user=live.user, main_nav=main_nav(page.actor, request.url.path),
    )
