"""The condition grammar: checking at load time, then generating Python for it.

One grammar serves show_if, tier requirements and funding eligibility. A compiled condition
is a function `(eff, ctx) -> bool` where `eff` maps the applicable, answered question ids
to their values and `ctx` gives domain scores and the placed tier (None for show_if).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from scoring.errors import Loc
from scoring.yamlsrc import LList, LMap

if TYPE_CHECKING:
    from scoring.engine import EvalContext

Exact = int | Fraction
CondFn = Callable[[dict[str, Any], "EvalContext | None"], bool]
Usage = Literal["show_if", "requirement", "funding", "applies_if"]

QUESTION_OPS: dict[str, frozenset[str]] = {
    "equals": frozenset({"single_choice", "number", "text"}),
    "not_equals": frozenset({"single_choice", "number", "text"}),
    "in": frozenset({"single_choice"}),
    "not_in": frozenset({"single_choice"}),
    "includes": frozenset({"multiple_choice"}),
    "includes_all": frozenset({"multiple_choice"}),
    "includes_any": frozenset({"multiple_choice"}),
    "count_at_least": frozenset({"multiple_choice"}),
    "at_least": frozenset({"number"}),
    "at_most": frozenset({"number"}),
    "answered": frozenset({"single_choice", "multiple_choice", "number", "text"}),
}
COMBINATORS = ("all", "any", "not")


def exact(x: int | float) -> Exact:
    """An exact value for a YAML number: 2.0 -> 2, 0.1 -> 1/10 (as the author wrote it)."""
    if isinstance(x, int):
        return x
    if x.is_integer():
        return int(x)
    return Fraction(repr(x))


def is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True, slots=True)
class QuestionInfo:
    """What the condition checker needs to know of a question."""

    index: int
    type: str | None
    values: frozenset[str]
    unknown: str | None = None  # the value of its `unknown: true` option, if any


@dataclass(slots=True)
class CheckEnv:
    questions: dict[str, QuestionInfo]
    domains: frozenset[str]
    levels: frozenset[int]
    report: Callable[[Loc, str], None]
    usage: Usage = "show_if"
    owner_index: int = 0  # for show_if: the index of the question carrying it
    owner_id: str = ""


# ---- AST --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QLeaf:
    question: str
    op: str
    operand: Any


@dataclass(frozen=True, slots=True)
class ScoreLeaf:
    domain: str  # a domain id or "global"
    op: str  # at_least | at_most
    n: Exact


@dataclass(frozen=True, slots=True)
class TierLeaf:
    n: int


@dataclass(frozen=True, slots=True)
class Combo:
    op: str  # all | any | not
    items: tuple[Cond, ...] = field(default=())


Cond = QLeaf | ScoreLeaf | TierLeaf | Combo


# ---- checking ---------------------------------------------------------------------------


def check(node: Any, loc: Loc, env: CheckEnv) -> Cond | None:
    """Check one condition node; report every problem; return its AST if it is valid."""
    if not isinstance(node, LMap):
        env.report(loc, "une condition doit être un dictionnaire")
        return None
    keys = set(node)
    combos = keys & set(COMBINATORS)
    if combos:
        if len(keys) != 1:
            env.report(node.loc, "un combinateur (all, any, not) doit être seul dans sa condition")
            return None
        op = next(iter(combos))
        vloc = node.val_loc[op]
        if op == "not":
            inner = check(node[op], vloc, env)
            return Combo("not", (inner,)) if inner is not None else None
        items = node[op]
        if not isinstance(items, LList):
            env.report(vloc, f"« {op} » attend une liste de conditions")
            return None
        parsed = [check(item, iloc, env) for item, iloc in zip(items, items.item_loc, strict=True)]
        if any(p is None for p in parsed):
            return None
        return Combo(op, tuple(p for p in parsed if p is not None))
    if "question" in node:
        return _check_question_leaf(node, env)
    if "score" in node:
        return _check_score_leaf(node, env)
    if "tier_at_least" in node:
        return _check_tier_leaf(node, env)
    env.report(
        node.loc,
        "condition incomprise : attendu question, score, tier_at_least, all, any ou not",
    )
    return None


def _check_question_leaf(node: LMap, env: CheckEnv) -> Cond | None:
    ok = True
    ops = [k for k in node if k != "question"]
    unknown = [k for k in ops if k not in QUESTION_OPS]
    for k in unknown:
        env.report(node.key_loc[k], f"opérateur inconnu « {k} »")
        ok = False
    known = [k for k in ops if k in QUESTION_OPS]
    if not ops:
        env.report(node.loc, "il faut exactement un opérateur (equals, in, includes, at_least…)")
        return None
    if len(known) > 1:
        env.report(node.key_loc[known[1]], "un seul opérateur par condition")
        ok = False
    qid = node["question"]
    qloc = node.val_loc["question"]
    info = env.questions.get(qid) if isinstance(qid, str) else None
    if info is None:
        env.report(qloc, f"question inconnue « {qid} »")
        return None
    if env.usage == "show_if":
        if qid == env.owner_id:
            env.report(qloc, f"show_if ne peut pas porter sur la question elle-même (« {qid} »)")
            ok = False
        elif info.index > env.owner_index:
            env.report(qloc, "show_if ne peut porter que sur une question déclarée avant "
                       f"(« {qid} »)")
            ok = False
    if not known or not ok:
        return None
    op = known[0]
    operand = node[op]
    oloc = node.val_loc[op]
    if info.type is None:
        return None  # the question itself is invalid; reported there
    if info.type not in QUESTION_OPS[op]:
        env.report(node.key_loc[op], f"l'opérateur « {op} » ne s'applique pas à une question "
                   f"de type {info.type} (« {qid} »)")
        return None
    checked = _check_operand(op, operand, oloc, info, qid, env)
    if checked is _INVALID:
        return None
    return QLeaf(qid, op, checked)


_INVALID = object()


def _check_operand(op: str, operand: Any, loc: Loc, info: QuestionInfo, qid: str,
                   env: CheckEnv) -> Any:
    def value_ok(v: Any, vloc: Loc) -> bool:
        if not isinstance(v, str):
            env.report(vloc, f"valeur attendue : une chaîne (option de « {qid} »), reçu {v!r}")
            return False
        if v not in info.values:
            env.report(vloc, f"« {v} » n'est pas une option de la question « {qid} »")
            return False
        return True

    if op == "answered":
        if not isinstance(operand, bool):
            env.report(loc, "« answered » attend true ou false")
            return _INVALID
        return operand
    if op in ("equals", "not_equals"):
        if info.type == "number":
            if not is_number(operand):
                env.report(loc, f"« {op} » attend un nombre pour la question « {qid} »")
                return _INVALID
            return operand
        if info.type == "text":
            if not isinstance(operand, str):
                env.report(loc, f"« {op} » attend une chaîne pour la question « {qid} »")
                return _INVALID
            return operand
        return operand if value_ok(operand, loc) else _INVALID
    if op in ("in", "not_in", "includes_all", "includes_any"):
        if not isinstance(operand, LList):
            env.report(loc, f"« {op} » attend une liste d'options de « {qid} »")
            return _INVALID
        oks = [value_ok(v, vl) for v, vl in zip(operand, operand.item_loc, strict=True)]
        if not all(oks):
            return _INVALID
        return frozenset(operand)
    if op == "includes":
        return operand if value_ok(operand, loc) else _INVALID
    if op == "count_at_least":
        if not isinstance(operand, int) or isinstance(operand, bool) or operand < 0:
            env.report(loc, "« count_at_least » attend un entier positif ou nul")
            return _INVALID
        return operand
    # at_least / at_most on a number question
    if not is_number(operand):
        env.report(loc, f"« {op} » attend un nombre")
        return _INVALID
    return operand


def _check_score_leaf(node: LMap, env: CheckEnv) -> Cond | None:
    if env.usage in ("show_if", "applies_if"):
        env.report(node.key_loc["score"],
                   f"une condition sur un score est interdite dans {env.usage}")
        return None
    ok = True
    domain = node["score"]
    if not isinstance(domain, str) or (domain != "global" and domain not in env.domains):
        env.report(node.val_loc["score"], f"domaine inconnu « {domain} »")
        ok = False
    ops = [k for k in node if k != "score"]
    for k in ops:
        if k not in ("at_least", "at_most"):
            env.report(node.key_loc[k], f"« score » accepte at_least ou at_most, pas « {k} »")
            ok = False
    good = [k for k in ops if k in ("at_least", "at_most")]
    if len(good) != 1:
        if not ops or len(good) > 1:
            env.report(node.loc, "« score » attend exactement un opérateur : at_least ou at_most")
        return None
    op = good[0]
    n = node[op]
    if not is_number(n):
        env.report(node.val_loc[op], f"« {op} » attend un nombre")
        return None
    return ScoreLeaf(domain, op, exact(n)) if ok else None


def _check_tier_leaf(node: LMap, env: CheckEnv) -> Cond | None:
    if env.usage != "funding":
        env.report(node.key_loc["tier_at_least"],
                   "« tier_at_least » n'est permis que dans l'éligibilité d'un financement"
                   + (" (pas dans applies_if)" if env.usage == "applies_if" else ""))
        return None
    if len(node) != 1:
        extra = next(k for k in node if k != "tier_at_least")
        env.report(node.key_loc[extra], "« tier_at_least » doit être seul dans sa condition")
        return None
    n = node["tier_at_least"]
    loc = node.val_loc["tier_at_least"]
    if not isinstance(n, int) or isinstance(n, bool):
        env.report(loc, "« tier_at_least » attend le niveau entier d'un palier")
        return None
    if n not in env.levels:
        env.report(loc, f"aucun palier de niveau {n}")
        return None
    return TierLeaf(n)


# ---- analysis -------------------------------------------------------------------------------


def _leaves(cond: Cond) -> Iterator[Cond]:
    """The leaves of a condition, depth first, left to right."""
    if isinstance(cond, Combo):
        for item in cond.items:
            yield from _leaves(item)
    else:
        yield cond


def referenced_questions(cond: Cond) -> list[str]:
    """Question ids read by a condition, in order of first appearance."""
    ids = [leaf.question for leaf in _leaves(cond) if isinstance(leaf, QLeaf)]
    return list(dict.fromkeys(ids))


def reads_answers_only(cond: Cond) -> bool:
    """Whether a condition reads only answers (no domain score, no tier)."""
    return all(isinstance(leaf, QLeaf) for leaf in _leaves(cond))


def referenced_scores(cond: Cond) -> list[str]:
    """Domain ids whose scores a condition reads, in order of first appearance."""
    ids = [leaf.domain for leaf in _leaves(cond) if isinstance(leaf, ScoreLeaf)]
    return list(dict.fromkeys(ids))

def names_value(leaf: QLeaf, value: str) -> bool:
    """Whether a leaf's operand names an option value."""
    v = leaf.operand
    return bool(v == value) if isinstance(v, str) else isinstance(v, frozenset) and value in v
