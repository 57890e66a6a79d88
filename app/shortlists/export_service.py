"""Export operations: the data of a shortlist or a region, turned into files by `exports`.

Audit: every export is an AuditEvent `export` (kind, format, object, rows), recorded by
`record_export` when the file is requested (synchronous) or the job is created.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

from sqlmodel import Session

from app.accounts.models import User
from app.assessments.result_parts import KIND_LABELS, STATUS_LABELS
from app.audit import record_now
from app.db import utcnow
from app.formatting import date_fr
from app.permissions import Actor
from app.questionnaires import Registry, version_key
from app.shortlists import exports, next_steps, stored
from app.shortlists.models import Shortlist
from app.shortlists.pdf import html_to_pdf
from scoring import Questionnaire


@dataclass
class Labels:
    domains: dict[str, str]
    domain_order: list[str]
    funding: dict[str, str]


def newest(registry: Registry, versions: Iterable[str]) -> Questionnaire | None:
    """The newest loaded questionnaire among "id@version" strings (else the latest loaded)."""
    loaded = [q for v in versions if (q := registry.get(*v.split("@", 1))) is not None]
    if loaded:
        return max(loaded, key=lambda q: version_key(q.version))
    everything = registry.all()
    return everything[-1] if everything else None


def labels_for(registry: Registry, versions: Iterable[str]) -> Labels:
    q = newest(registry, versions)
    if q is None:
        return Labels({}, [], {})
    return Labels(
        {d.id: d.label for d in q.domains},
        [d.id for d in q.domains],
        {f.id: f.label for f in q.funding},
    )


def funding_status(registry: Registry, versions: Iterable[str]) -> dict[str, str]:
    """Each programme's kind and current status from the catalogue, in words."""
    q = newest(registry, versions)
    if q is None:
        return {}
    out = {}
    for f in q.funding:
        p = registry.catalogue or q.catalogue
        prog = p.get(f.id) if p is not None else None
        kind = KIND_LABELS.get(f.kind, f.kind).lower()
        if prog is None:
            out[f.id] = kind
        else:
            out[f.id] = (
                f"{kind}, {STATUS_LABELS.get(prog.status, prog.status).lower()} "
                f"au {date_fr(prog.as_of)}"
            )
    return out


def author_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return (user.name or user.email) if user is not None else "—"


def record_export(
    session: Session,
    actor: Actor,
    kind: str,
    fmt: str,
    object_type: str,
    object_id: str | int | None,
    rows: int | None,
    ip: str | None,
    job_id: int | None = None,
    **extra: Any,
) -> None:
    details: dict[str, Any] = {"kind": kind, "format": fmt, "rows": rows, **extra}
    if job_id is not None:
        details["job"] = job_id
    record_now(session, actor, "export", object_type, object_id, details, ip)


def exported_at() -> str:
    return exports.paris_time(utcnow()) or ""


# ---- shortlist files ------------------------------------------------------------------------


def shortlist_csv(
    shortlist: Shortlist,
    registry: Registry,
    sep: str,
    rows: Iterable[Mapping[str, Any]] | None = None,
) -> Iterator[str]:
    """The CSV text of a shortlist (its `rows`, or the ones loaded)."""
    labels = labels_for(registry, shortlist.questionnaire_versions)
    source = shortlist.rows if rows is None else rows
    criteria = shortlist.criteria
    return exports.csv_chunks(
        exports.shortlist_header(criteria, labels.domains),
        (exports.shortlist_values(r, criteria) for r in source),
        sep,
    )


STEP_FIELDS = ("rank", "finess", "name", "assessment_id")
STEP_BATCH = 2000  # rows whose next steps are read in one go


def shortlist_xlsx(
    session: Session,
    shortlist: Shortlist,
    registry: Registry,
    out: IO[bytes] | str,
    *,
    with_next_steps: bool = True,
    progress: exports.Progress | None = None,
    reader: Session | None = None,
    count: int | None = None,
) -> None:
    """The XLSX of a shortlist; with `reader` (a session no commit interrupts while the
    file is written) its rows are streamed from the database, one pass per sheet, never
    all held (`count`: their number, `stored.head`)."""
    labels = labels_for(registry, shortlist.questionnaire_versions)
    sid = shortlist.id
    rows: exports.RowReader | None = None
    if reader is not None and sid is not None:

        def rows(fields: Sequence[str]) -> Iterator[dict[str, Any]]:
            assert reader is not None and sid is not None
            return stored.rows(reader, sid, fields)

    def steps() -> Iterator[tuple[Mapping[str, Any], list[next_steps.Step]]]:
        """Each row with its steps, read STEP_BATCH rows at a time (never all held)."""
        db = reader or session
        known = next_steps.texts(db)
        source = iter(rows(STEP_FIELDS) if rows is not None else shortlist.rows)
        while batch := list(islice(source, STEP_BATCH)):
            found = next_steps.of(
                db, [r["assessment_id"] for r in batch if r.get("assessment_id")], known
            )
            for r in batch:
                if r.get("assessment_id"):
                    aid, row_steps = next(found)
                    assert aid == r["assessment_id"]
                    yield r, row_steps
                else:
                    yield r, []

    exports.write_shortlist_xlsx(
        out,
        shortlist,
        author=author_name(session, shortlist.author_id),
        domain_labels=labels.domains,
        domain_order=labels.domain_order,
        funding_labels=labels.funding,
        exported_at=exported_at(),
        next_steps=steps if with_next_steps else None,
        progress=progress,
        funding_status=funding_status(registry, shortlist.questionnaire_versions),
        rows=rows,
        count=count,
    )


ReportRenderer = Callable[[dict[str, Any]], str]
"""Turns `shortlist_report()` into the report's HTML (the web side: app.web.reports)."""


def shortlist_report(
    session: Session,
    shortlist: Shortlist,
    registry: Registry,
) -> dict[str, Any]:
    """The data of the committee's PDF report (the first PDF_MAX_ROWS rows)."""
    labels = labels_for(registry, shortlist.questionnaire_versions)
    rows = shortlist.rows
    return dict(
        shortlist=shortlist,
        rows=rows[: exports.PDF_MAX_ROWS],
        total=len(rows),
        truncated=len(rows) > exports.PDF_MAX_ROWS,
        max_rows=exports.PDF_MAX_ROWS,
        criteria=exports.criteria_lines(
            shortlist,
            author_name(session, shortlist.author_id),
            labels.domains,
            labels.funding,
            exported_at(),
        ),
        key_label=exports.key_label(shortlist.criteria, labels.domains),
        key_distinct=exports.key_distinct(shortlist.criteria),
        distribution=exports.tier_distribution(rows),
    )


def shortlist_pdf(
    session: Session, shortlist: Shortlist, registry: Registry, render: ReportRenderer
) -> bytes:
    return html_to_pdf(render(shortlist_report(session, shortlist, registry)))


def shortlist_csv_now(
    session: Session, actor: Actor, shortlist_id: int, registry: Registry, sep: str, ip: str | None
) -> tuple[Shortlist, Iterator[str]]:
    """The CSV stream of a shortlist, its export recorded first: the header goes out at
    once, the rows are read from the database as they are written (in `session`: a
    request's session stays open until its response is sent)."""
    shortlist, count = stored.head(session, actor, shortlist_id)
    session.expunge(shortlist)  # the audit commit must not expire and reload it
    record_export(
        session, actor, "shortlist", "csv", "shortlist", shortlist.id, count, ip, separator=sep
    )

    return shortlist, shortlist_csv(
        shortlist, registry, sep, stored.rows(session, shortlist_id, exports.SHORTLIST_FIELDS)
    )


def shortlist_file_now(
    session: Session,
    actor: Actor,
    shortlist: Shortlist,
    count: int,
    registry: Registry,
    fmt: str,
    render: ReportRenderer,
    ip: str | None,
) -> bytes:
    """The XLSX or PDF of a shortlist built in the request, its export recorded;
    `shortlist` and `count` from `stored.head` (the XLSX streams the rows as the job does)."""
    if fmt == "xlsx":
        buffer = io.BytesIO()
        shortlist_xlsx(session, shortlist, registry, buffer, reader=session, count=count)
        data = buffer.getvalue()
    else:
        data = shortlist_pdf(session, shortlist, registry, render)
    record_export(session, actor, "shortlist", fmt, "shortlist", shortlist.id, count, ip)
    return data
