"""The public "Dove vanno i fondi" pages (a campaign, a pact, a lab, the network) and their
open data: CSV and JSON at the page's address, and the same JSON under /api/v1/ledger."""

from flask import Blueprint, Response, abort, jsonify, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from campaigns.models import Campaign, CampaignStatus, Lab, Pact
from legami.csv_export import to_csv
from legami.extensions import db
from legami.page_cache import cached_page
from payments import ledger, ledger_chart, open_data
from payments.ledger_forms import CATEGORY_LABELS, STRATEGY_LABELS

bp = Blueprint("payments_ledger", __name__, url_prefix="/fondi")
api = Blueprint("payments_ledger_api", __name__, url_prefix="/api/v1/ledger")

KINDS = {"campagne": ("campaign", Campaign), "patti": ("pact", Pact), "laboratori": ("lab", Lab)}


def init_app(app) -> None:
    from campaigns.panels import add_panel
    from legami.api import document
    from legami.extensions import csrf

    app.register_blueprint(bp)
    csrf.exempt(api)
    app.register_blueprint(api)
    document(app, PATHS, SCHEMAS)
    add_panel(app, "payments/ledger/_panel.html")
    app.jinja_env.globals["campaign_ledger"] = ledger.for_campaign


def _load(path_kind: str, slug: str):
    if path_kind not in KINDS:
        abort(404)
    kind, model = KINDS[path_kind]
    row = db.session.scalar(select(model).where(model.slug == slug))
    if row is None or (kind == "campaign" and not row.is_public):
        abort(404)
    return kind, row


def _chart(book: ledger.Ledger) -> list[ledger_chart.Bar]:
    items = [
        ("raised", _l("Raised"), book.raised_cents),
        ("spent", _l("Spent"), book.spent_cents),
        ("available", _l("Available"), book.available_cents),
    ]
    if book.matched_cents:
        items.insert(1, ("matched", _l("Matched (pledged apart)"), book.matched_cents))
    items += [
        (f"category-{key}", CATEGORY_LABELS.get(key, key), cents)
        for key, cents in book.by_category.items()
    ]
    return ledger_chart.bars(items)


@bp.get("/<path_kind>/<slug>")
@cached_page
def page(path_kind: str, slug: str):
    kind, row = _load(path_kind, slug)
    book, timeline = open_data.subject(kind, row)
    chart = _chart(book)
    return render_template(
        "payments/ledger/page.html",
        kind=kind,
        path_kind=path_kind,
        row=row,
        book=book,
        timeline=timeline,
        totals=open_data.restitution.totals(timeline),
        chart=chart,
        chart_height=ledger_chart.height(chart),
        categories=CATEGORY_LABELS,
        licence=open_data.licence_line(),
    )


def _document(path_kind: str, slug: str) -> dict:
    kind, row = _load(path_kind, slug)
    book, timeline = open_data.subject(kind, row)
    return open_data.ledger_document(kind, row, book, timeline), book, timeline


def _csv(header: list, rows: list, name: str, licence_row: list) -> Response:
    return Response(
        to_csv(header, [*rows, licence_row]),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@bp.get("/<path_kind>/<slug>.json")
def page_json(path_kind: str, slug: str):
    return jsonify(_document(path_kind, slug)[0])


@bp.get("/<path_kind>/<slug>.csv")
def page_csv(path_kind: str, slug: str):
    _doc, book, timeline = _document(path_kind, slug)
    pad = [""] * (len(open_data.LEDGER_CSV_HEADER) - 1)
    return _csv(
        open_data.LEDGER_CSV_HEADER,
        open_data.ledger_csv_rows(book, timeline),
        f"fondi-{path_kind}-{slug}",
        [open_data.licence_line(), *pad],
    )


@bp.get("/")
@cached_page
def network():
    rows = ledger.network()
    years = sorted({r.year for r in rows})
    per_year = [
        (str(year), str(year), sum(r.raised_cents for r in rows if r.year == year))
        for year in years
    ]
    spent_year = [
        (str(year), str(year), sum(r.spent_cents for r in rows if r.year == year)) for year in years
    ]
    raised_chart = ledger_chart.bars(per_year)
    campaigns = db.session.scalars(
        select(Campaign)
        .where(Campaign.status != CampaignStatus.DRAFT)
        .order_by(Campaign.starts_on.desc())
    ).all()
    return render_template(
        "payments/ledger/network.html",
        rows=rows,
        campaigns=campaigns,
        pacts=db.session.scalars(select(Pact).order_by(Pact.title)).all(),
        labs=db.session.scalars(select(Lab).order_by(Lab.title)).all(),
        raised_chart=raised_chart,
        spent_chart=ledger_chart.bars(spent_year),
        chart_height=ledger_chart.height(raised_chart),
        strategies=STRATEGY_LABELS,
        licence=open_data.licence_line(),
    )


@bp.get("/rete.json")
def network_json():
    return jsonify(open_data.network_document(ledger.network()))


@bp.get("/rete.csv")
def network_csv():
    pad = [""] * (len(open_data.NETWORK_CSV_HEADER) - 1)
    return _csv(
        open_data.NETWORK_CSV_HEADER,
        open_data.network_csv_rows(ledger.network()),
        "fondi-rete",
        [open_data.licence_line(), *pad],
    )


API_KINDS = {"campaigns": "campagne", "pacts": "patti", "labs": "laboratori"}


@api.get("/network")
def api_network():
    return jsonify(open_data.network_document(ledger.network()))


@api.get("/<kind>/<slug>")
def api_ledger(kind: str, slug: str):
    if kind not in API_KINDS:
        abort(404)
    return jsonify(_document(API_KINDS[kind], slug)[0])


def _schema(name: str) -> dict:
    return {
        "type": "object",
        "description": f"Documented in full by /static/open-data/{name} (JSON Schema 2020-12).",
        "required": ["schema_version", "licence"],
        "properties": {"schema_version": {"type": "string"}, "licence": {"type": "string"}},
    }


SCHEMAS = {"Ledger": _schema("ledger.schema.json"), "NetworkLedger": _schema("network.schema.json")}


def _get(summary: str, ref: str, parameters: list | None = None) -> dict:
    op = {
        "summary": summary,
        "operationId": summary.lower().replace(" ", "_").replace("'", ""),
        "responses": {
            "200": {
                "description": "The figures, CC BY 4.0",
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}
                },
            },
            "404": {"$ref": "#/components/responses/Problem"},
        },
    }
    if parameters:
        op["parameters"] = parameters
    return {"get": op}


PATHS = {
    "/ledger/network": _get("Network ledger", "NetworkLedger"),
    "/ledger/{kind}/{slug}": _get(
        "Ledger of a campaign pact or lab",
        "Ledger",
        [
            {
                "name": "kind",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": list(API_KINDS)},
            },
            {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
        ],
    ),
}
