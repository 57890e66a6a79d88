"""Regional dashboard: figures, filters, breakdowns, trend, structure list, like-for-like
percentiles and side-by-side comparison, all read from the dashboard read model
(`app.dashboard.models`), never re-scored.

Every figure counts each open structure's LATEST submitted assessment. Domain statistics are
computed on the results of one questionnaire version (the reference: the newest version among
the results shown), so that like is compared with like; results of other versions are counted
and flagged. Aggregates run in SQL (GROUP BY); means and medians come from the exact
distribution of scores (score, count) fetched per domain: SQLite has no percentile function
and the scores take few distinct values, so this is exact and cheap on both backends.

Scope: callers pass the Actor; `check_region` raises Forbidden for a role without dashboards,
NotFound for a region outside the actor's scope; every SQL query on structures also carries
`scope_clause(actor)`.

The public surface of the dashboards (what routes call), implemented in: `read_model`
(keeping the read model up to date), `filters` (scope and filters), `stats` (labels and
statistics), `summary`, `listing`, `like_for_like`, `comparison`.
"""

from __future__ import annotations

from app.dashboard.comparison import (
    COMPARE_MAX,
    COMPARE_MIN,
    BadComparison,
    CompareColumn,
    CompareRow,
    Comparison,
    compare,
)
from app.dashboard.filters import Filters, check_region, review_statuses
from app.dashboard.like_for_like import MIN_GROUP, GroupPosition, LikeForLike, like_for_like
from app.dashboard.listing import SORTS, ListRow, StructureListPage, structure_page
from app.dashboard.read_model import (
    quarter_label,
    quarter_of,
    record_submission,
    refresh_structures,
    set_review_status,
)
from app.dashboard.stats import (
    DEFAULT_QUESTIONNAIRE,
    distribution_stats,
    percentile_rank,
    short_tier,
    tier_labels,
)
from app.dashboard.summary import (
    BreakdownRow,
    DomainStat,
    Summary,
    TierCount,
    TrendRow,
    regions_overview,
    summary,
)
from app.dashboard.tables import LDS, LR, S

__all__ = [
    "COMPARE_MAX",
    "COMPARE_MIN",
    "DEFAULT_QUESTIONNAIRE",
    "LDS",
    "LR",
    "MIN_GROUP",
    "SORTS",
    "BadComparison",
    "BreakdownRow",
    "CompareColumn",
    "CompareRow",
    "Comparison",
    "DomainStat",
    "Filters",
    "GroupPosition",
    "LikeForLike",
    "ListRow",
    "S",
    "StructureListPage",
    "Summary",
    "TierCount",
    "TrendRow",
    "check_region",
    "compare",
    "distribution_stats",
    "like_for_like",
    "percentile_rank",
    "quarter_label",
    "quarter_of",
    "record_submission",
    "refresh_structures",
    "regions_overview",
    "review_statuses",
    "set_review_status",
    "short_tier",
    "structure_page",
    "summary",
    "tier_labels",
]
