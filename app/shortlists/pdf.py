"""The committee report PDF (WeasyPrint), with the shared print stylesheet (fonts, page) and
the shortlist one; only local files under static/ may be fetched (app.assessments.pdf)."""

from __future__ import annotations

from app.assessments.pdf import PRINT_CSS, STATIC, _url_fetcher

REPORT_CSS = STATIC / "css" / "shortlists-print.css"


def html_to_pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    fetcher = _url_fetcher()
    document = HTML(string=html, base_url=str(STATIC) + "/", url_fetcher=fetcher)
    sheets = [CSS(filename=str(path), url_fetcher=fetcher, font_config=fonts)
              for path in (PRINT_CSS, REPORT_CSS)]
    pdf = document.write_pdf(stylesheets=sheets, font_config=fonts)
    assert pdf is not None
    return bytes(pdf)
