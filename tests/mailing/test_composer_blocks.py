"""The composer's blocks: the picker offers public campaigns, pacts, labs, updates and
covers; update and button blocks render in both parts; cards carry their cover and the
version's language; the live preview renders a draft as the form stands, storing nothing."""

import pytest
from sqlalchemy import func, select

from campaigns.models import Update
from legami.extensions import db
from legami.timeutil import now_utc
from mailing import compose, newsletters
from mailing.models import Newsletter
from tests import factories

pytestmark = pytest.mark.usefixtures("english")


def _draft(organisation, it_body: str, en_body: str = "") -> dict:
    return {
        "title": "Notizie",
        "organisation_id": organisation.id,
        "it_subject": "Ciao {{ first_name }}",
        "it_body": it_body,
        "en_subject": "Hello" if en_body else "",
        "en_body": en_body,
    }


def _setup():
    campaign = factories.campaign(
        title="Orti condivisi", title_en="Shared gardens", cover="orti.png"
    )
    draft = factories.campaign(title="Bozza segreta", status="draft", cover="bozza.png")
    update = Update(
        campaign=campaign,
        title="Primo raccolto",
        body="Pomodori **rossi**.",
        published_at=now_utc(),
    )
    hidden = Update(campaign=draft, title="Non ancora", body="…", published_at=now_utc())
    db.session.add_all([update, hidden])
    db.session.commit()
    return campaign, draft, update, hidden


def test_the_picker_offers_public_items_with_their_covers(app, client, login):
    login("staff")
    campaign, draft, update, _hidden = _setup()
    pact = factories.pact(title="Un tetto")
    with app.test_request_context("/"):
        choices = compose.block_choices()
    assert [c.code for c in choices["campaign"]] == [f"[[campaign:{campaign.slug}]]"]
    assert choices["campaign"][0].cover_url == "/uploads/orti.png"
    assert [c.code for c in choices["update"]] == [f"[[update:{update.id}]]"]
    assert f"[[pact:{pact.slug}]]" in [c.code for c in choices["pact"]]
    assert [c.code for c in choices["image"]] == [
        "![Orti condivisi](http://localhost/uploads/orti.png)"
    ]

    page = client.get("/staff/newsletters/new")
    assert page.status_code == 200
    html = page.text
    for kind in ("campaign", "pact", "lab", "update", "text", "image", "button"):
        assert f'data-block="{kind}"' in html
    assert f'data-code="[[campaign:{campaign.slug}]]"' in html
    assert 'src="/uploads/orti.png"' in html
    assert draft.slug not in html and "Non ancora" not in html
    assert 'formaction="/staff/newsletters/preview-draft"' in html
    assert "frame-src 'self'" in page.headers["Content-Security-Policy"]


def test_update_and_button_blocks_and_the_cover_in_both_parts(app, client, login):
    user = login("staff")
    campaign, _draft_campaign, update, _hidden = _setup()
    org = campaign.organisation
    body = (
        f"Notizie.\n\n[[campaign:{campaign.slug}]]\n\n[[update:{update.id}]]\n\n"
        "[[button:https://example.org/festa|Vieni alla festa]]\n\n"
        "![Il campo](https://example.org/campo.jpg)"
    )
    created = newsletters.create(
        newsletters.DraftData(
            organisation_id=org.id,
            title="Notizie",
            from_name="",
            from_email="",
            reply_to="",
            versions={
                "it": newsletters.VersionData("Ciao", "", body),
                "en": newsletters.VersionData("Hello", "", body.replace("Notizie", "News")),
            },
            segment_ids=[],
        ),
        user,
    )
    prepared = compose.prepare(created)
    recipient = newsletters.TestRecipient(1, None, "anna@example.org", "Anna", "it")
    italian = prepared.message(recipient)
    html = italian.get_body(("html",)).get_content()
    text = italian.get_body(("plain",)).get_content()
    assert 'src="http://localhost/uploads/orti.png"' in html  # the card's cover
    assert "Orti condivisi" in html and "Shared gardens" not in html
    assert "Primo raccolto" in html and "<strong>rossi</strong>" in html
    assert f'href="http://localhost/campagne/{campaign.slug}#updates"' in html
    assert 'href="https://example.org/festa"' in html and "Vieni alla festa" in html
    assert 'src="https://example.org/campo.jpg"' in html
    assert "Vieni alla festa: https://example.org/festa" in text
    assert "== Primo raccolto ==" in text

    english = prepared.message(recipient._replace(language="en")).get_body(("html",))
    english = english.get_content()
    assert "Shared gardens" in english
    # The update has no English text: the Italian one, marked as Italian.
    assert '<p style="margin:0 0 8px;font-size:18px;font-weight:bold;" lang="it">' in english


def test_missing_update_blocks_are_refused(client, login):
    login("staff")
    campaign, _draft_campaign, _update, hidden = _setup()
    response = client.post(
        "/staff/newsletters/new",
        data=_draft(campaign.organisation, f"Ecco.\n\n[[update:{hidden.id}]]\n\n[[update:999999]]"),
    )
    assert response.status_code == 422
    assert f"[[update:{hidden.id}]]" in response.text and "[[update:999999]]" in response.text
    assert db.session.scalar(select(func.count()).select_from(Newsletter)) == 0


def test_live_preview_renders_the_draft_and_stores_nothing(client, login):
    login("staff")
    campaign, *_ = _setup()
    data = _draft(
        campaign.organisation,
        f"Ciao {{{{ first_name }}}}!\n\n[[campaign:{campaign.slug}]]",
        f"Hi!\n\n[[campaign:{campaign.slug}]]",
    )
    italian = client.post("/staff/newsletters/preview-draft", data=data)
    assert italian.status_code == 200
    assert italian.headers["Content-Type"].startswith("text/html")
    assert "sandbox" in italian.headers["Content-Security-Policy"]
    assert (
        "Orti condivisi" in italian.text
        and 'src="http://localhost/uploads/orti.png"' in italian.text
    )
    english = client.post(
        "/staff/newsletters/preview-draft", data={**data, "preview_language": "en"}
    )
    assert "Shared gardens" in english.text and "Hi!" in english.text
    # An unfinished draft (no subject yet) previews too; a bad language does not.
    assert (
        client.post("/staff/newsletters/preview-draft", data={**data, "it_subject": ""}).status_code
        == 200
    )
    assert (
        client.post(
            "/staff/newsletters/preview-draft", data={**data, "preview_language": "xx"}
        ).status_code
        == 400
    )
    assert db.session.scalar(select(func.count()).select_from(Newsletter)) == 0


def test_the_preview_is_for_staff_only(client):
    assert client.post("/staff/newsletters/preview-draft", data={}).status_code in (302, 401, 403)
