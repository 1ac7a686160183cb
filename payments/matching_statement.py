"""The matcher's statement as PDF (WeasyPrint) and CSV: each matched gift, its day, the gift
and the match, the donor's name only when they chose to show it.

Rendered by legami.pdf: one font configuration and stylesheet for the process, resources
only from the project's static folder.
"""

from collections.abc import Iterator

from flask import render_template
from flask_babel import gettext as _

from legami.csv_export import iter_csv
from legami.pdf import Renderer
from payments.matching_models import Challenge
from payments.matching_settlement import statement_rows

_renderer = Renderer(
    """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "Legami Sans"; font-size: 10pt; }
table { width: 100%; border-collapse: collapse; }
th, td { border-bottom: 0.5pt solid #999; padding: 3pt; text-align: left; }
td.num, th.num { text-align: right; }
tfoot td { font-weight: bold; }
""",
    document="the statement",
)


def pdf(challenge: Challenge) -> bytes:
    html = render_template(
        "payments/matching/statement_pdf.html",
        challenge=challenge,
        rows=statement_rows(challenge),
    )
    return _renderer.render(html)


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
