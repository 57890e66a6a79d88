"""Load and validate questionnaire files; report every error as FILE:LINE:COL: message."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scoring import conditions as C
from scoring.errors import Loc, QuestionnaireError, SourceError
from scoring.model import Catalogue, Questionnaire
from scoring.plan import compile_plan
from scoring.yamlsrc import LList, LMap, load_located

QUESTIONNAIRE_ID = re.compile(r"^[a-z0-9-]+$")
ITEM_ID = re.compile(r"^[A-Za-z0-9_-]+$")
QUESTION_TYPES = ("single_choice", "multiple_choice", "number", "text")
EFFORTS = ("faible", "moyen", "eleve")

Check = Callable[[Any], str | None]  # returns an error message or None
Spec = dict[str, tuple[bool, Check]]


def _str(v: Any) -> str | None:
    if not isinstance(v, str) or not v.strip():
        return "une chaîne non vide est attendue"
    return None


def _item_id(v: Any) -> str | None:
    if not isinstance(v, str) or not ITEM_ID.match(v):
        return "identifiant invalide (lettres, chiffres, _ et - seulement)"
    return None


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "true ou false attendu"


def _number(v: Any) -> str | None:
    return None if C.is_number(v) else "un nombre est attendu"


def _int(v: Any) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) else "un entier est attendu"


def _map(v: Any) -> str | None:
    return None if isinstance(v, LMap) else "un dictionnaire est attendu"


def _list(v: Any) -> str | None:
    return None if isinstance(v, LList) else "une liste est attendue"


def _any(v: Any) -> str | None:
    return None


def _url(v: Any) -> str | None:
    if not isinstance(v, str) or not re.match(r"^https?://\S+$", v):
        return "une adresse http(s):// est attendue"
    return None


def _date(v: Any) -> str | None:
    if isinstance(v, date) and not isinstance(v, datetime):
        return None
    return "une date AAAA-MM-JJ est attendue (sans guillemets)"


TOP: Spec = {"id": (True, _str), "version": (True, _any), "title": (True, _str),
       "description": (False, _str), "domains": (True, _list), "sections": (True, _list),
       "tiers": (True, _list), "funding": (False, _list)}
DOMAIN: Spec = {"id": (True, _item_id), "label": (True, _str), "weight": (True, _number)}
SECTION: Spec = {"id": (True, _item_id), "title": (True, _str), "description": (False, _str),
           "questions": (True, _list)}
QUESTION: Spec = {"id": (True, _item_id), "type": (True, _any), "label": (True, _str),
            "help": (False, _str), "required": (False, _bool), "show_if": (False, _any),
            "options": (False, _list), "min": (False, _number), "max": (False, _number),
            "bands": (False, _list)}
OPTION: Spec = {"value": (True, _any), "label": (True, _str), "points": (False, _map),
          "exclusive": (False, _bool), "unknown": (False, _bool)}
BAND: Spec = {"from": (True, _number), "points": (False, _map)}
TIER: Spec = {"id": (True, _item_id), "level": (True, _int), "label": (True, _str),
        "description": (False, _str), "requires": (True, _list)}
REQUIREMENT: Spec = {"id": (True, _item_id), "label": (True, _str), "condition": (True, _any),
               "applies_if": (False, _any), "next_step": (True, _map)}
NEXT_STEP: Spec = {"title": (True, _str), "detail": (False, _str), "effort": (True, _any),
             "funding": (False, _list)}
FUNDING: Spec = {"id": (True, _item_id), "label": (True, _str), "kind": (False, _any),
           "description": (False, _str), "url": (False, _url), "eligible_if": (False, _any),
           "applies_if": (False, _any), "sources": (False, _list)}
SOURCE: Spec = {"url": (True, _url), "title": (True, _str)}
FUNDING_KINDS = ("funding", "resource")
CATALOGUE: Spec = {"programmes": (True, _list)}
PROGRAMME: Spec = {"id": (True, _item_id), "label": (True, _str), "status": (True, _any),
             "as_of": (True, _date), "window": (False, _map), "summary": (True, _str),
             "sources": (True, _list)}
WINDOW: Spec = {"from": (False, _date), "until": (False, _date)}
STATUSES = ("open", "closed", "ended", "announced")
CATALOGUE_FILE = "programmes.yaml"


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[SourceError] = []

    def report(self, loc: Loc, message: str) -> None:
        self.errors.append(SourceError(self.file, loc.line, loc.col, message))

    def fields(self, node: Any, loc: Loc, spec: dict[str, tuple[bool, Check]], what: str) -> bool:
        """Check a mapping's keys and scalar types; return False if it is not a mapping."""
        if not isinstance(node, LMap):
            self.report(loc, f"{what} : un dictionnaire est attendu")
            return False
        for key in node:
            if key not in spec:
                allowed = ", ".join(spec)
                self.report(node.key_loc[key], f"clé inconnue « {key} » dans {what} "
                            f"(clés permises : {allowed})")
        for key, (required, check) in spec.items():
            if key not in node:
                if required:
                    self.report(node.loc, f"clé obligatoire « {key} » manquante dans {what}")
                continue
            problem = check(node[key])
            if problem:
                self.report(node.val_loc[key], f"{key} : {problem}")
        return True

    def items(self, node: LMap, key: str) -> Iterable[tuple[Any, Loc]]:
        seq = node.get(key)
        if isinstance(seq, LList):
            yield from zip(seq, seq.item_loc, strict=True)

    def unique(self, seen: dict[Any, Loc], value: Any, loc: Loc, what: str) -> None:
        if not isinstance(value, str | int) or isinstance(value, bool):
            return
        if value in seen:
            first = seen[value]
            self.report(loc, f"{what} « {value} » en double (déjà à la ligne {first.line})")
        else:
            seen[value] = loc


def _val_loc(node: LMap, key: str) -> Loc:
    return node.val_loc.get(key, node.loc)


def validate_data(data: Any, root: Loc, file: str) -> list[SourceError]:
    """Every error of a parsed questionnaire document."""
    ck = _Checker(file)
    if not ck.fields(data, root, TOP, "le questionnaire"):
        return ck.errors
    top: LMap = data
    if isinstance(top.get("id"), str) and not QUESTIONNAIRE_ID.match(top["id"]):
        ck.report(top.val_loc["id"], "id : seuls a-z, 0-9 et - sont permis")
    if "version" in top and not isinstance(top["version"], str):
        ck.report(top.val_loc["version"],
                  f"version : une chaîne entre guillemets est attendue (ex. \"2026.1\"), "
                  f"reçu {top['version']!r}")

    # Domains
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

    # Funding ids first (next steps refer to them)
    funding_ids: dict[str, Loc] = {}
    for fund, _ in ck.items(top, "funding"):
        if isinstance(fund, LMap):
            ck.unique(funding_ids, fund.get("id"), _val_loc(fund, "id"), "financement")

    # Sections and questions: structure first, collecting what conditions need to know.
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
                    ck.report(q.val_loc["id"], f"question « {qid} » en double "
                              f"(déjà à la ligne {question_locs[qid].line})")
                else:
                    question_locs[qid] = q.val_loc["id"]
                    opts = [o for o in (q.get("options") or [])
                            if isinstance(o, LMap) and isinstance(o.get("value"), str)]
                    values = frozenset(o["value"] for o in opts)
                    unknown = next((o["value"] for o in opts if o.get("unknown") is True), None)
                    infos[qid] = C.QuestionInfo(len(infos), qtype, values, unknown)
            questions.append((q, qloc))
    if isinstance(top.get("sections"), LList) and not top["sections"]:
        ck.report(top.val_loc["sections"], "sections : au moins une section est attendue")

    # Tiers
    levels = frozenset(
        t["level"] for t, _ in ck.items(top, "tiers")
        if isinstance(t, LMap) and isinstance(t.get("level"), int)
    )
    env = C.CheckEnv(questions=infos, domains=frozenset(domains), levels=levels,
                     report=ck.report)

    # show_if conditions
    for q, _ in questions:
        if "show_if" in q and isinstance(q.get("id"), str) and q["id"] in infos:
            env.usage, env.owner_id = "show_if", q["id"]
            env.owner_index = infos[q["id"]].index
            C.check(q["show_if"], q.val_loc["show_if"], env)

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
            ck.report(tier.val_loc["level"], f"level : les niveaux doivent se suivre à partir "
                      f"de 0 dans l'ordre déclaré (attendu {expected_level}, reçu {level})")
        for req, rloc in ck.items(tier, "requires"):
            if not ck.fields(req, rloc, REQUIREMENT, "une exigence"):
                continue
            ck.unique(req_ids, req.get("id"), _val_loc(req, "id"), "exigence")
            if "condition" in req:
                C.check(req["condition"], req.val_loc["condition"], env)
            if "applies_if" in req:
                env.usage = "applies_if"
                C.check(req["applies_if"], req.val_loc["applies_if"], env)
                env.usage = "requirement"
            step = req.get("next_step")
            has_step = "next_step" in req and ck.fields(
                step, _val_loc(req, "next_step"), NEXT_STEP, "une prochaine étape")
            if has_step and isinstance(step, LMap):
                if "effort" in step and step["effort"] not in EFFORTS:
                    ck.report(step.val_loc["effort"],
                              f"effort : « {step['effort']} » inconnu (faible, moyen ou eleve)")
                for fid, floc in ck.items(step, "funding"):
                    if fid not in funding_ids:
                        ck.report(floc, f"financement inconnu « {fid} »")

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
    return ck.errors


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
            ck.report(prog.val_loc["status"],
                      f"status : « {status} » inconnu (open, closed, ended ou announced)")
        window = prog.get("window")
        if "window" in prog and ck.fields(window, prog.val_loc["window"], WINDOW, "window"):
            if not window:
                ck.report(window.loc, "window : from ou until est attendu")
            start, end = window.get("from"), window.get("until")
            if isinstance(start, date) and isinstance(end, date) and start > end:
                ck.report(window.val_loc["until"], "until doit être postérieur ou égal à from")
        _check_sources(ck, prog, required=True)
    return ck.errors


def _check_catalogue_ids(data: LMap, file: str, catalogue: Catalogue | None,
                         catalogue_file: str) -> list[SourceError]:
    """Every funding id of a questionnaire must be a programme of the catalogue."""
    ck = _Checker(file)
    known = {p.id for p in catalogue.programmes} if catalogue is not None else set()
    for fund, _ in ck.items(data, "funding"):
        fid = fund.get("id") if isinstance(fund, LMap) else None
        if isinstance(fid, str) and fid not in known:
            ck.report(fund.val_loc["id"],
                      f"programme « {fid} » absent du catalogue {catalogue_file}"
                      if catalogue is not None else
                      f"programme « {fid} » : catalogue {catalogue_file} introuvable ou invalide")
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
    qtype = q.get("type")
    if qtype not in QUESTION_TYPES:
        if "type" in q:
            ck.report(q.val_loc["type"], f"type : « {qtype} » inconnu "
                      f"({', '.join(QUESTION_TYPES)})")
        return None
    choice = qtype in ("single_choice", "multiple_choice")
    if choice:
        if "options" not in q:
            ck.report(q.loc, f"clé obligatoire « options » manquante pour une question {qtype}")
        elif isinstance(q["options"], LList) and not q["options"]:
            ck.report(q.val_loc["options"], "options : au moins une option est attendue")
        values: dict[str, Loc] = {}
        unknown_at: Loc | None = None
        for opt, oloc in ck.items(q, "options"):
            if not ck.fields(opt, oloc, OPTION, "une option"):
                continue
            if "value" in opt:
                if not isinstance(opt["value"], str):
                    ck.report(opt.val_loc["value"], f"value : une chaîne est attendue, reçu "
                              f"{opt['value']!r} (mettez-la entre guillemets)")
                else:
                    ck.unique(values, opt["value"], opt.val_loc["value"], "valeur d'option")
            if "exclusive" in opt and qtype != "multiple_choice":
                ck.report(opt.key_loc["exclusive"],
                          "exclusive n'a de sens que pour une question multiple_choice")
            if opt.get("unknown") is True:
                if qtype != "single_choice":
                    ck.report(opt.key_loc["unknown"],
                              "unknown n'a de sens que pour une question single_choice")
                elif unknown_at is not None:
                    ck.report(opt.key_loc["unknown"], "une seule option unknown par question "
                              f"(déjà à la ligne {unknown_at.line})")
                else:
                    unknown_at = opt.key_loc["unknown"]
                if "points" in opt:
                    ck.report(opt.key_loc["points"],
                              "une option unknown (« je ne sais pas ») ne rapporte aucun point")
            _check_points(ck, opt, domains)
    for key in ("min", "max", "bands"):
        if key in q and qtype != "number":
            ck.report(q.key_loc[key], f"« {key} » n'est permis que pour une question number")
    if not choice and "options" in q:
        ck.report(q.key_loc["options"], f"« options » n'est pas permis pour une question {qtype}")
    if qtype == "number":
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
                    ck.report(band.val_loc["from"],
                              "from : les tranches doivent être strictement croissantes")
                previous = start
            _check_points(ck, band, domains)
    return str(qtype)


def _build(data: LMap, file: str) -> Questionnaire:
    try:
        q = Questionnaire.model_validate(data)
    except ValidationError as exc:  # pragma: no cover - the checker should catch all of it
        raise QuestionnaireError([SourceError(file, 1, 1, f"questionnaire invalide : {exc}")]) \
            from None
    q._source = file
    line, col = data.val_loc["id"]
    q._id_line = (line, col)
    q._plan = compile_plan(q)
    return q


def parse_questionnaire(text: str, file: str = "<questionnaire>",
                        catalogue: Catalogue | None = None) -> Questionnaire:
    """Validate and compile a questionnaire from YAML text.

    With a `catalogue`, every funding id must be one of its programmes; without one (tests,
    tools) funding ids are not checked against any catalogue.
    """
    cfile = (catalogue.source or CATALOGUE_FILE) if catalogue is not None else ""
    return _parse(text, file, catalogue, cfile, check=catalogue is not None)


def _parse(text: str, file: str, catalogue: Catalogue | None, cfile: str, *, check: bool,
           catalogue_errors: list[SourceError] | None = None) -> Questionnaire:
    data, root, errors = load_located(text, file)
    if errors:
        raise QuestionnaireError(errors)
    if data is None:
        raise QuestionnaireError([SourceError(file, 1, 1, "le fichier est vide")])
    errors = validate_data(data, root, file)
    if check and isinstance(data, LMap):
        id_errors = _check_catalogue_ids(data, file, catalogue, cfile)
        if id_errors:
            errors += id_errors + (catalogue_errors or [])
    if errors:
        raise QuestionnaireError(errors)
    q = _build(data, file)
    q._catalogue = catalogue
    return q


def parse_catalogue(text: str, file: str = CATALOGUE_FILE) -> Catalogue:
    """Validate the programme catalogue from YAML text."""
    data, root, errors = load_located(text, file)
    if errors:
        raise QuestionnaireError(errors)
    if data is None:
        raise QuestionnaireError([SourceError(file, 1, 1, "le fichier est vide")])
    errors = validate_catalogue(data, root, file)
    if errors:
        raise QuestionnaireError(errors)
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as exc:  # pragma: no cover - the checker should catch all of it
        raise QuestionnaireError([SourceError(file, 1, 1, f"catalogue invalide : {exc}")]) \
            from None
    catalogue._source = file
    return catalogue


def load_catalogue(path: str | Path) -> Catalogue:
    """Load programmes.yaml; raise QuestionnaireError listing every FILE:LINE:COL: message."""
    path = Path(path)
    return parse_catalogue(_read(path), str(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError([SourceError(str(path), 1, 1, f"lecture impossible : {exc}")]) \
            from None


CatalogueState = tuple[Catalogue | None, str, list[SourceError]]


def catalogue_beside(path: str | Path) -> CatalogueState:
    """The catalogue of the folder holding `path`: (catalogue or None, its file, its errors)."""
    cpath = Path(path).parent / CATALOGUE_FILE
    if not cpath.is_file():
        return None, str(cpath), []
    try:
        return load_catalogue(cpath), str(cpath), []
    except QuestionnaireError as exc:
        return None, str(cpath), exc.errors


def load_questionnaire(path: str | Path, catalogue: Catalogue | None = None) -> Questionnaire:
    """Load one file; raise QuestionnaireError listing every FILE:LINE:COL: message.

    Its funding ids are checked against `catalogue`, by default the programmes.yaml of the
    file's folder (a missing or invalid catalogue refuses a questionnaire that has funding).
    """
    path = Path(path)
    if catalogue is None:
        state = catalogue_beside(path)
    else:
        state = (catalogue, catalogue.source or CATALOGUE_FILE, [])
    return _load_one(path, state, with_catalogue_errors=True)


def _load_one(path: Path, state: CatalogueState, *, with_catalogue_errors: bool
              ) -> Questionnaire:
    file = str(path)
    catalogue, cfile, cerrors = state
    q = _parse(_read(path), file, catalogue, cfile, check=True,
               catalogue_errors=cerrors if with_catalogue_errors else None)
    expected = f"{q.id}-{q.version}"
    if path.stem != expected:
        line, col = q._id_line
        raise QuestionnaireError([SourceError(
            file, line, col,
            f"le fichier doit s'appeler « {expected}{path.suffix} » (un fichier par id et version)",
        )])
    return q


def load_questionnaires(
    paths: Iterable[str | Path], catalogue: Catalogue | None = None,
) -> tuple[list[Questionnaire], list[QuestionnaireError]]:
    """Load several files: (valid questionnaires, one error per refused file).

    Two files with the same (id, version) are both refused. Each folder's programmes.yaml
    (or `catalogue`) is loaded once; an invalid catalogue is one refused entry of its own,
    and a path naming a programmes.yaml is checked as a catalogue.
    """
    loaded: list[Questionnaire] = []
    refused: list[QuestionnaireError] = []
    states: dict[Path, CatalogueState] = {}

    def state_of(path: Path) -> CatalogueState:
        if catalogue is not None:
            return (catalogue, catalogue.source or CATALOGUE_FILE, [])
        folder = path.resolve().parent
        if folder not in states:
            states[folder] = catalogue_beside(path)
            if states[folder][2]:
                refused.append(QuestionnaireError(states[folder][2]))
        return states[folder]

    for raw in paths:
        path = Path(raw)
        if path.name == CATALOGUE_FILE:
            state_of(path)
            continue
        try:
            loaded.append(_load_one(path, state_of(path), with_catalogue_errors=False))
        except QuestionnaireError as exc:
            refused.append(exc)
    by_key: dict[tuple[str, str], list[Questionnaire]] = {}
    for q in loaded:
        by_key.setdefault(q.key, []).append(q)
    keep: list[Questionnaire] = []
    for key, group in by_key.items():
        if len(group) == 1:
            keep.append(group[0])
            continue
        names = ", ".join(str(q.source) for q in group)
        for q in group:
            line, col = q._id_line
            refused.append(QuestionnaireError([SourceError(
                str(q.source), line, col,
                f"(id, version) {key} défini dans plusieurs fichiers : {names}",
            )]))
    return keep, refused


def questionnaire_files(directory: str | Path) -> list[Path]:
    """The questionnaire files of a directory (*.yaml, *.yml but programmes.yaml), by name."""
    d = Path(directory)
    return sorted(p for p in [*d.glob("*.yaml"), *d.glob("*.yml")] if p.name != CATALOGUE_FILE)
