"""JSON API v1 for newsletters: list, read, create a draft, schedule; staff tokens only."""

from flask import Blueprint, abort, g, request, url_for
from sqlalchemy import select

from legami.api import (
    ID_SCHEMA,
    PREFIX,
    document,
    json_body,
    page_schema,
    paginate,
    path_id,
    token_required,
)
from legami.extensions import csrf, db
from legami.models import Role
from legami.problems import validation_problem
from legami.validation import Invalid
from mailing import newsletters, report, scheduling
from mailing.models import LANGUAGES, Newsletter, NewsletterStatus

bp = Blueprint("newsletters_api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)


def init_app(app) -> None:
    app.register_blueprint(bp)
    document(app, PATHS, SCHEMAS)


def _time(value) -> str | None:
    return value.isoformat() if value else None


def newsletter_json(n: Newsletter) -> dict:
    progress = report.progress(n)
    return {
        "id": n.id,
        "organisation_id": n.organisation_id,
        "title": n.title,
        "status": n.status,
        "from_name": n.from_name,
        "from_email": n.from_email,
        "reply_to": n.reply_to,
        "track_engagement": n.track_engagement,
        "languages": [v.language for v in n.versions],
        "segment_ids": [s.id for s in n.segments],
        "scheduled_at": _time(n.scheduled_at),
        "started_at": _time(n.started_at),
        "finished_at": _time(n.finished_at),
        "recipients_total": n.recipients_total,
        "sent": progress.sent,
        "failed": progress.failed,
        "bounced": progress.bounced,
        "pending": progress.pending,
        "created_at": n.created_at.isoformat(),
        "url": url_for("newsletters_api.get_newsletter", newsletter_id=n.id, _external=True),
    }


@bp.get("/newsletters")
@token_required(Role.STAFF)
def list_newsletters():
    query = select(Newsletter).order_by(Newsletter.created_at.desc(), Newsletter.id.desc())
    status = request.args.get("status")
    if status:
        if status not in set(NewsletterStatus):
            abort(400, "status must be one of: " + ", ".join(NewsletterStatus) + ".")
        query = query.where(Newsletter.status == status)
    return paginate(query, newsletter_json)


@bp.get("/newsletters/<int:newsletter_id>")
@token_required(Role.STAFF)
def get_newsletter(newsletter_id: int):
    return newsletter_json(db.get_or_404(Newsletter, newsletter_id))


def _text(body: dict, name: str, errors: dict) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = "Must be text."
        return ""
    return value


def _draft(body: dict) -> newsletters.DraftData:
    """The JSON body as the composer's draft; Invalid on values of the wrong type."""
    errors: dict[str, str] = {}
    organisation_id = body.get("organisation_id")
    if not isinstance(organisation_id, int) or isinstance(organisation_id, bool):
        errors["organisation_id"] = "Must be an organisation's id."
    texts = {name: _text(body, name, errors) for name in ("title", "from_name", "from_email")}
    texts["reply_to"] = _text(body, "reply_to", errors)
    versions = {}
    given = body.get("versions") or {}
    if not isinstance(given, dict) or set(given) - set(LANGUAGES):
        errors["versions"] = "Must be an object keyed by language: " + ", ".join(LANGUAGES) + "."
    else:
        for language, version in given.items():
            if not isinstance(version, dict):
                errors[f"versions.{language}"] = "Must be an object with subject, preheader, body."
                continue
            fields = {
                name: _text(version, name, errors) for name in ("subject", "preheader", "body")
            }
            versions[language] = newsletters.VersionData(**fields)
    segment_ids = body.get("segment_ids") or []
    if not isinstance(segment_ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in segment_ids
    ):
        errors["segment_ids"] = "Must be a list of segment ids."
    if errors:
        raise Invalid(errors)
    return newsletters.DraftData(
        organisation_id=organisation_id, versions=versions, segment_ids=segment_ids, **texts
    )


@bp.post("/newsletters")
@token_required(Role.STAFF)
def create_newsletter():
    try:
        newsletter = newsletters.create(_draft(json_body()), g.api_user)
    except Invalid as invalid:
        db.session.rollback()
        return validation_problem(invalid.errors)
    data = newsletter_json(newsletter)
    return data, 201, {"Location": data["url"]}


@bp.post("/newsletters/<int:newsletter_id>/schedule")
@token_required(Role.STAFF)
def schedule_newsletter(newsletter_id: int):
    """{"at": ISO 8601 (without an offset: Italian time) or null for now}."""
    newsletter = db.get_or_404(Newsletter, newsletter_id)
    at = json_body().get("at")
    try:
        if at is not None and not isinstance(at, str):
            raise Invalid({"at": "Must be an ISO 8601 date-time or null."})
        when = scheduling.parse_rome(at) if at else None
        count = scheduling.send_at(newsletter, when, g.api_user)
    except Invalid as invalid:
        db.session.rollback()
        return validation_problem(invalid.errors)
    db.session.commit()
    scheduling.poke()
    return {**newsletter_json(newsletter), "recipients": count}


_PROBLEM = {"default": {"$ref": "#/components/responses/Problem"}}
_PAGING = [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"}]
_ID = path_id("newsletter_id")
_TIME = {"type": ["string", "null"], "format": "date-time"}


def _json(ref: str, code: str = "200") -> dict:
    return {code: {"description": "OK", "content": {"application/json": {"schema": {"$ref": ref}}}}}


def _body(ref: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _op(summary: str, op_id: str, ok: dict, **extra) -> dict:
    return {
        "summary": summary,
        "operationId": op_id,
        "security": [{"bearer": []}],
        "responses": {**ok, **_PROBLEM},
        **extra,
    }


PATHS = {
    "/newsletters": {
        "get": _op(
            "Newsletters, newest first",
            "listNewsletters",
            _json("#/components/schemas/NewsletterPage"),
            parameters=[
                {"name": "status", "in": "query", "schema": {"enum": list(NewsletterStatus)}},
                *_PAGING,
            ],
        ),
        "post": _op(
            "Create a draft newsletter (Italian version required)",
            "createNewsletter",
            _json("#/components/schemas/Newsletter", "201"),
            requestBody=_body("#/components/schemas/NewsletterDraft"),
        ),
    },
    "/newsletters/{newsletter_id}": {
        "get": _op(
            "A newsletter with its delivery counts",
            "getNewsletter",
            _json("#/components/schemas/Newsletter"),
            parameters=[_ID],
        )
    },
    "/newsletters/{newsletter_id}/schedule": {
        "post": _op(
            "Schedule a draft, paused or late newsletter, or move a scheduled one",
            "scheduleNewsletter",
            _json("#/components/schemas/ScheduledNewsletter"),
            parameters=[_ID],
            requestBody=_body("#/components/schemas/NewsletterSchedule"),
        )
    },
}

_VERSION = {
    "type": "object",
    "required": ["subject"],
    "properties": {
        "subject": {"type": "string", "maxLength": 200},
        "preheader": {"type": "string", "maxLength": 200},
        "body": {"type": "string", "description": "Markdown, with [[campaign:slug]] blocks"},
    },
}

SCHEMAS = {
    "Newsletter": {
        "type": "object",
        "required": ["id", "organisation_id", "title", "status", "languages"],
        "properties": {
            "id": {"type": "integer"},
            "organisation_id": {"type": "integer"},
            "title": {"type": "string"},
            "status": {"enum": list(NewsletterStatus)},
            "from_name": {"type": "string"},
            "from_email": {"type": "string"},
            "reply_to": {"type": "string"},
            "track_engagement": {"type": "boolean"},
            "languages": {"type": "array", "items": {"enum": list(LANGUAGES)}},
            "segment_ids": {"type": "array", "items": {"type": "integer"}},
            "scheduled_at": _TIME,
            "started_at": _TIME,
            "finished_at": _TIME,
            "recipients_total": {"type": ["integer", "null"]},
            "sent": {"type": "integer"},
            "failed": {"type": "integer"},
            "bounced": {"type": "integer"},
            "pending": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "NewsletterPage": page_schema("#/components/schemas/Newsletter"),
    "NewsletterDraft": {
        "type": "object",
        "required": ["organisation_id", "title", "versions"],
        "properties": {
            "organisation_id": ID_SCHEMA,
            "title": {"type": "string", "maxLength": 200},
            "from_name": {"type": "string"},
            "from_email": {"type": "string", "format": "email"},
            "reply_to": {"type": "string", "format": "email"},
            "versions": {
                "type": "object",
                "required": ["it"],
                "properties": {language: _VERSION for language in LANGUAGES},
                "additionalProperties": False,
            },
            "segment_ids": {
                "type": "array",
                "items": ID_SCHEMA,
                "description": "None: every subscriber",
            },
        },
    },
    "NewsletterSchedule": {
        "type": "object",
        "properties": {
            "at": {
                "type": ["string", "null"],
                "description": "ISO 8601; without an offset it is Italian time (Europe/Rome). "
                "Null or absent: send now.",
            }
        },
    },
    "ScheduledNewsletter": {
        "allOf": [
            {"$ref": "#/components/schemas/Newsletter"},
            {
                "type": "object",
                "properties": {"recipients": {"type": "integer"}},
                "required": ["recipients"],
            },
        ]
    },
}
