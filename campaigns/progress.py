"""What a campaign page shows of its progress, read from the campaign's raised figure."""

from dataclasses import dataclass

from campaigns.models import Campaign, CampaignStatus
from legami.timeutil import today_rome


@dataclass(frozen=True)
class Progress:
    raised_cents: int
    # Matchers' pledges ("raddoppio"), shown beside the raised figure and never inside it.
    matched_cents: int
    goal_cents: int
    gifts: int
    percent: int
    days_left: int | None
    starts_in: int | None

    @property
    def bar_percent(self) -> int:
        return min(self.percent, 100)


def progress(campaign: Campaign) -> Progress:
    today = today_rome()
    days_left = None
    starts_in = None
    if campaign.status == CampaignStatus.LIVE:
        if campaign.starts_on > today:
            starts_in = (campaign.starts_on - today).days
        days_left = max((campaign.ends_on - today).days + 1, 0)
    return Progress(
        raised_cents=campaign.raised_cents,
        matched_cents=campaign.matched_cents,
        goal_cents=campaign.goal_cents,
        gifts=campaign.gift_count,
        # Towards the goal count both: the matchers' pledges are money coming to it.
        percent=(campaign.raised_cents + campaign.matched_cents) * 100 // campaign.goal_cents,
        days_left=days_left,
        starts_in=starts_in,
    )
