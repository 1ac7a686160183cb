"""JSON API v1 for campaigns, pacts and labs: public reads, staff writes with a bearer token."""

from datetime import date

from flask import Blueprint, abort, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campaigns import editing, lifecycle
from campaigns.models import Campaign, CampaignStatus, Lab, Pact
from campaigns.views import PUBLIC_LISTED, load_campaign
from legami.api import PREFIX, json_body, page_schema, paginate, token_required
from legami.extensions import csrf, db
from legami.models import Organisation, Role
from legami.money import MAX_GOAL_CENTS
from legami.problems import problem, validation_problem
from legami.validation import Invalid

bp = Blueprint("campaigns_api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def _link(row, endpoint: str) -> dict:
    return {"slug": row.slug, "title": row.title, "url": _url(endpoint, slug=row.slug)}


def campaign_json(c: Campaign, detail: bool = False) -> dict:
    data = {
        "slug": c.slug,
        "title": c.title,
        "summary": c.summary,
        "title_en": c.title_en,
        "summary_en": c.summary_en,
        "status": c.status,
        "organisation": {"slug": c.organisation.slug, "name": c.organisation.name},
        "currency": c.currency,
        "goal_cents": c.goal_cents,
        "raised_cents": c.raised_cents,
        "matched_cents": c.matched_cents,
        "gift_count": c.gift_count,
        "starts_on": c.starts_on.isoformat(),
        "ends_on": c.ends_on.isoformat(),
        "url": _url("campaigns.campaign", slug=c.slug),
        "cover_url": _url("uploads.serve", name=c.cover) if c.cover else None,
        "pacts": [_link(p, "campaigns.pact") for p in c.pacts],
        "labs": [_link(lab, "campaigns.lab") for lab in c.labs],
    }
    if detail:
        data["story"] = c.story
        data["story_en"] = c.story_en
        data["updates"] = [
            {
                "title": u.title,
                "body": u.body,
                "title_en": u.title_en,
                "body_en": u.body_en,
                "published_at": u.published_at.isoformat(),
            }
            for u in c.updates
        ]
    return data


def pact_json(p: Pact) -> dict:
    return {
        **_link(p, "campaigns.pact"),
        "summary": p.summary,
        "reciprocity": p.reciprocity,
        "title_en": p.title_en,
        "summary_en": p.summary_en,
        "reciprocity_en": p.reciprocity_en,
        "place": p.place,
        "status": p.status,
    }


def lab_json(lab: Lab) -> dict:
    return {
        **_link(lab, "campaigns.lab"),
        "summary": lab.summary,
        "place": lab.place,
        "place_kind": lab.place_kind,
        "schedule": lab.schedule,
        "title_en": lab.title_en,
        "summary_en": lab.summary_en,
        "schedule_en": lab.schedule_en,
        "status": lab.status,
    }


@bp.get("/campaigns")
def list_campaigns():
    query = (
        select(Campaign)
        .where(Campaign.status.in_(PUBLIC_LISTED))
        .options(selectinload(Campaign.pacts), selectinload(Campaign.labs))
        .order_by(Campaign.ends_on, Campaign.id)
    )
    return paginate(query, campaign_json)


@bp.get("/campaigns/<slug>")
def get_campaign(slug: str):
    campaign = load_campaign(slug)
    if not campaign.is_public:
        abort(404)
    return campaign_json(campaign, detail=True)


@bp.get("/pacts")
def list_pacts():
    return paginate(select(Pact).order_by(Pact.title, Pact.id), pact_json)


@bp.get("/labs")
def list_labs():
    return paginate(select(Lab).order_by(Lab.title, Lab.id), lab_json)


_TEXTS = ("title", "slug", "summary", "story", "title_en", "summary_en", "story_en")


def _service_data(body: dict) -> dict:
    """JSON (slugs, ISO dates) -> the editing service's typed values; Invalid on bad input."""
    errors: dict = {}
    data = {k: body[k] for k in (*_TEXTS, "goal_cents") if k in body}
    for field in (*_TEXTS, "organisation"):
        if field in body and not isinstance(body[field], str):
            errors[field] = "Must be text."
            data.pop(field, None)
    for field in ("starts_on", "ends_on"):
        if field in body:
            try:
                data[field] = date.fromisoformat(str(body[field]))
            except ValueError:
                errors[field] = "Give a date as YYYY-MM-DD."
    if isinstance(body.get("organisation"), str):
        org = db.session.scalar(
            select(Organisation).where(Organisation.slug == body["organisation"])
        )
        data["organisation_id"] = org.id if org else None
    for field, model in (("pacts", Pact), ("labs", Lab)):
        if field in body:
            slugs = body[field]
            if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
                errors[field] = "Must be a list of slugs."
                continue
            rows = db.session.scalars(select(model).where(model.slug.in_(slugs))).all()
            if len(rows) != len(set(slugs)):
                errors[field] = "Some of these slugs do not exist."
            data[field[:-1] + "_ids"] = [r.id for r in rows]
    if errors:
        raise Invalid(errors)
    return data


_API_FIELDS = {"organisation_id": "organisation", "pact_ids": "pacts", "lab_ids": "labs"}


def _save(campaign: Campaign | None, status: int):
    try:
        saved = editing.save_campaign(campaign, _service_data(json_body()))
    except Invalid as invalid:
        db.session.rollback()
        return validation_problem({_API_FIELDS.get(k, k): v for k, v in invalid.errors.items()})
    response = campaign_json(saved, detail=True), status
    if status == 201:
        return (*response, {"Location": _url("campaigns_api.get_campaign", slug=saved.slug)})
    return response


@bp.post("/campaigns")
@token_required(Role.STAFF)
def create_campaign():
    return _save(None, 201)


@bp.patch("/campaigns/<slug>")
@token_required(Role.STAFF)
def update_campaign(slug: str):
    return _save(load_campaign(slug), 200)


@bp.post("/campaigns/<slug>/<any(publish, close, archive):action>")
@token_required(Role.STAFF)
def change_status(slug: str, action: str):
    campaign = load_campaign(slug)
    try:
        lifecycle.change_status(campaign, action)
    except lifecycle.TransitionError as exc:
        return problem(409, "Conflict", str(exc), status_now=campaign.status)
    return campaign_json(campaign, detail=True)


def _op(summary: str, op_id: str, responses: dict, **extra) -> dict:
    problem_ref = {"$ref": "#/components/responses/Problem"}
    return {
        "summary": summary,
        "operationId": op_id,
        "responses": {**responses, "default": problem_ref},
        **extra,
    }


def _ok(ref: str, code: str = "200") -> dict:
    return {code: {"description": "OK", "content": {"application/json": {"schema": {"$ref": ref}}}}}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_PAGING = [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"}]
_WRITE = {"security": [{"bearer": []}]}
_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CampaignInput"}}},
}
_CHANGES = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CampaignChanges"}}},
}
_ENGLISH = {
    "type": "string",
    "description": "the English text; empty when not translated (the Italian one is shown)",
}
_LINK = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"},
        "title": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
    },
}

PATHS = {
    "/campaigns": {
        "get": _op(
            "Live and ended campaigns",
            "listCampaigns",
            _ok("#/components/schemas/CampaignPage"),
            parameters=_PAGING,
        ),
        "post": _op(
            "Create a draft campaign",
            "createCampaign",
            _ok("#/components/schemas/Campaign", "201"),
            requestBody=_BODY,
            **_WRITE,
        ),
    },
    "/campaigns/{slug}": {
        "get": _op(
            "One public campaign with story and updates",
            "getCampaign",
            _ok("#/components/schemas/Campaign"),
            parameters=[_SLUG],
        ),
        "patch": _op(
            "Change a campaign's fields",
            "updateCampaign",
            _ok("#/components/schemas/Campaign"),
            parameters=[_SLUG],
            requestBody=_CHANGES,
            **_WRITE,
        ),
    },
    "/campaigns/{slug}/{action}": {
        "post": _op(
            "Publish, close or archive a campaign",
            "changeCampaignStatus",
            _ok("#/components/schemas/Campaign"),
            **_WRITE,
            parameters=[
                _SLUG,
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["publish", "close", "archive"]},
                },
            ],
        ),
    },
    "/pacts": {
        "get": _op(
            "Generative pacts",
            "listPacts",
            _ok("#/components/schemas/PactPage"),
            parameters=_PAGING,
        )
    },
    "/labs": {
        "get": _op(
            "Community labs", "listLabs", _ok("#/components/schemas/LabPage"), parameters=_PAGING
        )
    },
}

SCHEMAS = {
    "Campaign": {
        "type": "object",
        "required": [
            "slug",
            "title",
            "status",
            "goal_cents",
            "raised_cents",
            "matched_cents",
            "currency",
        ],
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "title_en": _ENGLISH,
            "summary_en": _ENGLISH,
            "story_en": _ENGLISH,
            "status": {"enum": [s.value for s in CampaignStatus]},
            "organisation": {
                "type": "object",
                "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
            },
            "currency": {"type": "string"},
            "goal_cents": {"type": "integer"},
            "raised_cents": {"type": "integer", "description": "donors' gifts, net of refunds"},
            "matched_cents": {
                "type": "integer",
                "description": "matchers' pledges for those gifts (raddoppio), not in raised",
            },
            "gift_count": {"type": "integer"},
            "starts_on": {"type": "string", "format": "date"},
            "ends_on": {"type": "string", "format": "date"},
            "url": {"type": "string", "format": "uri"},
            "cover_url": {"type": ["string", "null"], "format": "uri"},
            "pacts": {"type": "array", "items": _LINK},
            "labs": {"type": "array", "items": _LINK},
            "story": {"type": "string"},
            "updates": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "body": {"type": "string"},
                        "title_en": _ENGLISH,
                        "body_en": _ENGLISH,
                        "published_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
    },
    "CampaignInput": {
        "type": "object",
        "description": "A new campaign. Also refused (422): an organisation, pact or lab slug "
        "that does not exist, a slug already taken, an end before the start.",
        "required": ["title", "summary", "organisation", "goal_cents", "starts_on", "ends_on"],
        "properties": {
            "title": {"type": "string", "maxLength": 200, "pattern": "\\S"},
            "slug": {"type": "string", "maxLength": 120, "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
            "organisation": {"type": "string", "description": "the organisation's slug"},
            "summary": {"type": "string", "maxLength": 500, "pattern": "\\S"},
            "story": {"type": "string", "description": "Markdown"},
            "title_en": {"type": "string", "maxLength": 200, "description": "optional"},
            "summary_en": {"type": "string", "maxLength": 500, "description": "optional"},
            "story_en": {"type": "string", "description": "optional; Markdown"},
            "goal_cents": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_GOAL_CENTS,
                "description": "whole cents: 250000 is 2.500,00 EUR",
            },
            "starts_on": {"type": "string", "format": "date"},
            "ends_on": {"type": "string", "format": "date"},
            "pacts": {"type": "array", "items": {"type": "string"}},
            "labs": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Pact": {
        "type": "object",
        "properties": {
            **_LINK["properties"],
            "summary": {"type": "string"},
            "reciprocity": {"type": "string"},
            "title_en": _ENGLISH,
            "summary_en": _ENGLISH,
            "reciprocity_en": _ENGLISH,
            "place": {"type": "string"},
            "status": {"type": "string"},
        },
    },
    "Lab": {
        "type": "object",
        "properties": {
            **_LINK["properties"],
            "summary": {"type": "string"},
            "place": {"type": "string"},
            "place_kind": {"type": "string"},
            "schedule": {"type": "string"},
            "title_en": _ENGLISH,
            "summary_en": _ENGLISH,
            "schedule_en": _ENGLISH,
            "status": {"type": "string"},
        },
    },
    "CampaignPage": page_schema("#/components/schemas/Campaign"),
    "PactPage": page_schema("#/components/schemas/Pact"),
    "LabPage": page_schema("#/components/schemas/Lab"),
}

SCHEMAS["CampaignChanges"] = {
    "type": "object",
    "description": "Any of CampaignInput's fields; those left out keep their value.",
    "properties": SCHEMAS["CampaignInput"]["properties"],
}
