"""Newsletter settings per organisation: staff set the sender and the tracking choice, new
drafts take them and the mail arrives with them; bad input stores nothing; roles."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from legami.extensions import db
from legami.models import AuditEntry
from legami.timeutil import now_utc
from legami.validation import Invalid
from mailing import mail_settings, sending
from mailing.models import MailSettings, Newsletter, NewsletterStatus
from tests import factories

pytestmark = pytest.mark.usefixtures("english")

SENDER = {
    "from_name": "Notizie da Legàmi",
    "from_email": "notizie@legami.example",
    "reply_to": "risposte@legami.example",
}


def _prefilled(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    value = re.search(r'value="([^"]*)"', tag)
    return html.unescape(value.group(1)) if value else ""


def _new_draft(client, organisation, title: str) -> Newsletter:
    """A draft saved from the composer page with the sender fields as it prefills them."""
    page = client.get("/staff/newsletters/new").text
    sender = {name: _prefilled(page, name) for name in SENDER}
    response = client.post(
        "/staff/newsletters/new",
        data={
            "title": title,
            "organisation_id": organisation.id,
            **sender,
            "it_subject": "Ciao {{ first_name }}",
            "it_body": "Leggi [il resoconto](https://example.org/resoconto).",
        },
    )
    assert response.status_code == 302, response.text
    return db.session.scalar(select(Newsletter).where(Newsletter.title == title))


def _send(newsletter: Newsletter) -> None:
    row = db.session.get(Newsletter, newsletter.id)
    row.status = NewsletterStatus.SCHEDULED
    row.scheduled_at = now_utc() - timedelta(minutes=1)
    db.session.commit()
    assert sending.send_due() == 1


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


def test_staff_set_the_sender_and_new_newsletters_arrive_with_it(client, login, smtp_server):
    user = login("staff")
    organisation = factories.organisation(name="Legami ETS", email="info@legami.example")
    factories.donor(email="anna@example.org", first_name="Anna", newsletter_consent=True)
    before = _new_draft(client, organisation, "Prima")
    assert (before.from_name, before.from_email) == ("Legami ETS", "info@legami.example")

    assert "/staff/newsletters/settings" in client.get("/staff/newsletters").text
    index = client.get("/staff/newsletters/settings").text
    assert f"/staff/newsletters/settings/{organisation.id}" in index
    url = f"/staff/newsletters/settings/{organisation.id}"
    response = client.post(url, data=SENDER)
    assert response.status_code == 302
    assert (
        "Newsletter settings of Legami ETS saved." in client.get(response.headers["Location"]).text
    )

    row = db.session.get(MailSettings, organisation.id)
    assert (row.from_name, row.from_email, row.reply_to) == tuple(SENDER.values())
    assert row.track_engagement is False
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mailing.settings"))
    assert (entry.user_id, entry.target) == (user.id, f"organisation:{organisation.id}")
    assert entry.detail["changes"]["from_email"] == ["", "notizie@legami.example"]
    assert 'value="risposte@legami.example"' in client.get(url).text

    after = _new_draft(client, organisation, "Dopo")
    assert (after.from_name, after.from_email, after.reply_to) == tuple(SENDER.values())
    db.session.expire_all()
    kept = db.session.get(Newsletter, before.id)
    assert (kept.from_name, kept.from_email, kept.reply_to) == (
        "Legami ETS",
        "info@legami.example",
        "",
    )

    _send(after)
    (message,) = smtp_server.messages
    assert message["To"] == "anna@example.org"
    assert message["From"] == "Notizie da Legàmi <notizie@legami.example>"
    assert message["Reply-To"] == "risposte@legami.example"


def test_a_bad_address_re_renders_with_the_message_and_stores_nothing(client, login):
    login("staff")
    organisation = factories.organisation()
    url = f"/staff/newsletters/settings/{organisation.id}"
    bad = {"from_name": "Legami", "from_email": "not an address", "reply_to": "a@b@c"}
    response = client.post(url, data=bad)
    assert response.status_code == 422
    assert response.text.count("Not a valid e-mail address.") == 2
    assert 'value="not an address"' in response.text
    assert db.session.get(MailSettings, organisation.id) is None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0

    assert client.post(url, data=SENDER).status_code == 302
    response = client.post(url, data={**SENDER, "from_name": "Due\nrighe", "reply_to": "x"})
    assert response.status_code == 422
    assert "One line only." in response.text and "Not a valid e-mail address." in response.text
    db.session.expire_all()
    row = db.session.get(MailSettings, organisation.id)
    assert (row.from_name, row.reply_to) == (SENDER["from_name"], SENDER["reply_to"])
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1

    response = client.post(url, data={**SENDER, "from_name": "x" * 201})
    assert "At most 200 characters." in response.text
    with pytest.raises(Invalid) as refused:
        mail_settings.update(organisation.id + 1000, SENDER, None)
    assert set(refused.value.errors) == {"organisation_id"}


def test_tracking_is_off_by_default_and_on_only_for_newsletters_made_after(
    client, login, smtp_server
):
    login("staff")
    organisation = factories.organisation()
    factories.donor(email="anna@example.org", first_name="Anna", newsletter_consent=True)
    url = f"/staff/newsletters/settings/{organisation.id}"
    page = client.get(url).text
    assert "links pass through Legami); off by default, for the donors" in page
    assert "checked" not in re.search(r'<input[^>]*name="track_engagement"[^>]*>', page).group(0)

    untracked = _new_draft(client, organisation, "Senza")
    assert untracked.track_engagement is False
    _send(untracked)
    page = _html(smtp_server.messages[-1])
    assert "/m/o/" not in page and "/m/c/" not in page
    assert 'href="https://example.org/resoconto"' in page

    assert client.post(url, data={**SENDER, "track_engagement": "y"}).status_code == 302
    assert db.session.get(MailSettings, organisation.id).track_engagement is True
    assert "checked" in re.search(
        r'<input[^>]*name="track_engagement"[^>]*>', client.get(url).text
    ).group(0)
    tracked = _new_draft(client, organisation, "Con")
    assert tracked.track_engagement is True
    _send(tracked)
    page = _html(smtp_server.messages[-1])
    assert re.search(r'<img src="http://localhost/m/o/[^"]+"', page)
    assert re.search(r'href="http://localhost/m/c/[^"]+"', page)
    assert 'href="https://example.org/resoconto"' not in page
    db.session.expire_all()
    assert db.session.get(Newsletter, untracked.id).track_engagement is False


def test_only_staff_reach_the_settings(client, login):
    organisation = factories.organisation()
    url = f"/staff/newsletters/settings/{organisation.id}"
    for path in ("/staff/newsletters/settings", url):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert client.post(url, data=SENDER).status_code == 302
    login("treasurer")
    assert client.get("/staff/newsletters/settings").status_code == 403
    assert client.post(url, data=SENDER).status_code == 403
    assert db.session.get(MailSettings, organisation.id) is None
