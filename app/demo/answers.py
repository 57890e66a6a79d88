"""Demo answers: a complete set of answers for a structure profile that scores at a wanted
tier (the real engine decides). The profile answers are `profile_answers.py`, the tier
quotas `plan.py`."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from typing import Any

from app.demo.profiles import COMMENTS, DUI_SOFTWARE
from scoring import Questionnaire, Result, applicable, score, validate_answers
from scoring.generate import generate_answers


class CannotBuild(Exception):
    """No answer set with the target palier was found (should not happen)."""


_MAX_ATTEMPTS = 40
_MATURITY = {0: 0.15, 1: 0.3, 2: 0.45, 3: 0.62, 4: 0.78}


class AnswerBuilder:
    """Answer sets that place a structure on a given palier of a questionnaire.

    Reads the tier requirements of the questionnaire and knows how to make a condition
    true (`satisfy`) or false (`negate`) by changing answers to non-profile questions.
    """

    def __init__(self, q: Questionnaire, profile_questions: Iterable[str] | None = None) -> None:
        """`profile_questions` are never changed (default: the first section's questions)."""
        self.q = q
        self.questions = q.questions
        self.tiers = sorted(q.tiers, key=lambda t: t.level)
        self.top = self.tiers[-1].level
        if profile_questions is None:
            profile_questions = [qu.id for qu in q.sections[0].questions]
        self.fixed = frozenset(profile_questions)
        self.order = list(q.questions)
        # question id -> the value of its "je ne sais pas" option (contract revision 2)
        self.unknown = {qid: u for qid, qu in q.questions.items()
                        for u in [next((o.value for o in qu.options or [] if o.unknown),
                                       None)] if u is not None}
        # Option values from fewest to most points.
        self.ranked = {
            qid: [o.value for o in sorted(qu.options or [], key=lambda o: sum(o.points.values()))]
            for qid, qu in q.questions.items()
        }

    # -- evaluation (the format's condition semantics) --

    def shown(self, qid: str, ans: dict[str, Any]) -> bool:
        cond = self.questions[qid].show_if
        return cond is None or self.holds(cond, ans)

    def holds(self, cond: dict[str, Any], ans: dict[str, Any]) -> bool:
        if "all" in cond:
            return all(self.holds(c, ans) for c in cond["all"])
        if "any" in cond:
            return any(self.holds(c, ans) for c in cond["any"])
        if "not" in cond:
            return not self.holds(cond["not"], ans)
        if "question" not in cond:
            raise CannotBuild(f"unsupported condition {cond!r}")
        qid = cond["question"]
        value: Any = ans.get(qid) if self.shown(qid, ans) else None
        answered = value is not None and value != [] and value != ""
        if "answered" in cond:
            return answered == bool(cond["answered"])
        if not answered:
            return False
        op, x = _operator(cond)
        u = self.unknown.get(qid)
        if u is not None and value == u and not (x == u or (isinstance(x, list) and u in x)):
            return False  # "je ne sais pas" meets nothing but a leaf naming it
        if op == "equals":
            return bool(value == x)
        if op == "not_equals":
            return bool(value != x)
        if op == "in":
            return value in x
        if op == "not_in":
            return value not in x
        if op == "includes":
            return x in value
        if op == "includes_all":
            return all(v in value for v in x)
        if op == "includes_any":
            return any(v in value for v in x)
        if op == "count_at_least":
            return bool(len(value) >= x)
        if op == "at_least":
            return bool(value >= x)
        if op == "at_most":
            return bool(value <= x)
        raise CannotBuild(f"unsupported operator {op!r}")

    # -- making conditions true or false --

    def satisfy(self, cond: dict[str, Any], ans: dict[str, Any], rng: random.Random) -> bool:
        if self.holds(cond, ans):
            return True
        if "all" in cond:
            for c in cond["all"]:
                if not self.satisfy(c, ans, rng):
                    return False
            return self.holds(cond, ans)
        if "any" in cond:
            branches = list(cond["any"])
            rng.shuffle(branches)
            for c in branches:
                trial = dict(ans)
                if self.satisfy(c, trial, rng) and self.holds(cond, trial):
                    ans.clear()
                    ans.update(trial)
                    return True
            return False
        if "not" in cond:
            return self.negate(cond["not"], ans, rng)
        qid = cond["question"]
        if qid in self.fixed:
            return False
        show_if = self.questions[qid].show_if
        if show_if is not None and not self.satisfy(show_if, ans, rng):
            return False
        self._set(qid, cond, True, ans, rng)
        return self.holds(cond, ans)

    def negate(self, cond: dict[str, Any], ans: dict[str, Any], rng: random.Random) -> bool:
        if not self.holds(cond, ans):
            return True
        if "all" in cond:
            children = list(cond["all"])
            rng.shuffle(children)
            for c in children:
                trial = dict(ans)
                if self.negate(c, trial, rng) and not self.holds(cond, trial):
                    ans.clear()
                    ans.update(trial)
                    return True
            return False
        if "any" in cond:
            for c in cond["any"]:
                if not self.negate(c, ans, rng):
                    return False
            return not self.holds(cond, ans)
        if "not" in cond:
            return self.satisfy(cond["not"], ans, rng)
        qid = cond["question"]
        if qid in self.fixed:
            return False
        self._set(qid, cond, False, ans, rng)
        return not self.holds(cond, ans)

    def _set(self, qid: str, cond: dict[str, Any], want: bool, ans: dict[str, Any],
             rng: random.Random) -> None:
        """Change the answer to `qid` so that `cond`, a condition on that question, holds
        (`want`) or fails."""
        if "answered" in cond:
            if bool(cond["answered"]) == want:
                ans[qid] = self._any_value(qid, rng)
            else:
                ans.pop(qid, None)
            return
        op, x = _operator(cond)
        (self._set_true if want else self._set_false)(qid, op, x, ans, rng)

    def _set_true(self, qid: str, op: str, x: Any, ans: dict[str, Any],
                  rng: random.Random) -> None:
        qu = self.questions[qid]
        if qu.type == "multiple_choice":
            chosen = self._plain(qid, ans.get(qid))
            if op == "includes":
                chosen.add(x)
            elif op == "includes_all":
                chosen.update(x)
            elif op == "includes_any":
                chosen.add(rng.choice(list(x)))
            elif op == "count_at_least":
                pool = [v for v in self._plain_values(qid) if v not in chosen]
                rng.shuffle(pool)
                chosen.update(pool[: max(0, x - len(chosen))])
            ans[qid] = self._ordered(qid, chosen)
        elif qu.type == "number":
            lo, hi = _bounds(qu.min, qu.max)
            if op == "equals":
                ans[qid] = x
            elif op == "at_least":
                ans[qid] = _number(rng.uniform(x, min(hi, x + 40)), x, hi)
            elif op == "at_most":
                ans[qid] = _number(rng.uniform(max(lo, x - 40), x), lo, x)
            elif op == "not_equals":
                ans[qid] = x + 1 if x + 1 <= hi else x - 1
        else:  # single_choice, text
            if op == "equals":
                ans[qid] = x
            elif op == "in":
                ans[qid] = rng.choice(list(x))
            elif op in ("not_equals", "not_in"):
                bad = {x} if op == "not_equals" else set(x)
                bad.add(self.unknown.get(qid, ""))  # "je ne sais pas" meets nothing
                ans[qid] = rng.choice([v for v in self.ranked[qid] if v not in bad])

    def _set_false(self, qid: str, op: str, x: Any, ans: dict[str, Any],
                   rng: random.Random) -> None:
        qu = self.questions[qid]
        if qu.type == "multiple_choice":
            chosen = self._plain(qid, ans.get(qid))
            if op == "includes":
                chosen.discard(x)
            elif op == "includes_all":
                present = [v for v in x if v in chosen]
                for v in rng.sample(present, rng.randint(1, len(present))):
                    chosen.discard(v)
            elif op == "includes_any":
                chosen.difference_update(x)
            elif op == "count_at_least":
                chosen = set(rng.sample(sorted(chosen), max(0, x - 1)))
            ans[qid] = self._ordered(qid, chosen) or self._nothing(qid, x)
        elif qu.type == "number":
            lo, hi = _bounds(qu.min, qu.max)
            if op == "at_least" and x - 1 >= lo:
                ans[qid] = _number(rng.uniform(max(lo, x - 35), x - 1), lo, x - 1)
            elif op == "at_most" and x + 1 <= hi:
                ans[qid] = _number(rng.uniform(x + 1, min(hi, x + 35)), x + 1, hi)
            elif op == "equals":
                ans[qid] = x + 1 if x + 1 <= hi else x - 1
            elif op == "not_equals":
                ans[qid] = x
        else:
            ranked = self.ranked[qid]
            if op in ("equals", "in"):
                bad = {x} if op == "equals" else set(x)
                others = [v for v in ranked if v not in bad]
                if not others:
                    return
                best_bad = max(ranked.index(v) for v in bad if v in ranked)
                below = [v for v in others if ranked.index(v) < best_bad]
                # Usually "almost there": the best option that does not meet the condition.
                if below and rng.random() < 0.65:
                    ans[qid] = below[-1]
                else:
                    ans[qid] = rng.choice(others)
            elif op == "not_equals":
                ans[qid] = x
            elif op == "not_in":
                ans[qid] = rng.choice(list(x))

    def _plain_values(self, qid: str) -> list[str]:
        return [o.value for o in self.questions[qid].options or [] if not o.exclusive]

    def _plain(self, qid: str, value: Any) -> set[str]:
        plain = set(self._plain_values(qid))
        return {v for v in value or [] if v in plain}

    def _ordered(self, qid: str, chosen: set[str]) -> list[str]:
        return [v for v in self._plain_values(qid) if v in chosen]

    def _nothing(self, qid: str, avoid: Any) -> list[str]:
        """An answer selecting nothing useful: the exclusive option, or another option."""
        options = self.questions[qid].options or []
        exclusive = [o.value for o in options if o.exclusive]
        if exclusive:
            return exclusive[:1]
        bad = set(avoid) if isinstance(avoid, list) else {avoid}
        rest = [o.value for o in options if o.value not in bad]
        return rest[:1]

    def _any_value(self, qid: str, rng: random.Random) -> Any:
        qu = self.questions[qid]
        if qu.type == "single_choice":
            return rng.choice(self.ranked[qid])
        if qu.type == "multiple_choice":
            return [rng.choice(self._plain_values(qid))]
        if qu.type == "number":
            lo, hi = _bounds(qu.min, qu.max)
            return _number(rng.uniform(lo, min(hi, lo + 100)), lo, hi)
        return rng.choice(COMMENTS)

    # -- whole answer sets --

    def _base(self, profile: dict[str, Any], maturity: float,
              rng: random.Random) -> dict[str, Any]:
        ans = generate_answers(self.q, rng, maturity=maturity, skip=0.0, fixed=profile)
        for qid, qu in self.questions.items():
            if qid in profile:
                continue
            value = ans.get(qid)
            if qu.type == "number" and value is not None:
                lo, hi = _bounds(qu.min, qu.max)
                ans[qid] = _number(value, lo, hi)
            elif qu.type == "multiple_choice" and not value:
                ans[qid] = self._nothing(qid, None)
            elif qu.type == "text":
                ans.pop(qid, None)
            u = self.unknown.get(qid)
            if u is not None and value == u and rng.random() < 0.7:  # "je ne sais pas": rarer
                ans[qid] = rng.choice([v for v in self.ranked[qid] if v != u])
        return ans

    def _realism(self, ans: dict[str, Any], profile: dict[str, Any],
                 rng: random.Random) -> None:
        """Plausible values for informative and optional questions (not used by tiers)."""
        for qid, qu in self.questions.items():
            if qid in profile or qu.required:
                continue
            if qu.type == "text":
                if "logiciel" in qid:
                    if rng.random() < 0.85:
                        ans[qid] = rng.choice(DUI_SOFTWARE)
                elif rng.random() < 0.3:
                    ans[qid] = rng.choice(COMMENTS)
            elif qu.type == "number" and qid in ans:
                if qu.max is not None and qu.max > 1000:  # counts (messages a month...)
                    capacity = int(profile.get("capacite") or 50)
                    lo, hi = _bounds(qu.min, qu.max)
                    ans[qid] = _number(capacity * rng.uniform(0.0, 2.5), lo, hi)
                if rng.random() < 0.2:
                    ans.pop(qid)

    def applies(self, r: Any, ans: dict[str, Any]) -> bool:
        """A requirement applies unless its `applies_if` (profile questions) is false."""
        return r.applies_if is None or self.holds(r.applies_if, ans)

    def _requirements_met(self, ans: dict[str, Any], upto: int) -> bool:
        return all(self.holds(r.condition, ans)
                   for t in self.tiers if t.level <= upto for r in t.requires
                   if self.applies(r, ans))

    def candidate(self, profile: dict[str, Any], target: int, rng: random.Random,
                  maturity: float | None = None) -> dict[str, Any] | None:
        """One answer set aimed at `target` (not yet checked with the engine), or None."""
        level = _MATURITY.get(target, 0.5) if maturity is None else maturity
        level = min(0.95, max(0.05, rng.gauss(level, 0.07)))
        ans = self._base(profile, level, rng)
        self._realism(ans, profile, rng)
        for _ in range(4):  # satisfying one requirement can break another: repeat
            for t in self.tiers:
                if t.level > target:
                    break
                for r in t.requires:
                    if self.applies(r, ans):
                        self.satisfy(r.condition, ans, rng)
            if self._requirements_met(ans, target):
                break
        else:
            return None
        above = [t for t in self.tiers if t.level == target + 1]
        if above:
            reqs = [r for r in above[0].requires if self.applies(r, ans)]
            rng.shuffle(reqs)
            failing = sum(1 for r in reqs if not self.holds(r.condition, ans))
            wanted = rng.choice((1, 1, 1, 2, 2, 3))
            for r in reqs:
                if failing >= wanted:
                    break
                trial = dict(ans)
                if self.negate(r.condition, trial, rng) and self._requirements_met(trial, target):
                    ans = trial
                    failing += 1
            if failing == 0:
                return None
        shown = applicable(self.q, ans)
        return {qid: ans[qid] for qid in self.order if qid in ans and shown.get(qid)}

    def build(self, profile: dict[str, Any], target: int, rng: random.Random,
              maturity: float | None = None) -> tuple[dict[str, Any], Result]:
        """A complete, valid answer set placed exactly on palier `target`, and its Result."""
        for _ in range(_MAX_ATTEMPTS):
            ans = self.candidate(profile, target, rng, maturity)
            if ans is None:
                continue
            errors = validate_answers(self.q, ans)
            if errors:  # a bug in this module, not bad luck
                raise CannotBuild(f"invalid generated answers: {errors}")
            result = score(self.q, ans)
            if result.complete and result.tier_level == target:
                return ans, result
        raise CannotBuild(f"no answer set found for palier {target} and profile {profile}")

    def partial(self, answers: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """A draft in progress: the first sections answered, the rest not yet."""
        keys = [qid for qid in self.order if qid in answers]
        cut = max(len(self.fixed) + 2, int(len(keys) * rng.uniform(0.25, 0.9)))
        return {qid: answers[qid] for qid in keys[:cut]}


def _operator(cond: dict[str, Any]) -> tuple[str, Any]:
    for key, value in cond.items():
        if key != "question":
            return key, value
    raise CannotBuild(f"condition without operator: {cond!r}")


def _bounds(lo: float | None, hi: float | None) -> tuple[float, float]:
    low = 0.0 if lo is None else float(lo)
    return low, float(hi) if hi is not None else low + 100


def _number(value: float, lo: float, hi: float) -> int | float:
    """An integer within [lo, hi] when there is one (percentages are whole numbers)."""
    low, high = math.ceil(lo), math.floor(hi)
    if low <= high:
        return int(min(high, max(low, round(value))))
    return min(hi, max(lo, value))
