"""JSON API v1 for donors and segments: staff bearer tokens only, reads included (personal
data)."""

from dataclasses import fields

from flask import Blueprint, g, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from donors import editing, listing, segments
from donors.models import Donor, DonorKind, Segment
from legami import params
from legami.api import (
    ID_SCHEMA,
    PREFIX,
    document,
    json_body,
    page_args,
    page_envelope,
    page_schema,
    paginate,
    path_id,
    token_required,
)
from legami.extensions import csrf, db
from legami.i18n import LANGUAGES
from legami.models import Role
from legami.problems import validation_problem
from legami.validation import Invalid

bp = Blueprint("donors_api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)

RECORD_FIELDS = [f.name for f in fields(editing.Record) if f.name != "tags"]


def init_app(app) -> None:
    app.register_blueprint(bp)
    document(app, PATHS, SCHEMAS)


def donor_json(d: Donor) -> dict:
    return {
        "id": d.id,
        "kind": d.kind,
        "display_name": d.display_name,
        "first_name": d.first_name,
        "last_name": d.last_name,
        "organisation_name": d.organisation_name,
        "email": d.email,
        "phone": d.phone,
        "street": d.street,
        "postal_code": d.postal_code,
        "town": d.town,
        "province": d.province,
        "country": d.country,
        "codice_fiscale": d.codice_fiscale,
        "partita_iva": d.partita_iva,
        "language": d.language,
        "newsletter_consent": d.newsletter_consent,
        "tags": [t.name for t in d.tags],
        "source": d.source,
        "created_at": d.created_at.isoformat(),
        "erased": d.is_erased,
        "url": url_for("donors_api.get_donor", donor_id=d.id, _external=True),
    }


def segment_json(s: Segment) -> dict:
    return {
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "definition": s.definition,
        "created_at": s.created_at.isoformat(),
        "updated_at": s.updated_at.isoformat(),
        "url": url_for("donors_api.get_segment", segment_id=s.id, _external=True),
        "donors_url": url_for("donors_api.segment_donors", segment_id=s.id, _external=True),
    }


@bp.get("/donors")
@token_required(Role.STAFF)
def list_donors():
    search = listing.Search(q=request.args.get("q", "").strip())
    return paginate(listing.query(search).options(selectinload(Donor.tags)), donor_json)


@bp.get("/donors/<int:donor_id>")
@token_required(Role.STAFF)
def get_donor(donor_id: int):
    return donor_json(db.get_or_404(Donor, donor_id))


def _record(body: dict) -> editing.Record:
    """The JSON body as the editing service's record; Invalid on values of the wrong type."""
    errors = {}
    values = {}
    for name in RECORD_FIELDS:
        if name in body and body[name] is not None:
            if isinstance(body[name], str):
                values[name] = body[name]
            else:
                errors[name] = "Must be text."
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and "," not in t for t in tags):
        errors["tags"] = "Must be a list of tag names (without commas)."
    if "email" not in values and "email" not in errors:
        errors["email"] = "This field is required."
    if errors:
        raise Invalid(errors)
    return editing.Record(**values, tags=", ".join(tags) if isinstance(tags, list) else "")


@bp.post("/donors")
@token_required(Role.STAFF)
def create_donor():
    try:
        donor = editing.create(_record(json_body()), g.api_user)
    except Invalid as invalid:
        db.session.rollback()
        return validation_problem(invalid.errors)
    data = donor_json(donor)
    return data, 201, {"Location": data["url"]}


@bp.get("/segments")
@token_required(Role.STAFF)
def list_segments():
    return paginate(select(Segment).order_by(Segment.name, Segment.id), segment_json)


@bp.get("/segments/<int:segment_id>")
@token_required(Role.STAFF)
def get_segment(segment_id: int):
    return segment_json(db.get_or_404(Segment, segment_id))


@bp.get("/segments/<int:segment_id>/donors")
@token_required(Role.STAFF)
def segment_donors(segment_id: int):
    segment = db.get_or_404(Segment, segment_id)
    page_no, size = page_args()
    found = segments.page(segment.definition, page_no, size)
    return page_envelope([donor_json(d) for d in found.items], page_no, size, found.total)


@bp.post("/segments")
@token_required(Role.STAFF)
def create_segment():
    body = json_body()
    errors = {}
    texts = {}
    for name in ("name", "description"):
        value = body.get(name, "")
        if isinstance(value, str):
            texts[name] = value
        else:
            errors[name] = "Must be text."
    if "definition" not in body:
        errors["definition"] = "This field is required; {} matches every donor."
    if errors:
        return validation_problem(errors)
    try:
        segment = segments.save(
            None, texts["name"], texts["description"], body["definition"], g.api_user
        )
    except Invalid as invalid:
        db.session.rollback()
        # Fields are paths in the body: the definition's criteria are under `definition`.
        return validation_problem(
            {
                key if key in ("name", "description", "definition") else f"definition.{key}": why
                for key, why in invalid.errors.items()
            }
        )
    data = segment_json(segment)
    return data, 201, {"Location": data["url"]}


def _op(summary: str, op_id: str, ok: dict, **extra) -> dict:
    return {
        "summary": summary,
        "operationId": op_id,
        "security": [{"bearer": []}],
        "responses": {**ok, "default": {"$ref": "#/components/responses/Problem"}},
        **extra,
    }


def _ok(ref: str, code: str = "200") -> dict:
    return {code: {"description": "OK", "content": {"application/json": {"schema": {"$ref": ref}}}}}


def _body(ref: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}


_PAGING = [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"}]
_TEXT = {"type": "string"}
_IDS = {"type": "array", "items": ID_SCHEMA}
_COUNT = {"type": "integer", "minimum": params.COUNT.low, "maximum": params.COUNT.high}
_YEAR = {"type": "integer", "minimum": segments.MIN_YEAR, "maximum": segments.MAX_YEAR}
_DATES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
    },
}


def _aggregate(low: str, high: str) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            low: _COUNT,
            high: _COUNT,
            "year_from": _YEAR,
            "year_to": _YEAR,
        },
    }


PATHS = {
    "/donors": {
        "get": _op(
            "Donors, by name; `q` searches names, e-mails and tax codes",
            "listDonors",
            _ok("#/components/schemas/DonorPage"),
            parameters=[{"name": "q", "in": "query", "schema": _TEXT}, *_PAGING],
        ),
        "post": _op(
            "Add a donor",
            "createDonor",
            _ok("#/components/schemas/Donor", "201"),
            requestBody=_body("#/components/schemas/DonorInput"),
        ),
    },
    "/donors/{donor_id}": {
        "get": _op(
            "One donor",
            "getDonor",
            _ok("#/components/schemas/Donor"),
            parameters=[path_id("donor_id")],
        )
    },
    "/segments": {
        "get": _op(
            "Saved segments",
            "listSegments",
            _ok("#/components/schemas/SegmentPage"),
            parameters=_PAGING,
        ),
        "post": _op(
            "Save a segment",
            "createSegment",
            _ok("#/components/schemas/Segment", "201"),
            requestBody=_body("#/components/schemas/SegmentInput"),
        ),
    },
    "/segments/{segment_id}": {
        "get": _op(
            "One segment",
            "getSegment",
            _ok("#/components/schemas/Segment"),
            parameters=[path_id("segment_id")],
        )
    },
    "/segments/{segment_id}/donors": {
        "get": _op(
            "The donors a segment matches now, by name",
            "listSegmentDonors",
            _ok("#/components/schemas/DonorPage"),
            parameters=[path_id("segment_id"), *_PAGING],
        )
    },
}

SCHEMAS = {
    "Donor": {
        "type": "object",
        "required": ["id", "kind", "display_name", "email", "language", "newsletter_consent"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"enum": [k.value for k in DonorKind]},
            "display_name": _TEXT,
            "first_name": _TEXT,
            "last_name": _TEXT,
            "organisation_name": _TEXT,
            "email": _TEXT,
            "phone": _TEXT,
            "street": _TEXT,
            "postal_code": _TEXT,
            "town": _TEXT,
            "province": _TEXT,
            "country": _TEXT,
            "codice_fiscale": {"type": ["string", "null"]},
            "partita_iva": {"type": ["string", "null"]},
            "language": _TEXT,
            "newsletter_consent": {"type": "boolean"},
            "tags": {"type": "array", "items": _TEXT},
            "source": _TEXT,
            "created_at": {"type": "string", "format": "date-time"},
            "erased": {"type": "boolean"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "DonorInput": {
        "type": "object",
        "description": "A person needs last_name, an organisation organisation_name. Newsletter "
        "consent is not set here: it needs the donor's own confirmation.",
        "required": ["email"],
        "if": {
            "properties": {"kind": {"const": DonorKind.ORGANISATION.value}},
            "required": ["kind"],
        },
        "then": {"required": ["organisation_name"]},
        "else": {"required": ["last_name"]},
        "properties": {
            "kind": {"enum": [k.value for k in DonorKind], "default": DonorKind.PERSON.value},
            "email": {"type": "string", "format": "email"},
            "first_name": _TEXT,
            "last_name": _TEXT,
            "organisation_name": _TEXT,
            "phone": _TEXT,
            "codice_fiscale": _TEXT,
            "partita_iva": _TEXT,
            "street": _TEXT,
            "postal_code": _TEXT,
            "town": _TEXT,
            "province": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
            "country": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
            "language": {"enum": list(LANGUAGES)},
            "notes": _TEXT,
            "tags": {"type": "array", "items": _TEXT},
        },
    },
    "SegmentDefinition": {
        "type": "object",
        "description": "Criteria, all of which a donor must meet. Gifts are succeeded "
        "donations by the day received; totals are net of refunds; erased donors never "
        "match. A total or count without a minimum also matches donors who gave nothing.",
        "additionalProperties": False,
        "properties": {
            "tags": {**_IDS, "description": "has any of these tags"},
            "campaigns": {**_IDS, "description": "gave to any of these campaigns"},
            "pacts": {**_IDS, "description": "gave to a campaign funding any of these pacts"},
            "labs": {**_IDS, "description": "gave to a campaign funding any of these labs"},
            "organisations": {**_IDS, "description": "gave to a campaign of any of these"},
            "first_gift": _DATES,
            "last_gift": _DATES,
            "total": _aggregate("min_cents", "max_cents"),
            "gifts": _aggregate("min", "max"),
            "monthly": {"type": "boolean", "description": "has an active monthly gift"},
            "lybunt": {**_YEAR, "description": "gave in the year before, not in this year"},
            "sybunt": {**_YEAR, "description": "gave in some year before, not in this year"},
            "newsletter_consent": {"type": "boolean"},
            "languages": {"type": "array", "items": _TEXT},
            "towns": {
                "type": "array",
                "items": _TEXT,
                "description": "any of these, case and accents aside",
            },
            "fundraiser": {
                "type": "boolean",
                "description": "true: opened a confirmed personal fundraising page; false: none",
            },
            "raised_through_pages": {
                "type": "object",
                "additionalProperties": False,
                "required": ["min_cents"],
                "properties": {
                    "min_cents": {"type": "integer", "minimum": 1, "maximum": params.COUNT.high}
                },
                "description": "their fundraising pages raised at least this, net of refunds",
            },
            "gave_through_page_of": {
                **_IDS,
                "description": "gave through a fundraising page of any of these donors",
            },
        },
    },
    "Segment": {
        "type": "object",
        "required": ["id", "name", "definition"],
        "properties": {
            "id": {"type": "integer"},
            "name": _TEXT,
            "description": _TEXT,
            "definition": {"$ref": "#/components/schemas/SegmentDefinition"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "url": {"type": "string", "format": "uri"},
            "donors_url": {"type": "string", "format": "uri"},
        },
    },
    "SegmentInput": {
        "type": "object",
        "required": ["name", "definition"],
        "properties": {
            "name": {"type": "string", "maxLength": 120},
            "description": {"type": "string", "maxLength": 500},
            "definition": {"$ref": "#/components/schemas/SegmentDefinition"},
        },
    },
    "DonorPage": page_schema("#/components/schemas/Donor"),
    "SegmentPage": page_schema("#/components/schemas/Segment"),
}
