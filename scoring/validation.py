"""Validation of a parsed questionnaire or catalogue document against the format
(docs: questionnaire-format.md), every error with its location. Used by scoring/loader.py."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from scoring import conditions as C
from scoring.errors import Loc, SourceError
from scoring.model import Catalogue
from scoring.schema import (
    BAND,
    CATALOGUE,
    DOMAIN,
    EFFORTS,
    FUNDING,
    FUNDING_KINDS,
    NEXT_STEP,
    OPTION,
    PROGRAMME,
    QUESTION,
    QUESTION_TYPES,
    QUESTIONNAIRE_ID,
    REQUIREMENT,
    SECTION,
    SOURCE,
    STATUSES,
    TIER,
    TOP,
    WINDOW,
    _Checker,
    _val_loc,
)
from scoring.yamlsrc import LList, LMap


def validate_data(data: Any, root: Loc, file: str) -> list[SourceError]:
    """Every error of a parsed questionnaire document, part after part in file order (top
    keys, domains, sections and questions, show_if conditions, tiers, funding)."""
    ck = _Checker(file)
    if not ck.fields(data, root, TOP, "le questionnaire"):
        return ck.errors
    top: LMap = data
    _check_top(ck, top)
    domains = _check_domains(ck, top)
    funding_ids: dict[str, Loc] = {}  # collected first: next steps refer to them
    for fund, _ in ck.items(top, "funding"):
        if isinstance(fund, LMap):
            ck.unique(funding_ids, fund.get("id"), _val_loc(fund, "id"), "financement")
    infos, questions = _check_sections(ck, top, domains)
    levels = frozenset(
        t["level"]
        for t, _ in ck.items(top, "tiers")
        if isinstance(t, LMap) and isinstance(t.get("level"), int)
    )
    env = C.CheckEnv(questions=infos, domains=frozenset(domains), levels=levels, report=ck.report)
    for q, _ in questions:
        if "show_if" in q and isinstance(q.get("id"), str) and q["id"] in infos:
            env.usage, env.owner_id = "show_if", q["id"]
            env.owner_index = infos[q["id"]].index
            C.check(q["show_if"], q.val_loc["show_if"], env)
    _check_tiers(ck, top, env, funding_ids)
    _check_funding(ck, top, env)
    return ck.errors


def _check_top(ck: _Checker, top: LMap) -> None:
    if isinstance(top.get("id"), str) and not QUESTIONNAIRE_ID.match(top["id"]):
        ck.report(top.val_loc["id"], "id : seuls a-z, 0-9 et - sont permis")
    if "version" in top and not isinstance(top["version"], str):
        ck.report(
            top.val_loc["version"],
            f'version : une chaîne entre guillemets est attendue (ex. "2026.1"), '
            f"reçu {top['version']!r}",
        )


def _check_domains(ck: _Checker, top: LMap) -> dict[str, Loc]:
    """Check the domains; return where each domain id is declared."""
    domains: dict[str, Loc] = {}
    for dom, loc in ck.items(top, "domains"):
        if ck.fields(dom, loc, DOMAIN, "un domaine"):
            if dom.get("id") == "global":
                ck.report(dom.val_loc["id"], "l'identifiant de domaine « global » est réservé")
            else:
                ck.unique(domains, dom.get("id"), _val_loc(dom, "id"), "domaine")
            w = dom.get("weight")
            if C.is_number(w) and w <= 0:
                ck.report(dom.val_loc["weight"], "weight : doit être strictement positif")
    if isinstance(top.get("domains"), LList) and not top["domains"]:
        ck.report(top.val_loc["domains"], "domains : au moins un domaine est attendu")
    return domains


def _check_sections(
    ck: _Checker, top: LMap, domains: dict[str, Loc]
) -> tuple[dict[str, C.QuestionInfo], list[tuple[LMap, Loc]]]:
    """Check the sections and their questions' structure; return what conditions need to
    know of each question (by id, the first declared of an id) and every question mapping."""
    infos: dict[str, C.QuestionInfo] = {}
    questions: list[tuple[LMap, Loc]] = []
    question_locs: dict[str, Loc] = {}
    sections: dict[str, Loc] = {}
    for sec, loc in ck.items(top, "sections"):
        if not ck.fields(sec, loc, SECTION, "une section"):
            continue
        ck.unique(sections, sec.get("id"), _val_loc(sec, "id"), "section")
        if isinstance(sec.get("questions"), LList) and not sec["questions"]:
            ck.report(sec.val_loc["questions"], "questions : la section est vide")
        for q, qloc in ck.items(sec, "questions"):
            if not ck.fields(q, qloc, QUESTION, "une question"):
                continue
            qtype = _check_question(ck, q, domains)
            qid = q.get("id")
            if isinstance(qid, str):
                if qid in question_locs:
                    ck.report(
                        q.val_loc["id"],
                        f"question « {qid} » en double (déjà à la ligne {question_locs[qid].line})",
                    )
                else:
                    question_locs[qid] = q.val_loc["id"]
                    infos[qid] = _question_info(q, qtype, len(infos))
            questions.append((q, qloc))
    if isinstance(top.get("sections"), LList) and not top["sections"]:
        ck.report(top.val_loc["sections"], "sections : au moins une section est attendue")
    return infos, questions


def _question_info(q: LMap, qtype: str | None, index: int) -> C.QuestionInfo:
    """What conditions need to know of a question: its option values, its "je ne sais pas"."""
    opts = [
        o
        for o in (q.get("options") or [])
        if isinstance(o, LMap) and isinstance(o.get("value"), str)
    ]
    values = frozenset(o["value"] for o in opts)
    unknown = next((o["value"] for o in opts if o.get("unknown") is True), None)
    return C.QuestionInfo(index, qtype, values, unknown)


def _check_tiers(ck: _Checker, top: LMap, env: C.CheckEnv, funding_ids: dict[str, Loc]) -> None:
    """Check the tiers, their levels and their requirements."""
    env.usage = "requirement"
    tier_ids: dict[str, Loc] = {}
    req_ids: dict[str, Loc] = {}
    tiers = top.get("tiers")
    if isinstance(tiers, LList) and not tiers:
        ck.report(top.val_loc["tiers"], "tiers : au moins un palier est attendu")
    for expected_level, (tier, loc) in enumerate(ck.items(top, "tiers")):
        if not ck.fields(tier, loc, TIER, "un palier"):
            continue
        ck.unique(tier_ids, tier.get("id"), _val_loc(tier, "id"), "palier")
        level = tier.get("level")
        if isinstance(level, int) and not isinstance(level, bool) and level != expected_level:
            ck.report(
                tier.val_loc["level"],
                f"level : les niveaux doivent se suivre à partir "
                f"de 0 dans l'ordre déclaré (attendu {expected_level}, reçu {level})",
            )
        for req, rloc in ck.items(tier, "requires"):
            if ck.fields(req, rloc, REQUIREMENT, "une exigence"):
                ck.unique(req_ids, req.get("id"), _val_loc(req, "id"), "exigence")
                _check_requirement(ck, req, env, funding_ids)


def _check_requirement(
    ck: _Checker, req: LMap, env: C.CheckEnv, funding_ids: dict[str, Loc]
) -> None:
    """A requirement's conditions and next step (`env.usage` is "requirement")."""
    if "condition" in req:
        C.check(req["condition"], req.val_loc["condition"], env)
    if "applies_if" in req:
        env.usage = "applies_if"
        C.check(req["applies_if"], req.val_loc["applies_if"], env)
        env.usage = "requirement"
    step = req.get("next_step")
    has_step = "next_step" in req and ck.fields(
        step, _val_loc(req, "next_step"), NEXT_STEP, "une prochaine étape"
    )
    if has_step and isinstance(step, LMap):
        if "effort" in step and step["effort"] not in EFFORTS:
            ck.report(
                step.val_loc["effort"],
                f"effort : « {step['effort']} » inconnu (faible, moyen ou eleve)",
            )
        for fid, floc in ck.items(step, "funding"):
            if fid not in funding_ids:
                ck.report(floc, f"financement inconnu « {fid} »")


def _check_funding(ck: _Checker, top: LMap, env: C.CheckEnv) -> None:
    for fund, loc in ck.items(top, "funding"):
        if not ck.fields(fund, loc, FUNDING, "un financement"):
            continue
        kind = fund.get("kind", "funding")
        if kind not in FUNDING_KINDS:
            ck.report(fund.val_loc["kind"], f"kind : « {kind} » inconnu (funding ou resource)")
        if "eligible_if" in fund:
            env.usage = "funding"
            C.check(fund["eligible_if"], fund.val_loc["eligible_if"], env)
        elif kind != "resource":
            ck.report(fund.loc, "clé obligatoire « eligible_if » manquante dans un financement")
        if "applies_if" in fund:
            env.usage = "applies_if"
            C.check(fund["applies_if"], fund.val_loc["applies_if"], env)
        _check_sources(ck, fund, required=False)


def _check_sources(ck: _Checker, owner: LMap, *, required: bool) -> None:
    sources = owner.get("sources")
    if not isinstance(sources, LList):
        return
    if required and not sources:
        ck.report(owner.val_loc["sources"], "sources : au moins une source est attendue")
    for src, sloc in zip(sources, sources.item_loc, strict=True):
        ck.fields(src, sloc, SOURCE, "une source")


def validate_catalogue(data: Any, root: Loc, file: str) -> list[SourceError]:
    """Every error of a parsed programme catalogue (programmes.yaml)."""
    ck = _Checker(file)
    if not ck.fields(data, root, CATALOGUE, "le catalogue des programmes"):
        return ck.errors
    ids: dict[str, Loc] = {}
    for prog, loc in ck.items(data, "programmes"):
        if not ck.fields(prog, loc, PROGRAMME, "un programme"):
            continue
        ck.unique(ids, prog.get("id"), _val_loc(prog, "id"), "programme")
        status = prog.get("status")
        if "status" in prog and status not in STATUSES:
            ck.report(
                prog.val_loc["status"],
                f"status : « {status} » inconnu (open, closed, ended ou announced)",
            )
        window = prog.get("window")
        if "window" in prog and ck.fields(window, prog.val_loc["window"], WINDOW, "window"):
            if not window:
                ck.report(window.loc, "window : from ou until est attendu")
            start, end = window.get("from"), window.get("until")
            if isinstance(start, date) and isinstance(end, date) and start > end:
                ck.report(window.val_loc["until"], "until doit être postérieur ou égal à from")
        _check_sources(ck, prog, required=True)
    return ck.errors


def check_catalogue_ids(
    data: LMap, file: str, catalogue: Catalogue | None, catalogue_file: str
) -> list[SourceError]:
    """Every funding id of a questionnaire must be a programme of the catalogue."""
    ck = _Checker(file)
    known = {p.id for p in catalogue.programmes} if catalogue is not None else set()
    for fund, _ in ck.items(data, "funding"):
        fid = fund.get("id") if isinstance(fund, LMap) else None
        if isinstance(fid, str) and fid not in known:
            ck.report(
                fund.val_loc["id"],
                f"programme « {fid} » absent du catalogue {catalogue_file}"
                if catalogue is not None
                else f"programme « {fid} » : catalogue {catalogue_file} introuvable ou invalide",
            )
    return ck.errors


def _check_points(ck: _Checker, owner: LMap, domains: dict[str, Loc]) -> None:
    points = owner.get("points")
    if not isinstance(points, LMap):
        return
    for dom, value in points.items():
        if dom not in domains:
            ck.report(points.key_loc[dom], f"domaine inconnu « {dom} » dans points")
        if not C.is_number(value) or value < 0:
            ck.report(points.val_loc[dom], "points : un nombre positif ou nul est attendu")


def _check_question(ck: _Checker, q: LMap, domains: dict[str, Loc]) -> str | None:
    """Check a question by its type, in the order the format documents the rules; return the
    type (None when unknown)."""
    qtype = q.get("type")
    if qtype not in QUESTION_TYPES:
        if "type" in q:
            ck.report(
                q.val_loc["type"], f"type : « {qtype} » inconnu ({', '.join(QUESTION_TYPES)})"
            )
        return None
    choice = qtype in ("single_choice", "multiple_choice")
    if choice:
        _check_options(ck, q, qtype, domains)
    for key in ("min", "max", "bands"):
        if key in q and qtype != "number":
            ck.report(q.key_loc[key], f"« {key} » n'est permis que pour une question number")
    if not choice and "options" in q:
        ck.report(q.key_loc["options"], f"« options » n'est pas permis pour une question {qtype}")
    if qtype == "number":
        _check_number(ck, q, domains)
    return str(qtype)


def _check_options(ck: _Checker, q: LMap, qtype: str, domains: dict[str, Loc]) -> None:
    """The options of a single or multiple choice question."""
    if "options" not in q:
        ck.report(q.loc, f"clé obligatoire « options » manquante pour une question {qtype}")
    elif isinstance(q["options"], LList) and not q["options"]:
        ck.report(q.val_loc["options"], "options : au moins une option est attendue")
    values: dict[str, Loc] = {}
    unknown_at: Loc | None = None  # where its "je ne sais pas" option says unknown: true
    for opt, oloc in ck.items(q, "options"):
        if not ck.fields(opt, oloc, OPTION, "une option"):
            continue
        if "value" in opt:
            if not isinstance(opt["value"], str):
                ck.report(
                    opt.val_loc["value"],
                    f"value : une chaîne est attendue, reçu "
                    f"{opt['value']!r} (mettez-la entre guillemets)",
                )
            else:
                ck.unique(values, opt["value"], opt.val_loc["value"], "valeur d'option")
        if "exclusive" in opt and qtype != "multiple_choice":
            ck.report(
                opt.key_loc["exclusive"],
                "exclusive n'a de sens que pour une question multiple_choice",
            )
        if opt.get("unknown") is True:
            unknown_at = _check_unknown(ck, opt, qtype, unknown_at)
        _check_points(ck, opt, domains)


def _check_unknown(ck: _Checker, opt: LMap, qtype: str, unknown_at: Loc | None) -> Loc | None:
    """An option with `unknown: true`; return where the question's unknown option is now."""
    if qtype != "single_choice":
        ck.report(
            opt.key_loc["unknown"],
            "unknown n'a de sens que pour une question single_choice",
        )
    elif unknown_at is not None:
        ck.report(
            opt.key_loc["unknown"],
            f"une seule option unknown par question (déjà à la ligne {unknown_at.line})",
        )
    else:
        unknown_at = opt.key_loc["unknown"]
    if "points" in opt:
        ck.report(
            opt.key_loc["points"],
            "une option unknown (« je ne sais pas ») ne rapporte aucun point",
        )
    return unknown_at


def _check_number(ck: _Checker, q: LMap, domains: dict[str, Loc]) -> None:
    """The bounds and bands of a number question."""
    lo: Any = q.get("min")
    hi: Any = q.get("max")
    if C.is_number(lo) and C.is_number(hi) and lo > hi:
        ck.report(q.val_loc["max"], "max doit être supérieur ou égal à min")
    previous: float = -math.inf
    for band, bloc in ck.items(q, "bands"):
        if not ck.fields(band, bloc, BAND, "une tranche"):
            continue
        start = band.get("from")
        if C.is_number(start):
            if start <= previous:
                ck.report(
                    band.val_loc["from"],
                    "from : les tranches doivent être strictement croissantes",
                )
            previous = start
        _check_points(ck, band, domains)
