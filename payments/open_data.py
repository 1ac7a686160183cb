"""The public ledger as open data: the same figures as the "Dove vanno i fondi" pages, as
JSON and CSV, under CC BY 4.0.

The shapes are stable and documented by JSON Schema files served beside them
(static/open-data/ledger.schema.json, network.schema.json); a change to a shape is a new
`schema_version`. Only approved entries appear; no payee, document, reversal reason, donor
or pact beneficiary is ever part of them.
"""

from flask import url_for

from campaigns import restitution
from campaigns.models import Campaign, Lab, Pact
from payments import ledger
from payments.ledger import Ledger, NetworkRow

SCHEMA_VERSION = "1.0"
LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
LEDGER_CSV_HEADER = [
    "record",
    "date",
    "category",
    "kind",
    "description",
    "amount_cents",
    "quantity",
    "currency",
]
NETWORK_CSV_HEADER = [
    "organisation",
    "strategy",
    "year",
    "raised_cents",
    "spent_cents",
    "available_cents",
    "currency",
]


def licence_line() -> str:
    return f"Licence: {LICENCE} ({LICENCE_URL})"


def _header(schema: str) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "schema": url_for("static", filename=f"open-data/{schema}", _external=True),
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
    }


def subject(kind: str, row: Campaign | Pact | Lab) -> tuple[Ledger, list]:
    """The ledger and the restitution timeline of a campaign, pact or lab."""
    if kind == "campaign":
        return ledger.for_campaign(row), restitution.timeline(row.pacts, row.labs)
    if kind == "pact":
        return ledger.for_pact(row), restitution.timeline(pacts=[row])
    return ledger.for_lab(row), restitution.timeline(labs=[row])


def ledger_document(kind: str, row, book: Ledger, timeline: list) -> dict:
    return {
        **_header("ledger.schema.json"),
        "kind": kind,
        "slug": row.slug,
        "title": row.title,
        "currency": "EUR",
        "campaigns": [c.slug for c in book.campaigns],
        "raised_cents": book.raised_cents,
        "matched_cents": book.matched_cents,
        "spent_cents": book.spent_cents,
        "available_cents": book.available_cents,
        "overspent": book.overspent,
        "spent_by_category": [
            {"category": category, "spent_cents": cents}
            for category, cents in book.by_category.items()
        ],
        "expenses": [
            {
                "id": e.id,
                "date": e.spent_on.isoformat(),
                "category": e.category,
                "description": e.description,
                "amount_cents": e.amount_cents,
                "reverses": e.reverses_id,
                "campaign": e.campaign.slug,
                "pact": e.pact.slug if e.pact else None,
                "lab": e.lab.slug if e.lab else None,
            }
            for e in book.expenses
        ],
        "restitution": [
            {
                "date": o.happened_on.isoformat(),
                "kind": o.kind,
                "quantity": o.quantity,
                "description": o.description,
                "pact": o.pact.slug if o.pact else None,
                "lab": o.lab.slug if o.lab else None,
            }
            for o in timeline
        ],
        "restitution_totals": restitution.totals(timeline),
    }


def ledger_csv_rows(book: Ledger, timeline: list) -> list[list]:
    """One row per figure, expense and restitution entry (the `record` column says which)."""
    rows = [
        ["raised", "", "", "", "", book.raised_cents, "", "EUR"],
        ["matched", "", "", "", "", book.matched_cents, "", "EUR"],
        ["spent", "", "", "", "", book.spent_cents, "", "EUR"],
        ["available", "", "", "", "", book.available_cents, "", "EUR"],
    ]
    rows += [
        [
            "expense",
            e.spent_on.isoformat(),
            e.category,
            "",
            e.description,
            e.amount_cents,
            "",
            "EUR",
        ]
        for e in book.expenses
    ]
    rows += [
        ["restitution", o.happened_on.isoformat(), "", o.kind, o.description, "", o.quantity, ""]
        for o in timeline
    ]
    return rows


def network_document(rows: list[NetworkRow]) -> dict:
    return {
        **_header("network.schema.json"),
        "currency": "EUR",
        "rows": [
            {
                "organisation": r.organisation,
                "strategy": r.strategy,
                "year": r.year,
                "raised_cents": r.raised_cents,
                "spent_cents": r.spent_cents,
                "available_cents": r.available_cents,
            }
            for r in rows
        ],
    }


def network_csv_rows(rows: list[NetworkRow]) -> list[list]:
    return [
        [
            r.organisation,
            r.strategy,
            r.year,
            r.raised_cents,
            r.spent_cents,
            r.available_cents,
            "EUR",
        ]
        for r in rows
    ]
