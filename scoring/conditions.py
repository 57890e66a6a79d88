"""The condition grammar: checking at load time, then generating Python for it.

One grammar serves show_if, tier requirements and funding eligibility. A compiled condition
is a function `(eff, ctx) -> bool` where `eff` maps the applicable, answered question ids
to their values and `ctx` gives domain scores and the placed tier (None for show_if).
"""

from __future__ import annotations

import math
from collections.abc import Callable
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


def referenced_questions(cond: Cond, out: list[str] | None = None) -> list[str]:
    """Question ids read by a condition, in order of first appearance."""
    out = [] if out is None else out
    if isinstance(cond, QLeaf):
        if cond.question not in out:
            out.append(cond.question)
    elif isinstance(cond, Combo):
        for item in cond.items:
            referenced_questions(item, out)
    return out


def referenced_scores(cond: Cond, out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    if isinstance(cond, ScoreLeaf):
        if cond.domain not in out:
            out.append(cond.domain)
    elif isinstance(cond, Combo):
        for item in cond.items:
            referenced_scores(item, out)
    return out


# ---- code generation: many conditions, one Python function --------------------------------


class _Gen:
    """Emit Python expressions for conditions; operands live in a constants list."""

    def __init__(self, domain_index: dict[str, int],
                 unknown: dict[str, str] | None = None) -> None:
        self.consts: list[Any] = []
        self.domain_index = domain_index
        self.unknown = unknown or {}  # question id -> value of its "je ne sais pas" option

    def const(self, value: Any) -> str:
        self.consts.append(value)
        return f"k{len(self.consts) - 1}"

    def define(self, source: str, name: str, filename: str,
               names: dict[str, Any] | None = None) -> Any:
        """Compile the function `name` defined by `source`, its constants bound as closure
        variables (k0, k1, ...: read like locals, not K[i] from the module's globals)."""
        body = "".join(f"    {line}\n" for line in source.splitlines())
        unpack = f"    {', '.join(f'k{i}' for i in range(len(self.consts)))}, = K\n"
        text = f"def make(K):\n{unpack if self.consts else ''}{body}    return {name}\n"
        namespace: dict[str, Any] = dict(names or {})
        exec(compile(text, filename, "exec"), namespace)
        return namespace["make"](tuple(self.consts))

    def expr(self, cond: Cond) -> str:
        if isinstance(cond, Combo):
            parts = [self.expr(c) for c in cond.items]
            if cond.op == "not":
                return f"(not {parts[0]})"
            if not parts:
                return "True" if cond.op == "all" else "False"
            joiner = " and " if cond.op == "all" else " or "
            return "(" + joiner.join(parts) + ")"
        if isinstance(cond, TierLeaf):
            return f"(ctx.tier_level is not None and ctx.tier_level >= {int(cond.n)})"
        if isinstance(cond, ScoreLeaf):
            n = self.const(cond.n)
            cmp = ">=" if cond.op == "at_least" else "<="
            if cond.domain == "global":
                return f"((x := ctx.global_exact()) is not None and x {cmp} {n})"
            i = int(self.domain_index[cond.domain])
            return (f"(bool(ctx.maxs[{i}]) and 100 * ctx.earned[{i}] {cmp} "
                    f"{n} * ctx.maxs[{i}])")
        q = self.const(cond.question)
        op, v = cond.op, cond.operand
        if op == "answered":
            return f"({q} in eff)" if v else f"({q} not in eff)"
        k = self.const(v)
        body = {
            "equals": f"a == {k}",
            "not_equals": f"a != {k}",
            "in": f"a in {k}",
            "not_in": f"a not in {k}",
            "includes": f"{k} in a",
            "includes_all": f"{k}.issubset(a)",
            "includes_any": f"not {k}.isdisjoint(a)",
            "count_at_least": f"len(a) >= {k}",
            "at_least": f"a >= {k}",
            "at_most": f"a <= {k}",
        }[op]
        u = self.unknown.get(cond.question)
        if u is not None and op in ("not_equals", "not_in") and not _names(cond, u):
            # "Je ne sais pas" meets no leaf but answered: true and those naming it.
            body = f"a != {self.const(u)} and {body}"
        return f"((a := g({q})) is not None and {body})"


def _names(leaf: QLeaf, value: str) -> bool:
    """Whether a leaf's operand names an option value."""
    v = leaf.operand
    return bool(v == value) if isinstance(v, str) else isinstance(v, frozenset) and value in v


def compile_group(conds: list[Cond], domain_index: dict[str, int],
                  unknown: dict[str, str] | None = None,
                  ) -> Callable[[dict[str, Any], EvalContext | None], list[bool]]:
    """One generated function evaluating several conditions into a list of booleans.

    Only constant indexes and operator symbols are written into the source; every value
    from the questionnaire is passed through the constants list K.
    """
    gen = _Gen(domain_index, unknown)
    items = ", ".join(gen.expr(c) for c in conds)
    source = f"def group(eff, ctx):\n    g = eff.get\n    return [{items}]\n"
    fn: Callable[[dict[str, Any], EvalContext | None], list[bool]] = gen.define(
        source, "group", "<palier-conditions>")
    return fn


def compile_one(cond: Cond, domain_index: dict[str, int],
                unknown: dict[str, str] | None = None) -> CondFn:
    """One generated function for one condition (used for show_if)."""
    gen = _Gen(domain_index, unknown)
    source = f"def one(eff, ctx):\n    g = eff.get\n    return bool({gen.expr(cond)})\n"
    fn: CondFn = gen.define(source, "one", "<palier-condition>")
    return fn


# ---- plain evaluation and "what would meet it" (the gap to the next tier) ------------------


def evaluate(cond: Cond, eff: dict[str, Any], ctx: EvalContext | None,
             unknown: dict[str, str]) -> bool:
    """The truth of one condition, interpreted (the generated code is the fast path)."""
    if isinstance(cond, Combo):
        if cond.op == "not":
            return not evaluate(cond.items[0], eff, ctx, unknown)
        values = (evaluate(c, eff, ctx, unknown) for c in cond.items)
        return all(values) if cond.op == "all" else any(values)
    if isinstance(cond, TierLeaf):
        return ctx is not None and ctx.tier_level is not None and ctx.tier_level >= cond.n
    if isinstance(cond, ScoreLeaf):
        if ctx is None:
            return False
        if cond.domain == "global":
            s = ctx.global_exact()
            if s is None:
                return False
            return bool(s >= cond.n if cond.op == "at_least" else s <= cond.n)
        i = ctx.domain_index(cond.domain)
        m, e = ctx.maxs[i], ctx.earned[i]
        if not m:
            return False
        return bool(100 * e >= cond.n * m if cond.op == "at_least" else 100 * e <= cond.n * m)
    op, v = cond.op, cond.operand
    if op == "answered":
        return bool((cond.question in eff) == v)
    a = eff.get(cond.question)
    if a is None:
        return False
    u = unknown.get(cond.question)
    if u is not None and a == u and not _names(cond, u):
        return False
    if op == "equals":
        return bool(a == v)
    if op == "not_equals":
        return bool(a != v)
    if op == "in":
        return a in v
    if op == "not_in":
        return a not in v
    if op == "includes":
        return v in a
    if op == "includes_all":
        return bool(v.issubset(a))
    if op == "includes_any":
        return not v.isdisjoint(a)
    if op == "count_at_least":
        return bool(len(a) >= v)
    return bool(a >= v if op == "at_least" else a <= v)


def _plain(x: Any) -> Any:
    if isinstance(x, Fraction):
        return float(x)
    return x


class MeetFinder:
    """What would make a false condition true, in the condition grammar, with the option
    values of single_choice questions spelled out; None where no exact answer says it."""

    def __init__(self, eff: dict[str, Any], ctx: EvalContext | None,
                 unknown: dict[str, str], options: dict[str, tuple[str, ...]],
                 types: dict[str, str]) -> None:
        self.eff, self.ctx, self.unknown = eff, ctx, unknown
        self.options, self.types = options, types

    def holds(self, cond: Cond) -> bool:
        return evaluate(cond, self.eff, self.ctx, self.unknown)

    def _values(self, qid: str, keep: Callable[[str], bool]) -> dict[str, Any]:
        u = self.unknown.get(qid)
        return {"question": qid, "in": [o for o in self.options.get(qid, ()) if o != u and keep(o)]}

    def _leaf(self, leaf: QLeaf, negate: bool) -> dict[str, Any] | None:
        op, v, qid = leaf.op, leaf.operand, leaf.question
        if op == "answered":
            return {"question": qid, "answered": bool(v) != negate}
        if self.types.get(qid) == "single_choice":
            wanted: set[str] = {v} if isinstance(v, str) else set(v)
            inside = op in ("equals", "in")
            if inside != negate:
                return self._values(qid, lambda o: o in wanted)
            return self._values(qid, lambda o: o not in wanted)
        if negate:
            flip = {"equals": "not_equals", "not_equals": "equals"}
            if op in flip and self.types.get(qid) == "text":
                return {"question": qid, flip[op]: v}
            return None
        operand = sorted(v, key=self._order(qid)) if isinstance(v, frozenset) else _plain(v)
        return {"question": qid, op: operand}

    def _order(self, qid: str) -> Callable[[str], int]:
        order = {o: i for i, o in enumerate(self.options.get(qid, ()))}
        return lambda o: order.get(o, len(order))

    def meet(self, cond: Cond, negate: bool = False) -> dict[str, Any] | None:
        """A condition that, once true, makes `cond` (or `not cond`) true."""
        if isinstance(cond, QLeaf):
            return self._leaf(cond, negate)
        if isinstance(cond, ScoreLeaf):
            if negate:
                return None
            return {"score": cond.domain, cond.op: _plain(cond.n)}
        if isinstance(cond, TierLeaf):
            return None if negate else {"tier_at_least": cond.n}
        if cond.op == "not":
            return self.meet(cond.items[0], not negate)
        conjunctive = (cond.op == "all") != negate
        if conjunctive:  # every item must hold: only the false ones need work
            todo = [c for c in cond.items if self.holds(c) == negate]
            parts = [self.meet(c, negate) for c in todo]
            if any(p is None for p in parts):
                return None
            return parts[0] if len(parts) == 1 else {"all": parts}
        options = [p for p in (self.meet(c, negate) for c in cond.items) if p is not None]
        if not options:
            return None
        return options[0] if len(options) == 1 else {"any": options}
