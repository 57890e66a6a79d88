"""Code generation for checked conditions: many conditions, one Python function (the
constants of the questionnaire bound as globals of its own namespace, never written into the
source).
Used by scoring/plan.py (show_if, the validity check), scoregen.py and layoutgen.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from scoring.conditions import Combo, Cond, CondFn, ScoreLeaf, TierLeaf, names_value

# ---- code generation: many conditions, one Python function --------------------------------


def targets(names: Iterable[str]) -> str:
    """Source `a, b, ` of these names: a tuple display once in parentheses, or an unpacking
    target (the trailing comma makes a single name a tuple too)."""
    return "".join(f"{x}, " for x in names)


def read_all(k: Callable[[Any], str], ids: Sequence[str]) -> str:
    """Source (4-space indented) of `answered`: the dict of every question id, in order,
    updated with the answers (`answers.get` for each id costs twice as much). Its values
    start with those of the questions, in order, then those of keys no question has."""
    return f"    answered = {{**{k(dict.fromkeys(ids))}, **answers}}"


def numbered(prefix: str, n: int) -> str:
    """`targets` of the locals prefix0 .. prefix{n-1} (e0, e1, ... for the domain sums)."""
    return targets(f"{prefix}{i}" for i in range(n))


class Gen:
    """Emit Python expressions for conditions; operands live in a constants list."""

    def __init__(
        self,
        domain_index: dict[str, int],
        unknown: dict[str, str] | None = None,
        local: dict[str, str] | None = None,
    ) -> None:
        self.consts: list[Any] = []
        self.domain_index = domain_index
        self.unknown = unknown or {}  # question id -> value of its "je ne sais pas" option
        # Straight-line mode: question id -> the local holding its effective value (None when
        # not applicable or unanswered); domain i's exact sums in e{i}/m{i}, the global score
        # in gx, the placed level in lvl. Otherwise (show_if only): question leaves on eff.
        self.local = local
        self.uses_global = False  # straight-line mode: some condition reads gx

    def const(self, value: Any) -> str:
        self.consts.append(value)
        return f"k{len(self.consts) - 1}"

    def define(
        self, source: str, name: str, filename: str, names: dict[str, Any] | None = None
    ) -> Any:
        """Compile the function `name` defined by `source`, its constants (k0, k1, ...) the
        globals of a namespace of its own. Not closure variables: a call copies every one of
        those into its frame (about 1.3 ns each, 0.4 µs for the 277 of a to_dict)."""
        namespace: dict[str, Any] = dict(names or {})
        namespace.update((f"k{i}", v) for i, v in enumerate(self.consts))
        exec(compile(source, filename, "exec"), namespace)
        return namespace[name]

    def expr(self, cond: Cond) -> str:
        if isinstance(cond, Combo):
            parts = [self.expr(c) for c in cond.items]
            if cond.op == "not":
                return f"(not {parts[0]})"
            if not parts:
                return "True" if cond.op == "all" else "False"
            joiner = " and " if cond.op == "all" else " or "
            return "(" + joiner.join(parts) + ")"
        if isinstance(cond, TierLeaf | ScoreLeaf):
            return self._score_leaf(cond)
        op, v = cond.op, cond.operand
        if self.local is not None:
            a = self.local[cond.question]
            if op == "answered":
                return f"({a} is not None)" if v else f"({a} is None)"
        else:
            q = self.const(cond.question)
            if op == "answered":
                return f"({q} in eff)" if v else f"({q} not in eff)"
        k = self.const(v)
        a = self.local[cond.question] if self.local is not None else "a"
        body = {
            "equals": f"{a} == {k}",
            "not_equals": f"{a} != {k}",
            "in": f"{a} in {k}",
            "not_in": f"{a} not in {k}",
            "includes": f"{k} in {a}",
            "includes_all": f"{k}.issubset({a})",
            "includes_any": f"not {k}.isdisjoint({a})",
            "count_at_least": f"len({a}) >= {k}",
            "at_least": f"{a} >= {k}",
            "at_most": f"{a} <= {k}",
        }[op]
        if op == "includes_all" and self.local is not None and 0 < len(v) <= 4:
            # A local is a list (or None): a few `in` tests instead of a set built from it.
            body = " and ".join(f"{self.const(x)} in {a}" for x in sorted(v))
        u = self.unknown.get(cond.question)
        if u is not None and op in ("not_equals", "not_in") and not names_value(cond, u):
            # "Je ne sais pas" meets no leaf but answered: true and those naming it.
            body = f"{a} != {self.const(u)} and {body}"
        if self.local is not None:
            if op in ("equals", "in") and body.startswith(a):
                return f"({body})"  # None equals no operand and is in no option set
            return f"({a} is not None and {body})"
        return f"((a := g({q})) is not None and {body})"

    def _score_leaf(self, cond: TierLeaf | ScoreLeaf) -> str:
        """Score and tier leaves, straight-line mode only: the one other mode compiles
        show_if, where the checker refuses them (`conditions._check_score_leaf`)."""
        if self.local is None:  # pragma: no cover - refused by the checker
            raise ValueError("score and tier conditions need the straight-line mode")
        if isinstance(cond, TierLeaf):
            return f"(lvl is not None and lvl >= {int(cond.n)})"
        n = self.const(cond.n)
        cmp = ">=" if cond.op == "at_least" else "<="
        if cond.domain == "global":
            self.uses_global = True
            return f"(gx is not None and gx {cmp} {n})"
        i = int(self.domain_index[cond.domain])
        return f"(bool(m{i}) and 100 * e{i} {cmp} {n} * m{i})"


def compile_one(
    cond: Cond, domain_index: dict[str, int], unknown: dict[str, str] | None = None
) -> CondFn:
    """One generated function for one condition (used for show_if)."""
    gen = Gen(domain_index, unknown)
    source = f"def one(eff, ctx):\n    g = eff.get\n    return bool({gen.expr(cond)})\n"
    fn: CondFn = gen.define(source, "one", "<palier-condition>")
    return fn
