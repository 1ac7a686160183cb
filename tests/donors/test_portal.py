"""The donor portal: a link by mail (through a real SMTP server), single use and expiry, the
same answer for any address, rate limits, the portal session, details and consents."""

import hashlib
import re
import time
from datetime import timedelta

from sqlalchemy import func, select, update

from donors import portal
from donors.models import ConsentEvent, Donor, DonorChange, DonorEmail, PortalToken
from legami.extensions import db
from legami.timeutil import now_utc
from mailing.models import MailJob
from tests import factories
from tests.conftest import deliver_queued

LINK = re.compile(r"http://localhost(/portal/accedi/(\S+))")


def portal_login(app, client, donor: Donor) -> None:
    """Enter the portal as this donor, by a link made as the mail would make it."""
    with app.test_request_context():
        url = portal.issue_link(donor)
    db.session.commit()
    response = client.post(url.removeprefix("http://localhost"))
    assert response.status_code == 302, response.text


def _mailed_link(app, smtp_server) -> tuple[str, str]:
    deliver_queued(app)
    assert len(smtp_server.messages) == 1
    found = LINK.search(smtp_server.messages[0].get_body(("plain",)).get_content())
    return found.group(1), found.group(2)


def test_link_by_mail_works_once(app, client, smtp_server):
    donor = factories.donor(first_name="Carla", email="carla@example.org")
    response = client.post("/portal", data={"email": " Carla@Example.ORG "})
    assert response.status_code == 200 and 'class="sent"' in response.text
    assert db.session.scalar(select(func.count()).select_from(PortalToken)) == 0  # not yet

    path, token = _mailed_link(app, smtp_server)
    assert smtp_server.messages[0]["To"] == "carla@example.org"
    stored = db.session.scalar(select(PortalToken))
    assert stored.donor_id == donor.id
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert stored.expires_at - stored.created_at == timedelta(minutes=30)

    # Opening the link (a person, or a mail scanner) does not use it up.
    assert client.get(path).status_code == 200
    assert 'class="portal-enter"' in client.get(path).text
    entered = client.post(path)
    assert entered.status_code == 302 and entered.location.endswith("/portal/inizio")
    home = client.get("/portal/inizio")
    assert home.status_code == 200 and "Carla" in home.text
    assert db.session.scalar(select(PortalToken.used_at)) is not None

    other = app.test_client()
    assert other.get(path).status_code == 410
    assert other.post(path).status_code == 410
    assert other.get("/portal/inizio").location.endswith("/portal")


def test_an_expired_link_is_refused(app, client, smtp_server):
    factories.donor(email="carla@example.org")
    client.post("/portal", data={"email": "carla@example.org"})
    path, _token = _mailed_link(app, smtp_server)
    db.session.execute(update(PortalToken).values(expires_at=now_utc() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(path).status_code == 410
    assert client.post(path).status_code == 410
    assert client.get("/portal/inizio").status_code == 302
    assert db.session.scalar(select(PortalToken.used_at)) is None


def test_the_answer_is_the_same_for_any_address(app, client, smtp_server):
    donor = factories.donor(email="known@example.org")
    db.session.add(DonorEmail(donor_id=donor.id, email="work@example.org"))
    factories.donor(email="erased@example.org", erased_at=now_utc())
    db.session.commit()
    answers = [
        client.post("/portal", data={"email": email})
        for email in (
            "known@example.org",
            "unknown@example.org",
            "erased@example.org",
            "work@example.org",
        )
    ]
    assert {(r.status_code, r.text) for r in answers} == {(200, answers[0].text)}
    assert all("Set-Cookie" not in r.headers for r in answers)
    jobs = db.session.scalars(select(MailJob)).all()
    assert [(j.kind, j.donor_id) for j in jobs] == [("portal_link", donor.id)] * 2
    deliver_queued(app)
    # A further address gets the link at the primary one.
    assert [m["To"] for m in smtp_server.messages] == ["known@example.org"] * 2


def test_a_bad_address_is_asked_again(client):
    response = client.post("/portal", data={"email": "not an address"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(MailJob)) == 0


def test_link_requests_are_rate_limited(app_with):
    app = app_with(RATELIMIT_ENABLED=True)
    client = app.test_client()
    factories.donor(email="carla@example.org")
    codes = [
        client.post("/portal", data={"email": "carla@example.org"}).status_code for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]
    # The same IP, another address: the per-IP limit (5 an hour) is spent too.
    assert client.post("/portal", data={"email": "other@example.org"}).status_code == 429
    assert db.session.scalar(select(func.count()).select_from(MailJob)) == 5


def test_portal_session_ends_and_is_apart_from_staff_login(app, client, login):
    donor = factories.donor()
    portal_login(app, client, donor)
    assert client.get("/portal").location.endswith("/portal/inizio")
    assert client.get("/staff/").location.startswith("/staff/login")
    with client.session_transaction() as session:
        session["portal"] = {**session["portal"], "until": int(time.time()) - 1}
    assert client.get("/portal/inizio").location.endswith("/portal")

    portal_login(app, client, donor)
    assert client.post("/portal/esci").status_code == 302
    assert client.get("/portal/dati").location.endswith("/portal")

    login("staff")
    assert client.get("/portal/consensi").location.endswith("/portal")
    portal_login(app, client, donor)
    donor.erased_at = now_utc()  # forgotten meanwhile
    db.session.commit()
    assert client.get("/portal/inizio").location.endswith("/portal")


def test_portal_pages_need_a_portal_session(client):
    for path in ("/portal/inizio", "/portal/dati", "/portal/consensi", "/portal/doni"):
        assert client.get(path).location.endswith("/portal"), path
    for path in ("/portal/dati", "/portal/consensi", "/portal/mensili/x/annulla"):
        assert client.post(path).location.endswith("/portal"), path


def test_details_edit_keeps_history(app, client):
    donor = factories.donor(first_name="Carla", last_name="Neri", phone="0372 1")
    portal_login(app, client, donor)
    assert client.get("/portal/dati").status_code == 200
    data = {
        "first_name": "Carla",
        "last_name": "Neri Bassi",
        "phone": "",
        "street": "Via Milano 3",
        "postal_code": "26100",
        "town": "Cremona",
        "province": "cr",
        "language": "en",
    }
    assert client.post("/portal/dati", data=data).status_code == 302
    donor = db.session.get(Donor, donor.id)
    assert (donor.last_name, donor.phone, donor.province, donor.language) == (
        "Neri Bassi",
        "",
        "CR",
        "en",
    )
    changes = db.session.scalars(select(DonorChange).order_by(DonorChange.id)).all()
    assert {(c.field, c.old_value, c.new_value, c.source) for c in changes} == {
        ("last_name", "Neri", "Neri Bassi", "portal"),
        ("phone", "0372 1", "", "portal"),
        ("street", "", "Via Milano 3", "portal"),
        ("postal_code", "", "26100", "portal"),
        ("town", "", "Cremona", "portal"),
        ("province", "", "CR", "portal"),
        ("language", "it", "en", "portal"),
    }
    refused = client.post("/portal/dati", data={**data, "last_name": " ", "province": "Cre"})
    assert refused.status_code == 422
    assert db.session.get(Donor, donor.id).last_name == "Neri Bassi"
    assert db.session.scalar(select(func.count()).select_from(DonorChange)) == len(changes)


def test_consents_from_the_portal(app, client, smtp_server):
    donor = factories.donor(email="carla@example.org")
    portal_login(app, client, donor)
    assert client.get("/portal/consensi").status_code == 200
    client.post("/portal/consensi", data={"newsletter": "y", "report_back": "y"})
    assert db.session.get(Donor, donor.id).newsletter_consent is False  # to be confirmed
    assert "state-awaiting" in client.get("/portal/consensi").text
    client.post("/portal/consensi", data={"newsletter": "y", "report_back": "y"})  # no 2nd mail
    deliver_queued(app)
    assert len(smtp_server.messages) == 1
    text = smtp_server.messages[0].get_body(("plain",)).get_content()
    confirm = re.search(r"http://localhost(/newsletter/conferma/\S+)", text).group(1)
    client.post(confirm)
    assert db.session.get(Donor, donor.id).newsletter_consent is True

    client.post("/portal/consensi", data={})  # both boxes cleared
    donor = db.session.get(Donor, donor.id)
    assert (donor.newsletter_consent, donor.report_back_opt_out) == (False, True)
    client.post("/portal/consensi", data={"report_back": "y"})
    rows = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
    assert [(r.purpose, r.action, r.source) for r in rows] == [
        ("newsletter", "requested", "portal"),
        ("newsletter", "granted", "double_opt_in"),
        ("newsletter", "withdrawn", "portal"),
        ("report_back", "withdrawn", "portal"),
        ("report_back", "granted", "portal"),
    ]
    assert all(r.ip == "127.0.0.1" for r in rows)
    assert db.session.get(Donor, donor.id).report_back_opt_out is False


def test_sections_added_by_other_packages_are_in_the_menu(app, client):
    portal_login(app, client, factories.donor())
    home = client.get("/portal/inizio").text
    for path in ("/portal/dati", "/portal/consensi", "/portal/doni", "/portal/mensili"):
        assert f'href="{path}"' in home
