"""The JSON API's common parts: bearer tokens, pagination, and the OpenAPI document.

Each domain package adds its own blueprint under /api/v1 and its paths with `document()`.
The document is also the check: `json_body()` validates a request's body against the schema
its operation declares, so what the document promises (types, required fields, bounds) is
what the API enforces, with a 422 problem naming each field before any service runs.
"""

import re
from functools import wraps

from flask import Blueprint, abort, current_app, g, jsonify, request
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from legami import params
from legami.extensions import csrf, db
from legami.models import ApiToken, Role
from legami.money import COLUMN_MAX_CENTS, AmountError, check_cents
from legami.problems import validation_problem
from legami.timeutil import now_utc

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)

# The bounds legami.params enforces, for the documents' schemas.
ID_SCHEMA = {"type": "integer", "minimum": params.ID.low, "maximum": params.ID.high}
YEAR_SCHEMA = {"type": "integer", "minimum": params.YEAR.low, "maximum": params.YEAR.high}


def path_id(name: str) -> dict:
    """An id in the path: out of its bounds, no route matches (404)."""
    return {"name": name, "in": "path", "required": True, "schema": ID_SCHEMA}


_BASE_DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Legami API",
        "version": "1.0.0",
        "description": "Campaigns, generative pacts and community labs of the Legami network. "
        "Reads are public; writes need a staff bearer token (`legami tokens create EMAIL`). "
        "Errors are RFC 9457 problem details.",
    },
    "servers": [{"url": PREFIX}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Problem": {
                "type": "object",
                "required": ["type", "title", "status"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "field": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
        "parameters": {
            "page": {
                "name": "page",
                "in": "query",
                "schema": {
                    "type": "integer",
                    "minimum": params.PAGE.low,
                    "maximum": params.PAGE.high,
                    "default": 1,
                },
            },
            "per_page": {
                "name": "per_page",
                "in": "query",
                "schema": {
                    "type": "integer",
                    "minimum": params.PER_PAGE.low,
                    "maximum": params.PER_PAGE.high,
                    "default": 20,
                },
            },
        },
        "responses": {
            "Problem": {
                "description": "An error, as RFC 9457 problem details",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        },
    },
    "paths": {
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": {"description": "The OpenAPI document"}},
            }
        }
    },
}


def init_app(app) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.extensions["legami.openapi"] = {"paths": {}, "schemas": {}}


def document(app, paths: dict, schemas: dict) -> None:
    """A package adds its paths and schemas to the OpenAPI document."""
    parts = app.extensions["legami.openapi"]
    parts["paths"].update(paths)
    parts["schemas"].update(schemas)


def specification(app) -> dict:
    parts = app.extensions["legami.openapi"]
    spec = {**_BASE_DOCUMENT, "paths": {**_BASE_DOCUMENT["paths"], **parts["paths"]}}
    spec["components"] = {
        **_BASE_DOCUMENT["components"],
        "schemas": {**_BASE_DOCUMENT["components"]["schemas"], **parts["schemas"]},
    }
    return spec


@bp.get("/openapi.json")
def openapi():
    return jsonify(specification(current_app))


def _document_path(rule: str) -> str:
    """/api/v1/campaigns/<slug>/<any(a, b):action> -> /campaigns/{slug}/{action}"""
    return re.sub(r"<(?:[^>:]*:)?([^>]+)>", r"{\1}", rule.removeprefix(PREFIX))


def _body_validator(rule: str, method: str) -> Draft202012Validator | None:
    """The validator of this operation's JSON body, made once per app."""
    validators = current_app.extensions.setdefault("legami.body_validators", {})
    key = (rule, method)
    if key not in validators:
        spec = specification(current_app)
        operation = spec["paths"].get(_document_path(rule), {}).get(method.lower(), {})
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        validators[key] = (
            Draft202012Validator({**schema, "components": spec["components"]}) if schema else None
        )
    return validators[key]


def _field(error) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":  # one error per missing field, named in its message
        path += [name for name in error.validator_value if error.message.startswith(repr(name))]
    return ".".join(path) or "body"


def _message(error) -> str:
    """jsonschema's words, except for an amount (a `*_cents` field): the words of
    `check_cents`, which the services and forms use too, within the bounds its schema sets."""
    name = error.absolute_path[-1] if error.absolute_path else None
    if (
        isinstance(name, str)
        and name.endswith("_cents")
        and error.validator in ("type", "minimum", "maximum")
    ):
        bounds = error.schema
        try:
            check_cents(
                error.instance,
                bounds.get("maximum", COLUMN_MAX_CENTS),
                allow_zero=bounds.get("minimum", 0) <= 0,
            )
        except AmountError as refused:
            return str(refused.message)
    return error.message[:300]


def json_body() -> dict:
    """The request's JSON object, checked against its operation's documented schema: a 400
    problem when it is not an object, a 422 naming each field that breaks the schema."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "The body must be a JSON object.")
    validator = _body_validator(request.url_rule.rule, request.method)
    if validator is not None:
        errors = {}
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
            errors.setdefault(_field(error), _message(error))
        if errors:
            abort(validation_problem(errors))
    return data


def token_required(*roles: Role):
    """Bearer token of an active user holding one of `roles` (admin always passes)."""
    allowed = {Role(r).value for r in roles} | {Role.ADMIN.value}

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            row = ApiToken.find_active(token.strip()) if scheme.lower() == "bearer" else None
            if row is None:
                abort(401, "A valid bearer token is required.")
            if not row.user.has_any_role(*allowed):
                abort(403, "This token's user lacks the role for this operation.")
            row.last_used_at = now_utc()
            g.api_user = row.user
            return view(*args, **kwargs)

        wrapper.required_roles = frozenset(allowed)
        return wrapper

    return decorator


def page_args() -> tuple[int, int]:
    """?page= (1 to 10^6) and ?per_page= (1 to 100), or a 422 problem naming the field."""
    page = params.arg("page", params.PAGE, 1)
    per_page = params.arg("per_page", params.PER_PAGE, current_app.config["API_PAGE_SIZE"])
    return page, per_page


def page_envelope(items: list, page_no: int, size: int, total: int):
    return jsonify(
        {
            "items": items,
            "page": page_no,
            "per_page": size,
            "total": total,
            "pages": (total + size - 1) // size,
        }
    )


def paginate(query, serialise):
    """Page a select() by ?page= and ?per_page=; returns the JSON envelope."""
    page_no, size = page_args()
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(size).offset((page_no - 1) * size)).all()
    return page_envelope([serialise(row) for row in rows], page_no, size, total)


def page_schema(item_ref: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": item_ref}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    }
