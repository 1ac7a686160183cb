"""Staff set up a matching challenge on a campaign: who matches, how much, when, which gifts."""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from campaigns.models import Campaign, CampaignStatus
from donors.identity import DonorDetails, find_or_create
from legami import audit
from legami.extensions import db
from legami.models import User
from legami.money import MAX_GOAL_CENTS
from legami.validation import Invalid
from payments.matching_models import MAX_RATIO_PERCENT, Challenge


@dataclass(frozen=True)
class ChallengeRequest:
    campaign: Campaign
    matcher: DonorDetails
    ratio_percent: int | None
    cap_cents: int | None
    starts_on: date | None
    ends_on: date | None
    one_off: bool = True
    monthly: bool = True
    first_time_only: bool = False
    per_gift_ceiling_cents: int | None = None
    public_text: str = ""
    position: int = 0


def validate(req: ChallengeRequest) -> None:
    errors = {}
    if req.campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.LIVE):
        errors["campaign"] = _l("Challenges are set up on draft or live campaigns.")
    if req.ratio_percent is None or not 0 < req.ratio_percent <= MAX_RATIO_PERCENT:
        errors["ratio_percent"] = _l(
            "Write how many cents are matched per euro given, from 1 to %(max)s.",
            max=MAX_RATIO_PERCENT,
        )
    if req.cap_cents is None or not 0 < req.cap_cents <= MAX_GOAL_CENTS:
        errors["cap"] = _l("Write the most the matcher gives, above zero.")
    if req.starts_on is None or req.ends_on is None:
        errors["ends_on"] = _l("Write when the challenge starts and ends.")
    elif req.ends_on < req.starts_on:
        errors["ends_on"] = _l("The end comes after the start.")
    elif req.starts_on < req.campaign.starts_on or req.ends_on > req.campaign.ends_on:
        errors["ends_on"] = _l("The challenge runs within the campaign's dates.")
    if not (req.one_off or req.monthly):
        errors["one_off"] = _l("Choose which gifts count: one-off, monthly or both.")
    if req.per_gift_ceiling_cents is not None and req.per_gift_ceiling_cents <= 0:
        errors["per_gift_ceiling"] = _l("The ceiling is above zero, or left empty.")
    if req.matcher.kind == "organisation" and not req.matcher.organisation_name:
        errors["matcher_name"] = _l("Write the matcher's name.")
    if req.matcher.kind == "person" and not (req.matcher.first_name and req.matcher.last_name):
        errors["matcher_name"] = _l("Write the matcher's first and last name.")
    if len(req.public_text) > 1000:
        errors["public_text"] = _l("At most 1000 characters.")
    if errors:
        raise Invalid(errors)


def create(req: ChallengeRequest, user: User | None) -> Challenge:
    """The matcher is the CRM's donor with that e-mail (made when new). The caller commits."""
    validate(req)
    matcher = find_or_create(
        req.matcher, source=f"staff:{user.id if user else 'system'}", update_existing=False
    )
    challenge = Challenge(
        campaign=req.campaign,
        matcher=matcher,
        ratio_percent=req.ratio_percent,
        cap_cents=req.cap_cents,
        starts_on=req.starts_on,
        ends_on=req.ends_on,
        one_off=req.one_off,
        monthly=req.monthly,
        first_time_only=req.first_time_only,
        per_gift_ceiling_cents=req.per_gift_ceiling_cents,
        public_text=req.public_text.strip(),
        position=req.position,
        created_by_id=user.id if user else None,
    )
    db.session.add(challenge)
    db.session.flush()
    audit.record(
        user,
        "matching.create",
        f"challenge:{challenge.id}",
        campaign=req.campaign.slug,
        matcher_id=matcher.id,
        ratio_percent=req.ratio_percent,
        cap_cents=req.cap_cents,
    )
    return challenge
