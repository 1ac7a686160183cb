"""Helpers for the fundraising page tests: a campaign that takes pages, a page opened and
confirmed through the real forms and the mailed link."""

import re
from datetime import timedelta

from legami.extensions import db
from payments import fundraising_pages
from payments.page_models import FundraisingPage
from tests import factories
from tests.conftest import deliver_queued

LINK = re.compile(r"http://localhost(/pagine/conferma/[\w-]+)")


def campaign_with_pages(needs_approval: bool = False, **overrides):
    campaign = factories.campaign(**overrides)
    fundraising_pages.set_settings(campaign, True, needs_approval, None)
    db.session.commit()
    return campaign


def page_form(campaign, **overrides) -> dict:
    return {
        "first_name": "Luca",
        "last_name": "Ferrari",
        "email": "luca@example.org",
        "display_name": "Luca",
        "title": "I miei 40 anni per il quartiere",
        "story": "Per il mio compleanno\n\nregalate al quartiere.",
        "goal": "500",
        "ends_on": (campaign.ends_on - timedelta(days=1)).isoformat(),
        "on_leaderboard": "y",
        **overrides,
    }


def mailed_link(app, smtp_server, to: str) -> str:
    deliver_queued(app)
    for message in reversed(smtp_server.messages):
        if message["To"] == to:
            found = LINK.search(message.get_body(("plain",)).get_content())
            if found:
                return found.group(1)
    raise AssertionError(f"no confirmation link mailed to {to}")


def open_page(app, client, smtp_server, campaign, **overrides) -> FundraisingPage:
    data = page_form(campaign, **overrides)
    response = client.post(f"/campagne/{campaign.slug}/pagine/nuova", data=data)
    assert response.status_code == 200, response.text
    path = mailed_link(app, smtp_server, data["email"])
    assert client.post(path).status_code == 200
    db.session.expire_all()
    return db.session.scalar(
        db.select(FundraisingPage)
        .where(FundraisingPage.title == data["title"])
        .order_by(FundraisingPage.id.desc())
    )
