"""JSON API v1 for receipts: the list and the stored PDFs, for staff and treasurer tokens
(receipts hold personal and tax data, so reads need a token too)."""

from flask import Blueprint, abort, request, url_for

from legami.api import (
    ID_SCHEMA,
    PREFIX,
    YEAR_SCHEMA,
    document,
    page_schema,
    paginate,
    path_id,
    token_required,
)
from legami.extensions import csrf, db
from legami.models import Role
from receipts import listing, pdf
from receipts.models import Kind, Receipt, ReceiptStatus

bp = Blueprint("receipts_api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)


def init_app(app) -> None:
    app.register_blueprint(bp)
    document(app, PATHS, SCHEMAS)


def receipt_json(r: Receipt) -> dict:
    return {
        "id": r.id,
        "number": r.display_number,
        "organisation_id": r.organisation_id,
        "year": r.year,
        "kind": r.kind,
        "status": r.status,
        "donor_id": r.donor_id,
        "donor_name": r.snapshot["donor"]["name"],
        "donation_id": r.donation_id,
        "amount_cents": r.amount_cents,
        "currency": r.currency,
        "language": r.language,
        "missing_tax_code": r.missing_tax_code,
        "disputed": r.disputed,
        "issued_at": r.issued_at.isoformat(),
        "voided_at": r.voided_at.isoformat() if r.voided_at else None,
        "void_reason": r.void_reason,
        "replaces_id": r.replaces_id,
        "pdf_sha256": r.pdf_sha256,
        "pdf_url": url_for("receipts_api.receipt_pdf", receipt_id=r.id, _external=True),
    }


def _filters() -> listing.Filters:
    """?year=, ?organisation= (id) and ?status=, or a 400 (status) or 422 (numbers) problem."""
    args = request.args
    status = args.get("status") or None
    if status is not None and status not in set(ReceiptStatus):
        abort(400, "status must be one of: " + ", ".join(ReceiptStatus) + ".")
    return listing.Filters.from_args(args)


@bp.get("/receipts")
@token_required(Role.TREASURER, Role.STAFF)
def list_receipts():
    return paginate(listing.query(_filters()), receipt_json)


@bp.get("/receipts/<int:receipt_id>/pdf")
@token_required(Role.TREASURER, Role.STAFF)
def receipt_pdf(receipt_id: int):
    """The stored PDF (see pdf.redownload_variant); a voided receipt's watermarked copy
    unless ?original=1."""
    found = db.get_or_404(Receipt, receipt_id)
    return pdf.download(found, original=request.args.get("original") == "1")


_PROBLEM = {"default": {"$ref": "#/components/responses/Problem"}}
_PAGING = [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"}]
_NULLABLE_TEXT = {"type": ["string", "null"]}
_NULLABLE_ID = {"type": ["integer", "null"]}

PATHS = {
    "/receipts": {
        "get": {
            "summary": "Tax receipts, newest first",
            "operationId": "listReceipts",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "year", "in": "query", "schema": YEAR_SCHEMA},
                {
                    "name": "organisation",
                    "in": "query",
                    "description": "The issuing organisation's id",
                    "schema": ID_SCHEMA,
                },
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"enum": [s.value for s in ReceiptStatus]},
                },
                *_PAGING,
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ReceiptPage"}}
                    },
                },
                **_PROBLEM,
            },
        }
    },
    "/receipts/{receipt_id}/pdf": {
        "get": {
            "summary": "A receipt's stored PDF: the original, or its copy marked COPIA when the"
            " organisation wants one; a voided receipt's copy marked ANNULLATA",
            "operationId": "getReceiptPdf",
            "security": [{"bearer": []}],
            "parameters": [
                path_id("receipt_id"),
                {
                    "name": "original",
                    "in": "query",
                    "description": "1: a voided receipt's PDF as first issued",
                    "schema": {"enum": ["1"]},
                },
            ],
            "responses": {
                "200": {
                    "description": "The PDF, identical on every download",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                **_PROBLEM,
            },
        }
    },
}

SCHEMAS = {
    "Receipt": {
        "type": "object",
        "required": ["id", "number", "organisation_id", "year", "kind", "status", "amount_cents"],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "organisation_id": {"type": "integer"},
            "year": {"type": "integer"},
            "kind": {"enum": [k.value for k in Kind]},
            "status": {"enum": [s.value for s in ReceiptStatus]},
            "donor_id": {"type": "integer"},
            "donor_name": {"type": "string"},
            "donation_id": _NULLABLE_ID,
            "amount_cents": {"type": "integer"},
            "currency": {"type": "string"},
            "language": {"type": "string"},
            "missing_tax_code": {"type": "boolean"},
            "disputed": {"type": "boolean"},
            "issued_at": {"type": "string", "format": "date-time"},
            "voided_at": {"type": ["string", "null"], "format": "date-time"},
            "void_reason": _NULLABLE_TEXT,
            "replaces_id": _NULLABLE_ID,
            "pdf_sha256": _NULLABLE_TEXT,
            "pdf_url": {"type": "string", "format": "uri"},
        },
    },
    "ReceiptPage": page_schema("#/components/schemas/Receipt"),
}
