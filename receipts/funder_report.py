"""The funder report for a period (a foundation's call, the piano di zona): raised by
strategy, organisation, channel and month, donors (new and returning), matching received,
expenses by category, restitution totals, and the plan against what came in. As PDF and
XLSX, with the same figures (payments.plan.period); no donor is named in either."""

import io

from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from openpyxl import Workbook

from campaigns.restitution import KIND_LABELS
from legami.csv_export import safe_value
from payments.ledger_forms import CATEGORY_LABELS, CHANNEL_LABELS, STRATEGY_LABELS
from payments.plan import Period
from receipts import report_pdf


def sections(report: Period, in_cents: bool = True) -> list[tuple[str, list, list, set[int]]]:
    """(title, header, rows, columns holding cents) for every table of the report, in order.
    The headers say "cents" for the spreadsheet (`in_cents`), where amounts are numbers."""
    euro = _("Amount (cents)") if in_cents else _("Amount")
    return [
        (
            _("Summary"),
            [_("Figure"), euro],
            [
                [_("Raised"), report.raised_cents],
                [_("Matching received"), report.matching_received_cents],
                [_("Spent"), report.spent_cents],
            ],
            {1},
        ),
        (
            _("Donors"),
            [_("Donors"), _("Number")],
            [
                [_("All donors"), report.donors],
                [_("New donors"), report.new_donors],
                [_("Returning donors"), report.returning_donors],
            ],
            set(),
        ),
        (
            _("Raised by strategy"),
            [_("Strategy"), euro],
            [[str(STRATEGY_LABELS.get(k, k)), v] for k, v in sorted(report.by_strategy.items())],
            {1},
        ),
        (
            _("Raised by organisation"),
            [_("Organisation"), euro],
            sorted([k, v] for k, v in report.by_organisation.items()),
            {1},
        ),
        (
            _("Raised by channel"),
            [_("Channel"), euro],
            [[str(CHANNEL_LABELS.get(k, k)), v] for k, v in sorted(report.by_channel.items())],
            {1},
        ),
        (
            _("Raised by month"),
            [_("Month"), euro],
            sorted([k, v] for k, v in report.by_month.items()),
            {1},
        ),
        (
            _("Expenses by category"),
            [_("Category"), euro],
            [
                [str(CATEGORY_LABELS.get(k, k)), v]
                for k, v in sorted(report.spent_by_category.items())
            ],
            {1},
        ),
        (
            _("What came back to the community"),
            [_("Kind"), _("Quantity")],
            [[str(KIND_LABELS.get(k, k)), v] for k, v in report.restitution.items()],
            set(),
        ),
        (
            _("Against the plan"),
            [_("Line"), _("Target (cents)"), _("Raised (cents)")]
            if in_cents
            else [_("Line"), _("Target"), _("Raised")],
            [
                [
                    str((STRATEGY_LABELS if dim == "strategy" else CHANNEL_LABELS).get(key, key)),
                    target,
                    actual,
                ]
                for dim, key, target, actual in report.plan
            ],
            {1, 2},
        ),
    ]


def xlsx(report: Period) -> bytes:
    book = Workbook(write_only=True)
    for title, header, rows, _cents in sections(report):
        sheet = book.create_sheet(title[:31])
        sheet.append(header)
        for row in rows:
            sheet.append([safe_value(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pdf(report: Period) -> bytes:
    html = render_template(
        "receipts/reports/funder_pdf.html",
        language=str(get_locale()),
        report=report,
        sections=sections(report, in_cents=False),
    )
    return report_pdf.render(html)
