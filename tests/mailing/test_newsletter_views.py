"""The composer's staff pages: drafts made and checked, previews, test sends, a draft from a
campaign update, and the count of recipients."""

import pytest
from sqlalchemy import func, select

from campaigns.models import Update
from donors.models import Segment
from legami.extensions import db
from mailing import newsletters
from mailing.models import MailSettings, Newsletter, NewsletterVersion
from tests import factories

pytestmark = pytest.mark.usefixtures("english")


def _form(organisation, **overrides) -> dict:
    return {
        "title": "Novembre",
        "organisation_id": organisation.id,
        "from_name": "Legami Cremona",
        "from_email": "notizie@legami.example",
        "reply_to": "",
        "it_subject": 'Notizie per {{ first_name | "amica, amico" }}',
        "it_preheader": "Cosa fanno i vostri doni",
        "it_body": "Ciao {{ first_name }}!\n\n[[campaign:orto]]\n",
        "en_subject": "",
        "en_preheader": "",
        "en_body": "",
        **overrides,
    }


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Newsletter))


def test_staff_create_a_draft_with_both_versions_and_segments(client, login):
    user = login("staff")
    campaign = factories.campaign(slug="orto")
    segment = Segment(name="Cremona", definition={"towns": ["cremona"]})
    db.session.add(segment)
    db.session.commit()
    assert "Sender address" in client.get("/staff/newsletters/new").text

    response = client.post(
        "/staff/newsletters/new",
        data=_form(
            campaign.organisation,
            en_subject="News for you",
            en_body="Hello!\n\n[[campaign:orto]]",
            segments=[segment.id],
        ),
    )
    assert response.status_code == 302
    newsletter = db.session.scalar(select(Newsletter))
    assert (newsletter.status, newsletter.created_by_id) == ("draft", user.id)
    assert [v.language for v in newsletter.versions] == ["it", "en"]
    assert newsletter.segments == [db.session.get(Segment, segment.id)]
    page = client.get(response.headers["Location"]).text
    assert "0 recipients if sent now" in page
    assert "Novembre" in client.get("/staff/newsletters").text


def test_invalid_input_re_renders_with_messages_and_stores_nothing(client, login):
    login("staff")
    organisation = factories.organisation()
    response = client.post(
        "/staff/newsletters/new",
        data=_form(
            organisation,
            it_subject="",
            it_body="Ciao {{ nome }}\n\n[[campaign:nessuna]]",
            from_email="not an address",
            en_preheader="Only a preheader",
        ),
    )
    assert response.status_code == 422
    text = response.text
    assert "Required." in text  # the Italian subject, and the English one once begun
    assert "Unknown token {{ nome }}" in text
    assert "Not a valid e-mail address." in text
    assert _count() == 0

    link = "[vai](https://example.org/?n={{ first_name }})"
    response = client.post("/staff/newsletters/new", data=_form(organisation, it_body=link))
    assert "A token cannot go in a link&#39;s address" in response.text
    assert _count() == 0

    factories.campaign(slug="in-preparazione", status="draft")
    body = "[[pact:nessuno]]\n\n[[campaign:in-preparazione]]"
    response = client.post("/staff/newsletters/new", data=_form(organisation, it_body=body))
    assert response.status_code == 422
    assert (
        "No such published campaign, pact or lab: [[pact:nessuno]], [[campaign:in-preparazione]]"
        in response.text
    )
    assert _count() == 0


def test_edit_a_draft_and_a_bad_edit_changes_nothing(client, login):
    login("staff")
    campaign = factories.campaign(slug="orto")
    client.post("/staff/newsletters/new", data=_form(campaign.organisation))
    newsletter = db.session.scalar(select(Newsletter))
    url = f"/staff/newsletters/{newsletter.id}/edit"
    assert "Cosa fanno i vostri doni" in client.get(url).text

    bad = client.post(url, data=_form(campaign.organisation, title="", it_subject="Nuovo"))
    assert bad.status_code == 422
    db.session.expire_all()
    assert db.session.get(Newsletter, newsletter.id).versions[0].subject.startswith("Notizie")

    good = client.post(url, data=_form(campaign.organisation, it_subject="Nuovo", en_subject="New"))
    assert good.status_code == 302
    db.session.expire_all()
    row = db.session.get(Newsletter, newsletter.id)
    assert [(v.language, v.subject) for v in row.versions] == [("it", "Nuovo"), ("en", "New")]

    row.status = "sent"
    db.session.commit()
    assert client.post(url, data=_form(campaign.organisation, it_subject="Dopo")).status_code == 302
    db.session.expire_all()
    assert db.session.get(Newsletter, newsletter.id).versions[0].subject == "Nuovo"


def test_sender_fields_default_from_the_mail_settings(client, login):
    login("staff")
    organisation = factories.organisation(name="Legami ETS")
    db.session.add(
        MailSettings(
            organisation_id=organisation.id, from_email="news@legami.example", reply_to="r@x.org"
        )
    )
    db.session.commit()
    page = client.get("/staff/newsletters/new").text
    assert 'value="news@legami.example"' in page
    assert 'value="Legami ETS"' in page
    assert 'value="r@x.org"' in page


def _draft(**overrides) -> Newsletter:
    campaign = factories.campaign(slug="orto", title="L'orto", raised_cents=50_000)
    row = Newsletter(
        organisation=campaign.organisation,
        title="Novembre",
        from_name="Legami",
        from_email="notizie@legami.example",
        **overrides,
    )
    row.versions = [
        NewsletterVersion(
            language="it", subject="Ciao {{ first_name }}", body="Testo.\n\n[[campaign:orto]]"
        ),
        NewsletterVersion(language="en", subject="Hi {{ first_name }}", body="English text."),
    ]
    db.session.add(row)
    db.session.commit()
    return row


def test_preview_shows_desktop_and_mobile_frames_and_the_text(client, login):
    user = login("staff")
    newsletter = _draft()
    first_name = user.name.split(" ")[0]
    page = client.get(f"/staff/newsletters/{newsletter.id}/preview")
    assert page.status_code == 200
    assert "frame-src 'self'" in page.headers["Content-Security-Policy"]
    assert 'width="640"' in page.text and 'width="375"' in page.text
    assert f"Ciao {first_name}" in page.text
    assert "Testo." in page.text and "L&#39;orto" in page.text

    frame = client.get(f"/staff/newsletters/{newsletter.id}/preview/mail.html?lang=it")
    assert frame.headers["Content-Type"].startswith("text/html")
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert 'class="column" width="100%"' in frame.text and "max-width:600px" in frame.text
    assert "500\xa0€" in frame.text

    english = client.get(f"/staff/newsletters/{newsletter.id}/preview?lang=en").text
    assert f"Hi {first_name}" in english and "English text." in english


def test_send_a_test_to_me(client, login, smtp_server):
    user = login("staff")
    newsletter = _draft()
    response = client.post(
        f"/staff/newsletters/{newsletter.id}/test", data={"to_email": user.email, "language": "it"}
    )
    assert response.status_code == 302
    (message,) = smtp_server.messages
    assert message["Subject"] == f"[TEST] Ciao {user.name.split(' ')[0]}"
    assert message["To"] == user.email
    assert message["From"] == "Legami <notizie@legami.example>"
    assert "Testo." in message.get_body(("plain",)).get_content()

    client.post(
        f"/staff/newsletters/{newsletter.id}/test", data={"to_email": "x", "language": "it"}
    )
    assert len(smtp_server.messages) == 1


def test_turn_a_campaign_update_into_a_newsletter(client, login):
    login("staff")
    campaign = factories.campaign(slug="orto", title="L'orto")
    update = Update(campaign=campaign, title="Il raccolto", body="Abbiamo raccolto **tanto**.")
    db.session.add(update)
    db.session.commit()
    page = client.get(f"/staff/campaigns/{campaign.id}").text
    assert f"/staff/newsletters/from-update/{update.id}" in page

    response = client.post(f"/staff/newsletters/from-update/{update.id}")
    assert response.status_code == 302
    newsletter = db.session.scalar(select(Newsletter))
    assert response.headers["Location"].endswith(f"/staff/newsletters/{newsletter.id}/edit")
    assert newsletter.campaign_update_id == update.id
    assert newsletter.title == "Il raccolto"
    (version,) = newsletter.versions
    assert version.subject == "Il raccolto"
    assert version.body == "Abbiamo raccolto **tanto**.\n\n[[campaign:orto]]"
    assert newsletter.from_name == campaign.organisation.name


def test_live_count_of_recipients(client, login):
    login("staff")
    factories.donor(newsletter_consent=True, town="Cremona")
    factories.donor(newsletter_consent=True, town="Crema")
    factories.donor(newsletter_consent=False, town="Cremona")
    segment = Segment(name="Cremona", definition={"towns": ["cremona"]})
    db.session.add(segment)
    db.session.commit()
    assert client.post("/staff/newsletters/count").json["count"] == 2
    answer = client.post("/staff/newsletters/count", data={"segments": [segment.id]}).json
    assert answer == {"count": 1, "text": "1 recipient"}


def test_detail_links_to_the_sending_pages(client, login):
    login("staff")
    newsletter = _draft()
    page = client.get(f"/staff/newsletters/{newsletter.id}").text
    assert f"/staff/newsletters/{newsletter.id}/schedule" in page
    assert f"/staff/newsletters/{newsletter.id}/preview?lang=en" in page


def test_the_service_refuses_edits_once_sending_started(app):
    newsletter = _draft(status="paused")
    data = newsletters.draft_data(newsletter)
    with pytest.raises(newsletters.Invalid):
        newsletters.update_draft(newsletter, data)


def test_treasurers_cannot_reach_the_composer(client, login):
    login("treasurer")
    assert client.get("/staff/newsletters").status_code == 403
