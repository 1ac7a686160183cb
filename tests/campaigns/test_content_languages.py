"""Campaign, pact, lab and update texts in Italian and English: English visitors read the
English text where there is one, and the Italian one, marked, where there is not; staff forms
and the API write both; `campaign.title` stays the Italian text for every other caller."""

import re

import pytest
from sqlalchemy import select

from campaigns.models import Campaign, Pact, Update
from legami.extensions import db
from legami.models import ApiToken
from tests import factories


def _campaign(**overrides):
    return factories.campaign(
        title="Orti condivisi",
        summary="Un orto per il quartiere.",
        story="La **storia** dell'orto.",
        **overrides,
    )


def test_english_text_where_written_italian_marked_where_not(client, english):
    translated = _campaign(
        title_en="Shared gardens", summary_en="A garden for the area.", story_en="The *story*."
    )
    pact = factories.pact(title="Un tetto per Luca", title_en="")
    translated.pacts = [pact]
    db.session.commit()

    page = client.get(f"/campagne/{translated.slug}").text
    assert "<h1>Shared gardens</h1>" in page
    assert "A garden for the area." in page and "<em>story</em>" in page
    assert "Orti condivisi" not in page and 'class="fallback-note"' not in page
    # The pact has no English title: the Italian one, in Italian for screen readers.
    assert '<span lang="it">Un tetto per Luca</span>' in page

    untranslated = _campaign(slug="solo-italiano")
    page = client.get(f"/campagne/{untranslated.slug}").text
    assert re.search(
        r'<h1><span lang="it">Orti condivisi</span> <span class="tag fallback-tag">', page
    )
    assert 'class="fallback-note"' in page
    assert '<div class="story" lang="it">' in page

    home = client.get("/").text
    assert "Shared gardens" in home
    assert home.count("fallback-tag") == 2  # the untranslated campaign and the pact


def test_italian_visitors_never_see_english_or_marks(client):
    campaign = _campaign(title_en="Shared gardens", summary_en="A garden for the area.")
    page = client.get(f"/campagne/{campaign.slug}").text
    assert "<h1>Orti condivisi</h1>" in page
    assert "Shared gardens" not in page and "fallback" not in page


def test_every_other_caller_still_reads_the_italian_text(app):
    campaign = _campaign(title_en="Shared gardens")
    assert campaign.title == "Orti condivisi"
    with app.test_request_context("/?lang=en"):
        assert campaign.local("title") == "Shared gardens"
        assert campaign.local("story").fallback and campaign.local("story").language == "it"
        assert campaign.untranslated()
    text = campaign.local("title", "it")
    assert (text, text.language, text.fallback) == ("Orti condivisi", "it", False)
    assert not campaign.untranslated("it")
    assert campaign.local("title", "en") == "Shared gardens"


def test_staff_save_english_texts_and_updates(client, login):
    login("staff")
    org = factories.organisation()
    response = client.post(
        "/staff/campaigns/new",
        data={
            "title": "Orti condivisi",
            "organisation_id": org.id,
            "summary": "Un orto.",
            "story": "Storia.",
            "title_en": "Shared gardens",
            "summary_en": "A garden.",
            "story_en": "Story.",
            "goal": "5000",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
    )
    assert response.status_code == 302, response.text
    campaign = db.session.scalar(select(Campaign))
    assert (campaign.title, campaign.title_en, campaign.summary_en, campaign.story_en) == (
        "Orti condivisi",
        "Shared gardens",
        "A garden.",
        "Story.",
    )
    too_long = client.post(
        f"/staff/campaigns/{campaign.id}",
        data={**_form(campaign, org), "summary_en": "x" * 501},
    )
    assert too_long.status_code == 422
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).summary_en == "A garden."

    response = client.post(
        f"/staff/campaigns/{campaign.id}/updates",
        data={"title": "Primo raccolto", "body": "Pomodori!", "title_en": "First harvest"},
    )
    assert response.status_code == 302
    update = db.session.scalar(select(Update))
    assert (update.title, update.title_en, update.body_en) == (
        "Primo raccolto",
        "First harvest",
        "",
    )

    pact = client.post(
        "/staff/pacts/new",
        data={
            "title": "Un tetto",
            "summary": "Casa.",
            "reciprocity": "Aiuta nell'orto.",
            "reciprocity_en": "Helps in the garden.",
            "place": "Cremona",
            "status": "active",
        },
    )
    assert pact.status_code == 302
    assert db.session.scalar(select(Pact)).reciprocity_en == "Helps in the garden."


def _form(campaign, org) -> dict:
    return {
        "title": campaign.title,
        "organisation_id": org.id,
        "summary": campaign.summary,
        "goal": "5000",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
    }


@pytest.fixture
def staff_token():
    _, token = ApiToken.issue(factories.user(roles=("staff",)))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_api_reads_and_writes_the_english_texts(client, staff_token):
    org = factories.organisation()
    created = client.post(
        "/api/v1/campaigns",
        json={
            "title": "Orti condivisi",
            "title_en": "Shared gardens",
            "summary": "Un orto.",
            "story_en": "Story.",
            "organisation": org.slug,
            "goal_cents": 500_000,
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        headers=staff_token,
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["title"], body["title_en"], body["summary_en"], body["story_en"]) == (
        "Orti condivisi",
        "Shared gardens",
        "",
        "Story.",
    )
    bad = client.patch(
        f"/api/v1/campaigns/{body['slug']}", json={"summary_en": 5}, headers=staff_token
    )
    assert bad.status_code == 422 and "summary_en" in str(bad.json)
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert {"title_en", "summary_en", "story_en"} <= set(schema["Campaign"]["properties"])
    assert {"title_en", "summary_en", "story_en"} <= set(schema["CampaignInput"]["properties"])
    assert "reciprocity_en" in schema["Pact"]["properties"]
    assert "schedule_en" in schema["Lab"]["properties"]
