"""The generated scoring function of a questionnaire: `run(answers) -> Result`, one
straight-line function (no loop over questions or requirements) compiled once per
questionnaire by `plan.compile_plan`.

Each question's effective value (None when it does not apply or is unanswered) lives in a
local `q{i}`, each domain's exact earned points and maximum in `e{d}`/`m{d}`, each
requirement's flag in `f{j}` (True met, False unmet, None does not apply). Conditions are
generated straight onto those locals (`codegen.Gen` in local mode). The Result keeps the
locals as tuples; its trace, next steps, gap and funding are laid out on demand by the
functions of `layoutgen.py`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from scoring.codegen import Gen, numbered, read_all, targets
from scoring.result import global_exact

if TYPE_CHECKING:
    from scoring.layoutgen import Layout
    from scoring.plan import QPlan, ReqPlan
    from scoring.result import Result

RunFn = Callable[[dict[str, Any]], "Result"]


def locals_of(qplans: tuple[QPlan, ...] | list[QPlan]) -> dict[str, str]:
    """Question id -> the name of the local holding its effective value."""
    return {p.id: f"q{i}" for i, p in enumerate(qplans)}


def fractional(qplans: tuple[QPlan, ...] | list[QPlan]) -> bool:
    """Whether some points are not integers (sums then are Fractions, shown as floats)."""
    return any(
        isinstance(pts, Fraction)
        for p in qplans
        for pairs in (*p.choice_points.values(), *p.band_points, p.max_pairs)
        for _, pts in pairs
    )


def tier_met(reqs: tuple[ReqPlan, ...], span: range) -> str:
    """Source of "every requirement of this span (one tier's) is met or does not apply". A
    requirement without applies_if has a plain bool flag (never None)."""
    return (
        " and ".join(f"f{j}" if reqs[j].applies is None else f"f{j} is not False" for j in span)
        or "True"
    )


def _by_domain(pairs: tuple[tuple[int, Any], ...], touched: list[int]) -> tuple[Any, ...]:
    points = dict(pairs)
    return tuple(points.get(d, 0) for d in touched)


class Points(dict[Any, Any]):
    """The tolerant table: a value it does not list (an unvalidated answer) earns 0."""

    def __missing__(self, key: object) -> int:
        return 0


def _table(points: dict[Any, Any], tolerant: bool) -> dict[Any, Any]:
    """Answer value -> points, read with `[]`, every option value and None (unanswered or not
    applicable) listed. The plain dict is read fastest (a subclass's `[]` is not
    specialised) and raises KeyError for a value it does not list; `Points` gives 0."""
    return Points({**points, None: 0}) if tolerant else {**points, None: 0}


NUMBER = frozenset({int, float})  # the classes a number answer is read from (not bool)


def _adds(ind: str, touched: list[int]) -> list[str]:
    """Add the points tuple `t` (one item per touched domain) to the domains' sums."""
    return [f"{ind}e{d} += t[{j}]" for j, d in enumerate(touched)]


def _add_found(ind: str, found: str, touched: list[int]) -> list[str]:
    """Add the points tuple `found` looks up (None: the value earns nothing)."""
    return [f"{ind}t = {found}", f"{ind}if t is not None:", *_adds(ind + "    ", touched)]


def _per_value(p: QPlan, touched: list[int]) -> dict[str, tuple[Any, ...]]:
    """Option value -> its points per touched domain (values earning nothing left out)."""
    return {v: _by_domain(pairs, touched) for v, pairs in p.choice_points.items() if pairs}


def _question(gen: Gen, p: QPlan, q: str, ind: str, tolerant: bool) -> list[str]:
    """Normalise one applicable question's local (read raw before) and add its points.
    Single choices scoring one domain are summed apart (`_flat_sums`); missing answers are
    found apart (`compile_run`)."""
    k = gen.const
    touched = sorted({d for d, _ in p.max_pairs})
    none = [f"{ind}    missing.append({k(p.id)})"] if p.required else []
    none.append(f"{ind}    nn += 1")  # its value is None (`answered`)
    if p.type == "text":
        return [
            f"{ind}if {q} is None or {q}.__class__ is not str or not {q}.strip():",
            f"{ind}    {q} = None",
            *none,
        ]
    if p.type == "multiple_choice":
        lines = [f"{ind}if not {q} or {q}.__class__ is not list:", f"{ind}    {q} = None", *none]
        return [*lines, *_multiple_points(k, p, q, ind, touched, tolerant)] if touched else lines
    lines = [f"{ind}if {q} is None:", *none]
    if (
        not touched
        or (p.type == "number" and not p.band_from)
        or (p.type == "single_choice" and len(touched) == 1)
    ):
        return lines
    if p.type == "number":
        return [*lines, *_band_points(k, p, q, ind, touched, "elif")]
    return [
        *lines,
        f"{ind}else:",
        *_add_found(ind + "    ", f"{k(_per_value(p, touched))}.get({q})", touched),
    ]


def _multiple_points(
    k: Callable[[Any], str], p: QPlan, q: str, ind: str, touched: list[int], tolerant: bool
) -> list[str]:
    """The `else:` branch adding the points of a (non-empty list) multiple choice answer."""
    body = ind + "    "
    if len(touched) == 1:
        pts = {v: _by_domain(pairs, touched)[0] for v, pairs in p.choice_points.items()}
        table = _table(pts, tolerant)
        return [
            f"{ind}else:",
            f"{body}for x in {q}:",
            f"{body}    e{touched[0]} += {k(table)}[x]",
        ]
    return [
        f"{ind}else:",
        f"{body}cp = {k(_per_value(p, touched))}.get",
        f"{body}for x in {q}:",
        *_add_found(body + "    ", "cp(x)", touched),
    ]


def _band_points(
    k: Callable[[Any], str], p: QPlan, q: str, ind: str, touched: list[int], head: str
) -> list[str]:
    """The branch (`head`: if or elif) adding the points of a number answer's band."""
    if len(touched) == 1:  # index 0: below the first band
        band = (0, *(_by_domain(b, touched)[0] for b in p.band_points))
        return [
            f"{ind}{head} {q}.__class__ in NUMBER:",
            f"{ind}    e{touched[0]} += {k(band)}[bisect_right({k(p.band_from)}, {q})]",
        ]
    per_band = tuple(_by_domain(b, touched) for b in p.band_points)
    return [
        f"{ind}{head} {q}.__class__ in NUMBER:",
        f"{ind}    i = bisect_right({k(p.band_from)}, {q}) - 1",
        f"{ind}    if i >= 0:",
        f"{ind}        t = {k(per_band)}[i]",
        *_adds(ind + "        ", touched),
    ]


def _flat_sums(
    qplans: list[QPlan], local: dict[str, str], ndom: int, k: Callable[[Any], str], tolerant: bool
) -> list[str]:
    """Single choices scoring one domain, summed per domain in one expression (a None
    local, not applicable or unanswered, earns 0)."""
    lines = []
    for d in range(ndom):
        ps = [p for p in qplans if p.type == "single_choice" and p.flat and p.domain == d]
        if ps:
            lines.append(
                f"    e{d} += "
                + " + ".join(f"{k(_table(p.flat, tolerant))}[{local[p.id]}]" for p in ps)
            )
    return lines


def _scores(
    ndom: int,
    base_max: tuple[Any, ...],
    weights: tuple[float, ...],
    exact_fractions: bool,
    k: Callable[[Any], str],
) -> list[str]:
    """Domain scores (floats) and the global score, the same float operations in the same
    order as a plain loop over the domains."""
    lines = ["    wsum = 0.0", "    wtot = 0.0"]
    for d in range(ndom):
        ratio = f"100 * e{d} / m{d}"
        ratio = f"float({ratio})" if exact_fractions else ratio
        w = k(weights[d])
        if base_max[d]:  # never 0: maxima only grow
            lines += [f"    s{d} = {ratio}", f"    wsum += {w} * s{d}", f"    wtot += {w}"]
        else:
            lines += [
                f"    if m{d}:",
                f"        s{d} = {ratio}",
                f"        wsum += {w} * s{d}",
                f"        wtot += {w}",
                "    else:",
                f"        s{d} = None",
            ]
    lines.append("    gs = wsum / wtot if wtot else None")
    return lines


def _requirements(
    gen: Gen, reqs: tuple[ReqPlan, ...], tiers: list[tuple[str, int, str, range]]
) -> list[str]:
    """Requirement flags, tier placement (cumulative from the first tier)."""
    lines = []
    for j, r in enumerate(reqs):
        lines.append(f"    f{j} = {gen.expr(r.condition)}")
        if r.applies is not None:
            lines.append(f"    if not {gen.expr(r.applies)}:")
            lines.append(f"        f{j} = None")
    lines.append("    lvl = None")
    for depth, (_, level, _, span) in enumerate(tiers):
        ind = "    " * (depth + 1)
        lines.append(f"{ind}if {tier_met(reqs, span)}:")
        lines.append(f"{ind}    lvl = {level}")
    return lines


def compile_run(
    qplans: list[QPlan], base_max: tuple[Any, ...], weights: tuple[float, ...], layout: Layout
) -> RunFn:
    """Generate `run(answers)`: applicability, domain sums, scores, flags and placement.
    Requirements, tiers, domains and "je ne sais pas" values are read from the `layout`
    (built first: the Results `run` returns carry it).

    Two variants of one body: `run` reads option tables as plain dicts; a value that no
    option has (answers not validated) raises KeyError there, and the tolerant variant,
    whose tables give 0 for it, scores the answers instead."""
    names = {"bisect_right": bisect.bisect_right, "NUMBER": NUMBER, "global_exact": global_exact}
    gen = Gen(layout.index, layout.unknown_of, layout.local)
    body = _run_body(gen, qplans, base_max, weights, layout, tolerant=True)
    tolerant = gen.define("\n".join(["def run(answers):", *body]), "run", "<palier-score>", names)
    gen = Gen(layout.index, layout.unknown_of, layout.local)
    body = _run_body(gen, qplans, base_max, weights, layout, tolerant=False)
    lines = [
        "def run(answers):",
        "    try:",
        *(f"    {line}" for line in body),
        "    except KeyError:  # a value no option has: scored by the tolerant variant",
        "        return tolerant(answers)",
    ]
    fn: RunFn = gen.define(
        "\n".join(lines), "run", "<palier-score>", {**names, "tolerant": tolerant}
    )
    return fn


def _run_body(
    gen: Gen,
    qplans: list[QPlan],
    base_max: tuple[Any, ...],
    weights: tuple[float, ...],
    layout: Layout,
    tolerant: bool,
) -> list[str]:
    # Long: the straight-line function in order: reads, questions, sums, scores, flags.
    """The body of `run` (4-space indented): reads, questions, sums, scores, flags."""
    local = layout.local
    k = gen.const
    ndom = len(layout.index)
    always = sum(1 for p in qplans if p.show_ast is None)
    lines = [
        read_all(k, list(local)),
        f"    if len(answered) == {len(local)}:",
        f"        {targets(local.values())}= answered.values()",
        "    else:  # keys no question has (not validated)",
        f"        {targets(local.values())}= map(answers.get, {k(tuple(local))})",
        "    missing = []",
        "    nn = 0",
        f"    n = {always}",
        *(f"    e{d} = 0" for d in range(ndom)),
        *(f"    m{d} = {k(base_max[d])}" for d in range(ndom)),
    ]
    for p in qplans:
        q = local[p.id]
        if p.show_ast is None:
            lines += _question(gen, p, q, "    ", tolerant)
            continue
        lines.append(f"    if {gen.expr(p.show_ast)}:")
        lines.extend(f"        m{int(d)} += {k(m)}" for d, m in p.max_pairs)
        lines.append("        n += 1")
        lines += _question(gen, p, q, "        ", tolerant)
        lines += ["    else:", f"        {q} = None", "        nn += 1"]
    lines += _flat_sums(qplans, local, ndom, k, tolerant)
    lines += _scores(ndom, base_max, weights, layout.fractional, k)
    flags = _requirements(gen, layout.reqs, layout.tier_list)
    es, ms = numbered("e", ndom), numbered("m", ndom)
    if gen.uses_global:
        lines.append(f"    gx = global_exact(({es}), ({ms}), {k(layout.weights)})")
    lines += flags
    lines.append(
        f"    return {k(layout.result_class)}(({targets(local.values())}),"
        f" ({numbered('f', len(layout.reqs))}), lvl, ({es}), ({ms}), ({numbered('s', ndom)}),"
        f" gs, missing, n, {len(local)} - nn)"
    )
    return lines
