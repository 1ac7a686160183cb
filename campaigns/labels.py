"""Translated names of the campaign, pact and lab states, for pages and forms."""

from flask_babel import lazy_gettext as _l

from campaigns.models import CampaignStatus, PlaceKind, ProgrammeStatus

PROGRAMME_STATUS = {
    ProgrammeStatus.PROPOSED: _l("Proposed"),
    ProgrammeStatus.ACTIVE: _l("Active"),
    ProgrammeStatus.CONCLUDED: _l("Concluded"),
}
PLACE_KIND = {
    PlaceKind.NEIGHBOURHOOD: _l("Neighbourhood"),
    PlaceKind.TOWN: _l("Town"),
    PlaceKind.WORKPLACE: _l("Workplace"),
}
CAMPAIGN_STATUS = {
    CampaignStatus.DRAFT: _l("Draft"),
    CampaignStatus.LIVE: _l("Live"),
    CampaignStatus.ENDED: _l("Ended"),
    CampaignStatus.ARCHIVED: _l("Archived"),
}
ACTIONS = {"publish": _l("Publish"), "close": _l("Close"), "archive": _l("Archive")}


def init_app(app) -> None:
    app.jinja_env.globals.update(
        status_label=PROGRAMME_STATUS.get,
        place_label=PLACE_KIND.get,
        campaign_status_label=CAMPAIGN_STATUS.get,
        action_label=ACTIONS.get,
    )
