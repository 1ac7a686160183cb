"""JSON API v1, public reads: a campaign's personal pages and matching challenges."""

from flask import Blueprint, abort, url_for
from sqlalchemy import select

from campaigns.models import Campaign
from legami.api import PREFIX, page_schema, paginate
from legami.extensions import csrf, db
from payments import fundraising_pages, matching
from payments.matching_models import Challenge
from payments.page_models import FundraisingPage, PageStatus

bp = Blueprint("payments_pages_api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)


def _public_campaign(slug: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None or not campaign.is_public:
        abort(404, "No such campaign.")
    return campaign


def page_json(page: FundraisingPage) -> dict:
    raised, gifts = fundraising_pages.raised(page)
    return {
        "slug": page.slug,
        "campaign": page.campaign.slug,
        "kind": "team" if page.is_team else "personal",
        "team": page.team.slug if page.team else None,
        "name": page.display_name,
        "title": page.title,
        "story": page.story,
        "goal_cents": page.goal_cents,
        "raised_cents": raised,
        "gift_count": gifts,
        "ends_on": page.ends_on.isoformat(),
        "url": url_for("payments_pages.page", slug=page.slug, _external=True),
        "photo_url": url_for("uploads.serve", name=page.photo, _external=True)
        if page.photo
        else None,
    }


def challenge_json(challenge: Challenge) -> dict:
    return {
        "matcher": challenge.matcher.display_name,
        "ratio_percent": challenge.ratio_percent,
        "cap_cents": challenge.cap_cents,
        "matched_cents": challenge.committed_cents,
        "remaining_cents": challenge.remaining_cents,
        "starts_on": challenge.starts_on.isoformat(),
        "ends_on": challenge.ends_on.isoformat(),
        "one_off": challenge.one_off,
        "monthly": challenge.monthly,
        "first_time_only": challenge.first_time_only,
        "per_gift_ceiling_cents": challenge.per_gift_ceiling_cents,
        "public_text": challenge.public_text,
        "settled": challenge.settled,
    }


@bp.get("/campaigns/<slug>/pages")
def campaign_pages(slug: str):
    campaign = _public_campaign(slug)
    query = (
        select(FundraisingPage)
        .where(
            FundraisingPage.campaign_id == campaign.id,
            FundraisingPage.status == PageStatus.LIVE,
        )
        .order_by(FundraisingPage.created_at)
    )
    return paginate(query, page_json)


@bp.get("/pages/<slug>")
def page(slug: str):
    found = fundraising_pages.by_slug(slug)
    if found is None or not found.is_public:
        abort(404, "No such page.")
    return page_json(found)


@bp.get("/campaigns/<slug>/challenges")
def campaign_challenges(slug: str):
    campaign = _public_campaign(slug)
    return {"items": [challenge_json(c) for c in matching.challenges_of(campaign.id)]}


def _ok(schema: str) -> dict:
    return {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": {"$ref": schema}}},
        },
        "default": {"$ref": "#/components/responses/Problem"},
    }


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_PAGING = [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"}]

PATHS = {
    "/campaigns/{slug}/pages": {
        "get": {
            "summary": "A campaign's live personal and team fundraising pages",
            "operationId": "listCampaignPages",
            "parameters": [_SLUG, *_PAGING],
            "responses": _ok("#/components/schemas/FundraisingPagePage"),
        }
    },
    "/pages/{slug}": {
        "get": {
            "summary": "A live fundraising page, with what it raised",
            "operationId": "getFundraisingPage",
            "parameters": [_SLUG],
            "responses": _ok("#/components/schemas/FundraisingPage"),
        }
    },
    "/campaigns/{slug}/challenges": {
        "get": {
            "summary": "A campaign's matching challenges (raddoppio) and their pools",
            "operationId": "listCampaignChallenges",
            "parameters": [_SLUG],
            "responses": _ok("#/components/schemas/ChallengeList"),
        }
    },
}

_INT = {"type": "integer"}
_STR = {"type": "string"}
SCHEMAS = {
    "FundraisingPage": {
        "type": "object",
        "required": ["slug", "campaign", "kind", "name", "title", "goal_cents", "raised_cents"],
        "properties": {
            "slug": _STR,
            "campaign": _STR,
            "kind": {"enum": ["personal", "team"]},
            "team": {"type": ["string", "null"]},
            "name": _STR,
            "title": _STR,
            "story": {"type": "string", "description": "plain text"},
            "goal_cents": _INT,
            "raised_cents": {"type": "integer", "description": "gifts through it, net"},
            "gift_count": _INT,
            "ends_on": {"type": "string", "format": "date"},
            "url": {"type": "string", "format": "uri"},
            "photo_url": {"type": ["string", "null"], "format": "uri"},
        },
    },
    "FundraisingPagePage": page_schema("#/components/schemas/FundraisingPage"),
    "Challenge": {
        "type": "object",
        "required": ["matcher", "ratio_percent", "cap_cents", "matched_cents"],
        "properties": {
            "matcher": _STR,
            "ratio_percent": {"type": "integer", "description": "cents matched per euro"},
            "cap_cents": _INT,
            "matched_cents": {"type": "integer", "description": "pledged now"},
            "remaining_cents": _INT,
            "starts_on": {"type": "string", "format": "date"},
            "ends_on": {"type": "string", "format": "date"},
            "one_off": {"type": "boolean"},
            "monthly": {"type": "boolean"},
            "first_time_only": {"type": "boolean"},
            "per_gift_ceiling_cents": {"type": ["integer", "null"]},
            "public_text": _STR,
            "settled": {"type": "boolean"},
        },
    },
    "ChallengeList": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Challenge"}}
        },
    },
}
