"""Creating and changing campaigns, pacts, labs and updates; shared by the forms and the API.

Each function validates everything first and raises Invalid before touching the database,
so bad input stores nothing.
"""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from campaigns.models import Campaign, CampaignStatus, Lab, Pact, PlaceKind, ProgrammeStatus, Update
from legami.extensions import db
from legami.models import Organisation
from legami.money import MAX_GOAL_CENTS, AmountError, check_cents
from legami.slugs import is_slug, slugify
from legami.timeutil import now_utc
from legami.uploads import save_image
from legami.validation import Invalid

# The English texts: optional, each as long as its Italian field may be.
CAMPAIGN_ENGLISH = {"title_en": 200, "summary_en": 500, "story_en": 50_000}
PACT_ENGLISH = {"title_en": 200, "summary_en": 500, "story_en": 50_000, "reciprocity_en": 5_000}
LAB_ENGLISH = {"title_en": 200, "summary_en": 500, "story_en": 50_000, "schedule_en": 500}
UPDATE_ENGLISH = {"title_en": 200, "body_en": 50_000}


def _text(data: dict, field: str, errors: dict, max_length: int, required: bool = True) -> str:
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = _l("Must be text.")
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = _l("This field is required.")
    elif len(value) > max_length:
        errors[field] = _l("At most %(n)s characters.", n=max_length)
    return value


def _english(data: dict, limits: dict[str, int], errors: dict) -> dict[str, str]:
    return {
        field: _text(data, field, errors, limit, required=False) for field, limit in limits.items()
    }


def _slug(model, data: dict, errors: dict, current, title: str) -> str:
    slug = (data.get("slug") or "").strip() if isinstance(data.get("slug"), str) else ""
    slug = slug or slugify(title)
    if not slug and not title:
        return slug  # the missing title is the error to show
    if not is_slug(slug):
        errors["slug"] = _l("Use lower-case letters, digits and dashes.")
    elif len(slug) > 120:
        errors["slug"] = _l("At most %(n)s characters.", n=120)
    else:
        clash = db.session.scalar(select(model).where(model.slug == slug))
        if clash is not None and clash is not current:
            errors["slug"] = _l("This address is already used: choose another.")
    return slug


def _choice(data: dict, field: str, enum_cls, errors: dict, default):
    value = data.get(field) or default
    if value not in {m.value for m in enum_cls}:
        errors[field] = _l("Not one of the allowed values.")
    return value


def _ids(model, data: dict, field: str, errors: dict) -> list:
    ids = data.get(field) or []
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        errors[field] = _l("Must be a list of ids.")
        return []
    rows = db.session.scalars(select(model).where(model.id.in_(ids))).all() if ids else []
    if len(rows) != len(set(ids)):
        errors[field] = _l("Some of these do not exist.")
    return list(rows)


def _cover(storage, errors: dict, field: str = "cover") -> str | None:
    if not storage or not getattr(storage, "filename", ""):
        return None
    try:
        return save_image(storage, field)
    except Invalid as invalid:
        errors.update(invalid.errors)
        return None


def save_campaign(campaign: Campaign | None, data: dict, cover=None) -> Campaign:
    """Create (campaign=None) or update; `data` holds typed values (cents, dates, id lists)."""
    errors: dict = {}
    if campaign is not None:
        data = {**campaign_data(campaign), **data}
    title = _text(data, "title", errors, 200)
    summary = _text(data, "summary", errors, 500)
    story = _text(data, "story", errors, 50_000, required=False)
    english = _english(data, CAMPAIGN_ENGLISH, errors)
    slug = _slug(Campaign, data, errors, campaign, title)
    organisation = None
    if isinstance(data.get("organisation_id"), int):
        organisation = db.session.get(Organisation, data["organisation_id"])
    if organisation is None:
        errors["organisation_id"] = _l("Choose the organisation that runs the campaign.")
    try:
        goal = check_cents(data.get("goal_cents"), MAX_GOAL_CENTS)
    except AmountError as exc:
        errors["goal_cents"] = exc.message
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    for field, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        if not isinstance(value, date):
            errors[field] = _l("Give a date.")
    if isinstance(starts_on, date) and isinstance(ends_on, date) and ends_on < starts_on:
        errors["ends_on"] = _l("The end date must not be before the start date.")
    pacts = _ids(Pact, data, "pact_ids", errors)
    labs = _ids(Lab, data, "lab_ids", errors)
    cover_name = _cover(cover, errors) if not errors else None
    if errors:
        raise Invalid(errors)
    if campaign is None:
        campaign = Campaign(status=CampaignStatus.DRAFT)
        db.session.add(campaign)
    campaign.title, campaign.summary, campaign.story, campaign.slug = title, summary, story, slug
    for field, value in english.items():
        setattr(campaign, field, value)
    campaign.organisation = organisation
    campaign.goal_cents, campaign.starts_on, campaign.ends_on = goal, starts_on, ends_on
    campaign.pacts, campaign.labs = pacts, labs
    if cover_name:
        campaign.cover = cover_name
    db.session.commit()
    return campaign


def campaign_data(campaign: Campaign) -> dict:
    return {
        "title": campaign.title,
        "slug": campaign.slug,
        "organisation_id": campaign.organisation_id,
        "summary": campaign.summary,
        "story": campaign.story,
        **{field: getattr(campaign, field) for field in CAMPAIGN_ENGLISH},
        "goal_cents": campaign.goal_cents,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "pact_ids": [p.id for p in campaign.pacts],
        "lab_ids": [lab.id for lab in campaign.labs],
    }


def save_pact(pact: Pact | None, data: dict, cover=None) -> Pact:
    errors: dict = {}
    title = _text(data, "title", errors, 200)
    values = {
        "title": title,
        "summary": _text(data, "summary", errors, 500),
        "story": _text(data, "story", errors, 50_000, required=False),
        "reciprocity": _text(data, "reciprocity", errors, 5_000),
        "place": _text(data, "place", errors, 200),
        "status": _choice(data, "status", ProgrammeStatus, errors, ProgrammeStatus.PROPOSED),
        "slug": _slug(Pact, data, errors, pact, title),
        **_english(data, PACT_ENGLISH, errors),
    }
    return _save(Pact, pact, values, cover, errors)


def save_lab(lab: Lab | None, data: dict, cover=None) -> Lab:
    errors: dict = {}
    title = _text(data, "title", errors, 200)
    values = {
        "title": title,
        "summary": _text(data, "summary", errors, 500),
        "story": _text(data, "story", errors, 50_000, required=False),
        "place": _text(data, "place", errors, 200),
        "place_kind": _choice(data, "place_kind", PlaceKind, errors, None),
        "schedule": _text(data, "schedule", errors, 500, required=False),
        "status": _choice(data, "status", ProgrammeStatus, errors, ProgrammeStatus.PROPOSED),
        "slug": _slug(Lab, data, errors, lab, title),
        **_english(data, LAB_ENGLISH, errors),
    }
    return _save(Lab, lab, values, cover, errors)


def _save(model, row, values: dict, cover, errors: dict):
    cover_name = _cover(cover, errors) if not errors else None
    if errors:
        raise Invalid(errors)
    if row is None:
        row = model()
        db.session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    if cover_name:
        row.cover = cover_name
    db.session.commit()
    return row


def add_update(campaign: Campaign, data: dict) -> Update:
    errors: dict = {}
    title = _text(data, "title", errors, 200)
    body = _text(data, "body", errors, 50_000)
    english = _english(data, UPDATE_ENGLISH, errors)
    if errors:
        raise Invalid(errors)
    update = Update(campaign=campaign, title=title, body=body, published_at=now_utc(), **english)
    db.session.add(update)
    db.session.commit()
    return update
