"""The demo's plan: structures grouped under organismes gestionnaires across regions, the
state of each (no assessment, draft, one or more submissions) and submission dates."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts.models import User
from app.demo.profiles import (
    CAMPAIGN_START,
    CITIES,
    DEMO_ACCOUNTS,
    DEMO_REGIONS,
    DIRECTOR_EMAIL,
    FAMILY_WEIGHTS,
    FIRST_NAMES,
    KIND_BY_CODE,
    KINDS,
    LAST_NAMES,
    LIEUX,
    PARIS,
    SAINTS,
    TIER_SHARES,
    Kind,
    de,
    finess_number,
)
from app.reference import departments
from app.structures.models import Structure

# ---- the dataset -------------------------------------------------------------------------


@dataclass
class _Site:
    finess: str
    finess_ej: str
    name: str
    kind: Kind
    department: str
    region: str
    city: str
    capacity: int
    group: int  # index of the organisme gestionnaire
    group_size: int
    submissions: int = 0  # how many submitted assessments
    draft: bool = False
    targets: list[int] = field(default_factory=list)  # palier of each submission, oldest first
    forced: bool = False
    id: int | None = None


@dataclass
class _Group:
    ej: str
    department: str
    director_email: str
    director_name: str
    user_id: int | None = None


@dataclass
class DemoReport:
    structures: int
    regions: dict[str, int]  # region code -> structures
    groups: int
    submitted: int  # submitted assessments
    with_submission: int  # structures with at least one
    with_history: int  # structures with 2 or more
    drafts: int
    tiers: dict[int, int]  # palier of each structure's latest submission -> structures
    accounts: list[tuple[str, str, str]]  # email, role, scope (French)
    director_accounts: int  # other director accounts (one per organisme gestionnaire)
    password: str
    seconds: float


def database_is_empty(session: Session) -> bool:
    """True when the database has no structure and no account."""
    for model in (Structure, User):
        if session.exec(select(func.count()).select_from(model)).one():
            return False
    return True


def _department_weights(codes: Iterable[str]) -> tuple[list[str], list[float]]:
    codes = [c for c in codes if c in CITIES]
    return codes, [CITIES[c][0] for c in codes]


def _region_counts(n: int, national: bool) -> dict[str, int]:
    if national:
        weights: dict[str, float] = defaultdict(float)
        for code, dep in departments().items():
            weights[dep.region_code] += CITIES.get(code, (1.0, ()))[0]
    else:
        weights = {k: float(v) for k, v in DEMO_REGIONS.items()}
    return split_evenly(n, dict(weights))


def _group_size(rng: random.Random) -> int:
    if rng.random() < 0.38:
        return 1
    sizes = list(range(2, 16))
    return rng.choices(sizes, weights=[1 / (s - 1) ** 0.9 for s in sizes])[0]


def _pick_kind(rng: random.Random, family: str | None) -> Kind:
    pool = [k for k in KINDS if family is None or k.family == family]
    return rng.choices(pool, weights=[k.weight for k in pool])[0]


def _capacity(kind: Kind, rng: random.Random) -> int:
    lo, hi, mode = kind.capacity
    return round(rng.triangular(lo, hi, mode))


def _name(kind: Kind, city: str, rng: random.Random) -> str:
    pattern = rng.choice(kind.names)
    return pattern.format(lieu=rng.choice(LIEUX), saint=rng.choice(SAINTS), de_city=de(city))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


# The demo director's organisme gestionnaire (Ain, region 84): fixed names and states so
# that the demo shows a history, a draft in progress, a structure without assessment...
# (category, name, city, capacity, paliers of the submissions oldest first, draft)
DEMO_GROUP: tuple[tuple[str, str, str, int, tuple[int, ...], bool], ...] = (
    ("500", "EHPAD Les Tilleuls", "Bourg-en-Bresse", 84, (1, 2, 3), False),
    ("354", "SSIAD du Pays de Gex", "Gex", 60, (2,), True),
    ("183", "IME Les Sources", "Oyonnax", 48, (), True),
    ("202", "Résidence autonomie Le Clos Fleuri", "Ambérieu-en-Bugey", 42, (), False),
    ("437", "FAM Le Hameau du Bugey", "Belley", 36, (1,), False),
    ("500", "EHPAD La Roseraie", "Valserhône", 102, (0, 2), False),
)
DEMO_DEPARTMENT = "01"


class _Draw:
    """The structures and organismes gestionnaires drawn so far from one seeded rng, with the
    FINESS numbers and (name, city) pairs already taken."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.sites: list[_Site] = []
        self.groups: list[_Group] = []
        self.names: set[tuple[str, str]] = {(name, city) for _, name, city, *_ in DEMO_GROUP}

    def new_group(self, department: str) -> int:
        ej = finess_number(department, self.rng, self.used)
        email = DIRECTOR_EMAIL.format(ej=ej.lower())
        self.groups.append(_Group(ej, department, email, _person(self.rng)))
        return len(self.groups) - 1

    def unique_name(self, kind: Kind, city: str) -> str:
        for _ in range(8):
            name = _name(kind, city, self.rng)
            if (name, city) not in self.names:
                break
        n = 2
        base = name
        while (name, city) in self.names:
            name, n = f"{base} (site {n})", n + 1
        self.names.add((name, city))
        return name

    def demo_group(self) -> None:
        """The demo director's organisme gestionnaire and its fixed structures."""
        g = self.new_group(DEMO_DEPARTMENT)
        group = self.groups[g]
        group.director_email, group.director_name = DEMO_ACCOUNTS[0][0], DEMO_ACCOUNTS[0][3]
        for code, name, city, capacity, targets, draft in DEMO_GROUP:
            self.sites.append(
                _Site(
                    finess=finess_number(DEMO_DEPARTMENT, self.rng, self.used),
                    finess_ej=group.ej,
                    name=name,
                    kind=KIND_BY_CODE[code],
                    department=DEMO_DEPARTMENT,
                    region=departments()[DEMO_DEPARTMENT].region_code,
                    city=city,
                    capacity=capacity,
                    group=g,
                    group_size=len(DEMO_GROUP),
                    submissions=len(targets),
                    draft=draft,
                    targets=list(targets),
                    forced=True,
                )
            )

    def region_groups(self, region: str, count: int) -> None:
        """`count` structures of `region`, under organismes gestionnaires of random sizes
        (most of a group's structures in its department, of one family)."""
        rng = self.rng
        codes, weights = _department_weights(
            c for c, d in departments().items() if d.region_code == region
        )
        left = count
        while left > 0:
            size = min(left, _group_size(rng))
            left -= size
            home = rng.choices(codes, weights=weights)[0]
            g = self.new_group(home)
            family = (
                None
                if size == 1
                else rng.choices(list(FAMILY_WEIGHTS), weights=list(FAMILY_WEIGHTS.values()))[0]
            )
            for _ in range(size):
                department = home if rng.random() < 0.8 else rng.choices(codes, weights)[0]
                kind = _pick_kind(rng, family)
                city = rng.choice(CITIES[department][1])
                self.sites.append(
                    _Site(
                        finess=finess_number(department, rng, self.used),
                        finess_ej=self.groups[g].ej,
                        name=self.unique_name(kind, city),
                        kind=kind,
                        department=department,
                        region=region,
                        city=city,
                        capacity=_capacity(kind, rng),
                        group=g,
                        group_size=size,
                    )
                )


def _counts_beside(counts: dict[str, int], home_region: str, taken: int) -> dict[str, int]:
    """The regions' counts once `taken` structures of `home_region` are drawn already (tiny
    datasets: the demo group takes others' places)."""
    counts[home_region] = counts.get(home_region, 0) - taken
    while counts[home_region] < 0:
        donor = max((r for r in counts if r != home_region), key=lambda r: counts[r])
        counts[donor] -= 1
        counts[home_region] += 1
    return counts


def plan_sites(n: int, rng: random.Random, national: bool) -> tuple[list[_Site], list[_Group]]:
    """The demo director's structures, then each region's organismes gestionnaires and their
    structures, drawn in this order from one seeded `rng` (the dataset depends on it)."""
    draw = _Draw(rng)
    draw.demo_group()
    home_region = draw.sites[0].region
    counts = _counts_beside(_region_counts(n, national), home_region, len(draw.sites))
    for region, count in counts.items():
        draw.region_groups(region, count)
    return draw.sites, draw.groups


def plan_states(sites: list[_Site], rng: random.Random) -> None:
    """Who has submitted (how many times), who has a draft, and the palier of each."""
    free = [s for s in sites if not s.forced]
    for s in free:
        x = rng.random()
        if x < 0.07:
            continue  # nothing yet
        if x < 0.14:
            s.draft = True  # a first assessment in progress
            continue
        s.submissions = rng.choices((1, 2, 3), weights=(62, 26, 12))[0]
        s.draft = rng.random() < 0.1  # a new assessment in progress

    # Latest palier by quotas over all structures with a submission; the demo director's
    # are fixed and taken out of the quotas. Larger, grouped, more mature categories tend
    # to rank higher, with plenty of noise.
    submitting = [s for s in sites if s.submissions]
    quotas = tier_quotas(len(submitting))
    for s in submitting:
        if s.forced:
            quotas[s.targets[-1]] -= 1
    ranked = sorted(
        (s for s in submitting if not s.forced),
        key=lambda s: (
            0.35 * math.log(s.capacity)
            + 0.3 * (s.group_size > 1)
            + s.kind.propensity
            + rng.gauss(0, 0.6)
        ),
    )
    i = 0
    for tier in sorted(quotas):
        for s in ranked[i : i + max(0, quotas[tier])]:
            s.targets = [tier]
        i += max(0, quotas[tier])
    for s in ranked[i:]:  # only if the fixed ones overflowed a quota
        s.targets = [rng.choice((1, 2))]
    for s in submitting:
        if s.forced:
            continue
        latest = s.targets[-1]
        history = []
        for _ in range(s.submissions - 1):
            latest = max(0, latest - rng.choice((0, 1, 1, 1, 2)))
            history.append(latest)
        s.targets = list(reversed(history)) + s.targets


# ---- dates -------------------------------------------------------------------------------


def campaign_quarters(now: datetime) -> list[date]:
    """The first day of each quarter from CAMPAIGN_START to now."""
    out = []
    d = CAMPAIGN_START
    end = now.astimezone(PARIS).date()
    while d <= end:
        out.append(d)
        d = date(d.year + (d.month + 3 > 12), (d.month + 2) % 12 + 1, 1)
    return out


def working_time(day: date, rng: random.Random) -> datetime:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    local = datetime(
        day.year,
        day.month,
        day.day,
        rng.randint(8, 18),
        rng.randint(0, 59),
        rng.randint(0, 59),
        tzinfo=PARIS,
    )
    return local.astimezone(UTC)


def _in_quarter(quarters: list[date], index: int, now: datetime, rng: random.Random) -> datetime:
    start = quarters[index]
    end = quarters[index + 1] if index + 1 < len(quarters) else now.astimezone(PARIS).date()
    span = max(1, (end - start).days - 1)
    when = working_time(start + timedelta(days=rng.randrange(span)), rng)
    return min(when, now - timedelta(hours=2))


def submission_dates(
    count: int, quarters: list[date], now: datetime, rng: random.Random
) -> list[datetime]:
    """`count` submission times, oldest first, in distinct quarters (campaigns)."""
    last = len(quarters) - 1
    lowest = min(last, 2 * (count - 1))
    indexes = list(range(lowest, last + 1))
    latest = rng.choices(indexes, weights=[1 + i - lowest for i in indexes])[0]
    picked = [latest]
    for _ in range(count - 1):
        picked.append(max(0, picked[-1] - rng.randint(1, 3)))
    return sorted(_in_quarter(quarters, i, now, rng) for i in picked)


_K = TypeVar("_K", int, str)


def tier_quotas(n: int, shares: dict[int, float] = TIER_SHARES) -> dict[int, int]:
    """Split n structures over the paliers by `shares` (largest remainder, sums to n)."""
    return split_evenly(n, shares)


def split_evenly(n: int, shares: dict[_K, float]) -> dict[_K, int]:
    total = sum(shares.values())
    exact = {k: n * v / total for k, v in shares.items()}
    out = {k: int(x) for k, x in exact.items()}
    rest = n - sum(out.values())
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], k))[:rest]:
        out[k] += 1
    return out
