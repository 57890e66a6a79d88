"""National shortlist creation (issue 14): the domain scores of each latest result in the
shortlists' read model (`shortlist_candidate.domain_scores`): one text per structure, the
canonical JSON {domain: score} a frozen shortlist row holds, filled here from
`assessment_domain_score` for the rows there are, then written with the read model
(app.shortlists.readmodel). On PostgreSQL built with lz4 (14 and later), the stored rows of
new shortlists (`shortlist.rows`, ~5 MB of JSONB for a national list) are compressed with
lz4 instead of pglz: several times faster to write and to read, about as small.

The canonical JSON is copied here (not imported) so that this migration keeps doing what it
did when the application's code changes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 01:00:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _fill() -> None:
    bind = op.get_bind()
    sc = sa.table("shortlist_candidate", sa.column("structure_id"),
                  sa.column("assessment_id"), sa.column("domain_scores"))
    ads = sa.table("assessment_domain_score", sa.column("assessment_id"),
                   sa.column("domain_id"), sa.column("score"))
    scores: dict[int, dict[str, Any]] = {}
    for sid, did, score in bind.execute(
            sa.select(sc.c.structure_id, ads.c.domain_id, ads.c.score)
            .join(ads, ads.c.assessment_id == sc.c.assessment_id)):
        scores.setdefault(sid, {})[did] = score
    stmt = (sc.update().where(sc.c.structure_id == sa.bindparam("_sid"))
            .values(domain_scores=sa.bindparam("s")))
    rows = [{"_sid": sid, "s": _canonical(d)} for sid, d in scores.items()]
    for i in range(0, len(rows), BATCH):
        bind.execute(stmt, rows[i:i + BATCH])


def _lz4() -> bool:
    """PostgreSQL can compress with lz4 (a setting that lists it: 14 and later, built so)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    methods = bind.execute(sa.text(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return bool(methods) and "lz4" in methods


def upgrade() -> None:
    op.add_column("shortlist_candidate", sa.Column("domain_scores", sa.Text(),
                                                   server_default="{}", nullable=False))
    _fill()
    if _lz4():  # rows written from now on; the stored ones stay readable as they are
        op.execute("ALTER TABLE shortlist ALTER COLUMN rows SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4():
        op.execute("ALTER TABLE shortlist ALTER COLUMN rows SET COMPRESSION default")
    op.drop_column("shortlist_candidate", "domain_scores")  # SQLite ≥ 3.35
