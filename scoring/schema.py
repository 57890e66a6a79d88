"""The questionnaire format's vocabulary: the field specs of every object (required or not,
and the check of its value), the shared checker that reports FILE:LINE:COL errors. Used by
scoring/validation.py."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from scoring import conditions as C
from scoring.errors import Loc, SourceError
from scoring.yamlsrc import LList, LMap

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
