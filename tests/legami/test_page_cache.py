"""Public pages are micro-cached for anonymous visitors only."""

from campaigns.models import Campaign
from legami.extensions import db
from tests import factories


def test_anonymous_pages_are_cached_and_personal_ones_are_not(app_with):
    app = app_with(PAGE_CACHE_SECONDS=60)
    campaign = factories.campaign(title="Prima versione")
    anonymous = app.test_client()
    url = f"/campagne/{campaign.slug}"
    assert "Prima versione" in anonymous.get(url).text
    db.session.get(Campaign, campaign.id).title = "Seconda versione"
    db.session.commit()
    assert "Prima versione" in anonymous.get(url).text  # from the cache, for 60 s
    assert "Seconda versione" in anonymous.get(url + "?lang=it").text  # a query string: fresh
    staff = app.test_client()
    user = factories.user(roles=("staff",), password="a long password")
    staff.post("/staff/login", data={"email": user.email, "password": "a long password"})
    page = staff.get(url).text
    assert "Seconda versione" in page and "/staff/" in page  # logged in: never cached
    english = app.test_client()
    english.get("/?lang=en")
    assert "Seconda versione" in english.get(url).text  # another language, another entry
    assert 'lang="en"' in english.get(url).text


def test_no_cache_when_disabled(app_with):
    app = app_with(PAGE_CACHE_SECONDS=0)
    campaign = factories.campaign(title="Uno")
    client = app.test_client()
    client.get(f"/campagne/{campaign.slug}")
    db.session.get(Campaign, campaign.id).title = "Due"
    db.session.commit()
    assert "Due" in client.get(f"/campagne/{campaign.slug}").text
