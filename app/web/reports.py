"""Reports rendered to HTML for PDF files (the web side of the features' PDF exports)."""

from __future__ import annotations

from typing import Any

from app.web.charts import column_counts
from app.web.templating import env


def shortlist_report_html(report: dict[str, Any]) -> str:
    """The committee's report (`shortlists.export_service.shortlist_report`) with its chart."""
    distribution = report["distribution"]
    chart = column_counts(distribution, title="Répartition des structures retenues par palier",
                          desc="Nombre de structures retenues à chaque palier : "
                          + ", ".join(f"{label} : {n}" for label, n in distribution) + ".",
                          chart_id="repartition-paliers")
    return env.get_template("pages/shortlists/report.html").render(**report, chart=chart)
