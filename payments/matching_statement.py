"""The matcher's statement as PDF (WeasyPrint) and CSV: each matched gift, its day, the gift
and the match, the donor's name only when they chose to show it.

One FontConfiguration and one parsed stylesheet serve the process (WeasyPrint leaks memory
when each document makes its own); resources load only from the project's static folder.
"""

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import render_template
from flask_babel import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from legami.config import ROOT
from legami.csv_export import iter_csv
from payments.matching_models import Challenge
from payments.matching_settlement import statement_rows

STATIC = (ROOT / "static").resolve()
_STYLE = """
@font-face { font-family: "Legami Sans"; src: url("fonts/DejaVuSans.ttf"); }
@font-face { font-family: "Legami Sans"; font-weight: bold; src: url("fonts/DejaVuSans-Bold.ttf"); }
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "Legami Sans"; font-size: 10pt; }
table { width: 100%; border-collapse: collapse; }
th, td { border-bottom: 0.5pt solid #999; padding: 3pt; text-align: left; }
td.num, th.num { text-align: right; }
tfoot td { font-weight: bold; }
"""
_lock = threading.Lock()
_shared: dict = {}


class _StaticOnly(URLFetcher):
    def __init__(self):
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)

    def fetch(self, url, headers=None):
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if not path.is_relative_to(STATIC):
            raise ValueError(f"the statement loads only Legami's static files: {url[:80]}")
        return super().fetch(url, headers)


def _fonts_and_css() -> tuple[FontConfiguration, CSS]:
    if not _shared:
        fonts = FontConfiguration()
        css = CSS(
            string=_STYLE,
            base_url=str(STATIC) + "/",
            font_config=fonts,
            url_fetcher=_StaticOnly(),
        )
        _shared.update(fonts=fonts, css=css)
    return _shared["fonts"], _shared["css"]


def pdf(challenge: Challenge) -> bytes:
    html = render_template(
        "payments/matching/statement_pdf.html",
        challenge=challenge,
        rows=statement_rows(challenge),
    )
    with _lock:
        fonts, css = _fonts_and_css()
        return HTML(string=html, base_url=str(STATIC) + "/", url_fetcher=_StaticOnly()).write_pdf(
            stylesheets=[css], font_config=fonts
        )


def csv_lines(challenge: Challenge) -> Iterator[str]:
    header = [_("Date of the gift"), _("Gift (EUR)"), _("Matched (EUR)"), _("Donor")]
    rows = (
        [
            row.received_on.isoformat(),
            _euros(row.gift_cents),
            _euros(row.matched_cents),
            row.donor_name or _("Anonymous"),
        ]
        for row in statement_rows(challenge)
    )
    return iter_csv(header, rows)


def _euros(cents: int) -> str:
    """Italian spreadsheets read a decimal comma."""
    return f"{cents // 100},{cents % 100:02d}"
