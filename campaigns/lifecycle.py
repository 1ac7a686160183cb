"""A campaign's life: draft -> live -> ended -> archived. Nothing else is allowed."""

from flask_babel import lazy_gettext as _l

from campaigns.labels import ACTIONS, CAMPAIGN_STATUS
from campaigns.models import Campaign, CampaignStatus
from legami.extensions import db
from legami.timeutil import now_utc

TRANSITIONS = {
    "publish": (CampaignStatus.DRAFT, CampaignStatus.LIVE),
    "close": (CampaignStatus.LIVE, CampaignStatus.ENDED),
    "archive": (CampaignStatus.ENDED, CampaignStatus.ARCHIVED),
}


class TransitionError(ValueError):
    pass


def change_status(campaign: Campaign, action: str) -> Campaign:
    """Apply `action` if the campaign is in the state it starts from."""
    if action not in TRANSITIONS:
        raise TransitionError(_l("Unknown action."))
    source, target = TRANSITIONS[action]
    if campaign.status != source:
        raise TransitionError(
            _l(
                "A campaign can only be %(action)s from %(source)s; this one is %(status)s.",
                action=ACTIONS[action],
                source=CAMPAIGN_STATUS[source],
                status=CAMPAIGN_STATUS[CampaignStatus(campaign.status)],
            )
        )
    campaign.status = target
    if target == CampaignStatus.LIVE:
        campaign.published_at = now_utc()
    elif target == CampaignStatus.ENDED:
        campaign.closed_at = now_utc()
    db.session.commit()
    return campaign
