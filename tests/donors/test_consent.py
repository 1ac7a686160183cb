"""Newsletter consent: double opt-in through a real SMTP server, confirmation once, expired
and tampered links, withdrawal by unsubscribe page, one-click POST, portal and staff, the
report-back opt-out, and who is in a newsletter audience."""

import re
import time

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from donors import consent
from donors.models import (
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    Donor,
    Suppression,
    SuppressionReason,
    email_hash,
)
from legami.extensions import db
from legami.timeutil import now_utc
from legami.validation import Invalid
from mailing.models import MailJob
from tests import factories
from tests.conftest import deliver_queued

LINK = re.compile(r"http://localhost(/newsletter/conferma/\S+)")


def _events(donor_id: int) -> list[tuple[str, str, str]]:
    rows = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.donor_id == donor_id).order_by(ConsentEvent.id)
    )
    return [(r.purpose, r.action, r.source) for r in rows]


def _confirmation_link(app, smtp_server, to: str) -> str:
    deliver_queued(app)
    texts = [m.get_body(("plain",)).get_content() for m in smtp_server.messages if m["To"] == to]
    links = [found.group(1) for found in map(LINK.search, texts) if found]
    assert len(links) == 1, texts
    return links[0]


def _sign_up(client, email="anna.neri@example.org"):
    return client.post(
        "/newsletter", data={"first_name": "Anna", "last_name": "Neri", "email": email}
    )


def test_sign_up_double_opt_in_confirms_once(app, client, smtp_server):
    response = _sign_up(client, "Anna.Neri@Example.org")
    assert response.status_code == 200
    assert 'class="sent"' in response.text
    donor = db.session.scalar(select(Donor))
    assert (donor.email, donor.source, donor.newsletter_consent) == (
        "anna.neri@example.org",
        "form",
        False,
    )
    request = db.session.scalar(select(ConsentEvent))
    assert (request.action, request.source, request.ip) == ("requested", "form", "127.0.0.1")
    assert request.notice_version == app.config["PRIVACY_NOTICE_VERSION"]

    link = _confirmation_link(app, smtp_server, "anna.neri@example.org")
    # Opening the link asks; it does not confirm by itself (mail scanners open links).
    page = client.get(link)
    assert page.status_code == 200 and 'class="narrow-wide consent-confirm consent-pending"' in (
        page.text
    )
    assert db.session.get(Donor, donor.id).newsletter_consent is False

    confirmed = client.post(link)
    assert confirmed.status_code == 200 and "consent-confirmed" in confirmed.text
    donor = db.session.get(Donor, donor.id)
    assert donor.newsletter_consent is True
    granted = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.action == ConsentAction.GRANTED)
    ).one()
    assert (granted.source, granted.ip, granted.notice_version) == (
        "double_opt_in",
        "127.0.0.1",
        app.config["PRIVACY_NOTICE_VERSION"],
    )
    assert db.session.get(ConsentEvent, request.id).confirmed_at is not None

    again = client.post(link)
    assert again.status_code == 200 and "consent-already" in again.text
    assert "consent-already" in client.get(link).text
    assert _events(donor.id) == [
        ("newsletter", "requested", "form"),
        ("newsletter", "granted", "double_opt_in"),
    ]


def test_a_known_address_keeps_its_details_and_gets_the_same_answer(client, smtp_server):
    donor = factories.donor(first_name="Marta", last_name="Bianchi", email="marta@example.org")
    known = client.post(
        "/newsletter",
        data={"first_name": "Someone", "last_name": "Else", "email": "marta@example.org"},
    )
    new = _sign_up(client, "nuova@example.org")
    assert known.status_code == new.status_code == 200
    assert known.text == new.text
    donor = db.session.get(Donor, donor.id)
    assert (donor.first_name, donor.last_name, donor.changes) == ("Marta", "Bianchi", [])
    assert _events(donor.id) == [("newsletter", "requested", "form")]


def test_expired_link_is_refused(app, client, smtp_server, monkeypatch):
    _sign_up(client)
    eight_days_ago = int(time.time()) - 8 * 24 * 3600
    with monkeypatch.context() as patch:  # the mail was sent eight days ago
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
        link = _confirmation_link(app, smtp_server, "anna.neri@example.org")
    page = client.get(link)
    assert page.status_code == 410 and "consent-expired" in page.text
    assert client.post(link).status_code == 410
    donor = db.session.scalar(select(Donor))
    assert donor.newsletter_consent is False
    assert _events(donor.id) == [("newsletter", "requested", "form")]
    # Within a longer NEWSLETTER_CONFIRM_MAX_AGE the same link still works.
    app.config["NEWSLETTER_CONFIRM_MAX_AGE"] = 9 * 24 * 3600
    assert "consent-confirmed" in client.post(link).text


def test_tampered_links_are_refused(app, client, smtp_server):
    _sign_up(client)
    link = _confirmation_link(app, smtp_server, "anna.neri@example.org")
    prefix, token = link.rsplit("/", 1)
    payload, timestamp, signature = token.split(".")
    donor = db.session.scalar(select(Donor))
    forged = [
        f"{prefix}/{payload}.{timestamp}.{signature[:-2]}xx",
        f"{prefix}/{payload}x.{timestamp}.{signature}",
        f"{prefix}/not-a-token",
        # A valid signature for another purpose (an unsubscribe link) is no confirmation.
        f"{prefix}/{consent.unsubscribe_token(donor, 'newsletter')}",
    ]
    for url in forged:
        page = client.post(url)
        assert page.status_code == 404 and "consent-invalid" in page.text, url
    assert db.session.get(Donor, donor.id).newsletter_consent is False


def test_the_gift_form_box_asks_for_confirmation(app, client, smtp_server):
    campaign = factories.campaign()
    response = client.post(
        f"/campagne/{campaign.slug}/dona",
        data={
            "amount": "5000",
            "frequency": "one_off",
            "method": "bank_transfer",
            "donor_kind": "person",
            "first_name": "Luca",
            "last_name": "Bassi",
            "email": "luca@example.org",
            "newsletter": "y",
        },
    )
    assert response.status_code == 302
    donor = db.session.scalar(select(Donor))
    assert donor.newsletter_consent is False
    request = db.session.scalar(select(ConsentEvent))
    assert (request.action, request.source, request.ip) == ("requested", "form", "127.0.0.1")
    link = _confirmation_link(app, smtp_server, "luca@example.org")
    assert len(smtp_server.messages) == 2  # the bank details, and the confirmation
    client.post(link)
    assert db.session.get(Donor, donor.id).newsletter_consent is True


def _subscribed(**overrides):
    donor = factories.donor(**overrides)
    consent.grant(donor, ConsentSource.IMPORT)
    db.session.commit()
    return donor


def _path(url: str) -> str:
    return url.removeprefix("http://localhost")


def test_unsubscribe_page_withdraws_and_suppresses(app, client, smtp_server):
    donor = _subscribed()
    with app.test_request_context():
        url = _path(consent.unsubscribe_url(donor, "newsletter"))
    page = client.get(url)
    assert page.status_code == 200 and 'class="narrow-wide unsubscribe"' in page.text
    assert db.session.get(Donor, donor.id).newsletter_consent is True  # not by opening it

    done = client.post(url)
    assert done.status_code == 200 and "unsubscribed" in done.text
    donor = db.session.get(Donor, donor.id)
    assert donor.newsletter_consent is False
    suppression = db.session.scalar(select(Suppression))
    assert (suppression.email_hash, suppression.reason) == (email_hash(donor.email), "unsubscribe")
    withdrawn = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.action == ConsentAction.WITHDRAWN)
    ).one()
    assert (withdrawn.source, withdrawn.ip) == ("unsubscribe", "127.0.0.1")

    client.post(url)  # a second click adds nothing
    assert len(_events(donor.id)) == 2
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1

    # Staff cannot subscribe the address again; the person can, by double opt-in.
    with pytest.raises(Invalid):
        consent.grant(donor, ConsentSource.STAFF)
    consent.request_newsletter(donor, ConsentSource.PORTAL, "10.0.0.9")
    db.session.commit()
    client.post(_confirmation_link(app, smtp_server, donor.email))
    assert db.session.get(Donor, donor.id).newsletter_consent is True
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_one_click_unsubscribe_needs_no_csrf_token_but_the_signature(app_with):
    app = app_with(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    donor = _subscribed()
    with app.test_request_context():
        headers = consent.unsubscribe_headers(donor, "newsletter")
        page_url = _path(consent.unsubscribe_url(donor, "newsletter"))
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = _path(headers["List-Unsubscribe"].strip("<>"))

    # The human page keeps its CSRF check.
    assert client.post(page_url).status_code == 400
    assert client.post(one_click).status_code == 400  # no RFC 8058 body
    forged = one_click.replace("/one-click", "x/one-click")
    assert client.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert db.session.get(Donor, donor.id).newsletter_consent is True

    response = client.post(one_click, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    donor = db.session.get(Donor, donor.id)
    assert donor.newsletter_consent is False
    assert _events(donor.id)[-1] == ("newsletter", "withdrawn", "unsubscribe")
    assert client.post(one_click, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert len(_events(donor.id)) == 2
    # Opened in a browser, the one-click address leads to the page.
    assert client.get(one_click).headers["Location"].endswith(page_url)


def test_report_back_opt_out_from_its_unsubscribe_link(app, client):
    org = factories.organisation(report_back_enabled=True)
    donor = factories.donor()
    assert consent.may_receive_report_back(donor, org)
    assert not consent.may_receive_report_back(donor, factories.organisation())
    with app.test_request_context():
        url = _path(consent.unsubscribe_url(donor, "report_back"))
    assert client.post(url).status_code == 200
    donor = db.session.get(Donor, donor.id)
    assert donor.report_back_opt_out is True
    assert not consent.may_receive_report_back(donor, org)
    assert _events(donor.id) == [("report_back", "withdrawn", "unsubscribe")]
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0
    erased = factories.donor(erased_at=now_utc())
    assert not consent.may_receive_report_back(erased, org)


def test_newsletter_audience(app):
    subscribed = _subscribed(email="yes@example.org")
    factories.donor(email="no@example.org")
    _subscribed(email="forgotten@example.org").erased_at = now_utc()
    suppressed = _subscribed(email="bounced@example.org")
    db.session.add(
        Suppression(email_hash=email_hash(suppressed.email), reason=SuppressionReason.HARD_BOUNCE)
    )
    db.session.commit()
    audience = db.session.scalars(
        select(Donor.email).where(consent.newsletter_audience_filter())
    ).all()
    assert audience == [subscribed.email]


def test_staff_record_consent_with_a_note(app, client, login, smtp_server):
    donor = factories.donor()
    user = login("staff")
    url = f"/staff/donors/{donor.id}/consent"
    response = client.post(url, data={"action": "newsletter_granted", "note": "Phone call"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/donors/{donor.id}#consent-title")
    granted = db.session.scalar(select(ConsentEvent))
    assert (granted.action, granted.source, granted.user_id, granted.note) == (
        "granted",
        "staff",
        user.id,
        "Phone call",
    )
    assert granted.notice_version == app.config["PRIVACY_NOTICE_VERSION"]
    assert db.session.get(Donor, donor.id).newsletter_consent is True
    page = client.get(f"/staff/donors/{donor.id}")
    assert f'action="/staff/donors/{donor.id}/consent"' in page.text

    client.post(url, data={"action": "newsletter_granted"})  # a renewal is history too
    client.post(url, data={"action": "newsletter_withdrawn", "note": "Letter of 3 May"})
    client.post(url, data={"action": "newsletter_withdrawn"})  # nothing to withdraw
    client.post(url, data={"action": "report_back_opted_out"})
    client.post(url, data={"action": "newsletter_requested"})
    assert _events(donor.id) == [
        ("newsletter", "granted", "staff"),
        ("newsletter", "granted", "staff"),
        ("newsletter", "withdrawn", "staff"),
        ("report_back", "withdrawn", "staff"),
        ("newsletter", "requested", "staff"),
    ]
    donor = db.session.get(Donor, donor.id)
    assert (donor.newsletter_consent, donor.report_back_opt_out) == (False, True)
    assert db.session.scalar(select(MailJob.kind)) == "newsletter_confirm"
    assert client.post(url, data={"action": "bogus"}).status_code == 302
    assert len(_events(donor.id)) == 5
    assert client.post("/staff/donors/999999/consent", data={}).status_code == 404


def test_staff_consent_route_roles(client, login):
    donor = factories.donor()
    url = f"/staff/donors/{donor.id}/consent"
    assert "/staff/login" in client.post(url, data={"action": "newsletter_granted"}).location
    login("treasurer")
    assert client.post(url, data={"action": "newsletter_granted"}).status_code == 403
    assert db.session.get(Donor, donor.id).newsletter_consent is False
    assert _events(donor.id) == []


def test_sign_up_is_rate_limited(app_with):
    app = app_with(RATELIMIT_ENABLED=True)
    client = app.test_client()
    codes = [_sign_up(client, "same@example.org").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert db.session.scalar(select(func.count()).select_from(ConsentEvent)) == 5
