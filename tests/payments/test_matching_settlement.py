"""After the window: the matcher's statement (PDF, CSV, no donor data unless they agreed),
the request, and the matcher's payment recorded as its own gift that settles the pledge."""

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from legami.extensions import db
from legami.models import AuditEntry
from legami.timeutil import today_rome
from payments import treasury
from payments.matching_models import Challenge
from payments.models import Donation, Method, Status
from receipts import issuing
from tests import factories
from tests.payments.matching import challenge, check_books, held, transfer


def _closed_challenge_with_gifts():
    today = today_rome()
    campaign = factories.campaign()
    found = challenge(
        campaign, starts_on=today - timedelta(days=4), ends_on=today - timedelta(days=1)
    )
    shown = factories.donor(first_name="Giulia", last_name="Bianchi")
    hidden = factories.donor(first_name="Segreto", last_name="Nascosto")
    first = transfer(campaign, 4_000, donor=shown, day=today - timedelta(days=3), show_name=True)
    second = transfer(campaign, 2_550, donor=hidden, day=today - timedelta(days=2))
    outside = transfer(campaign, 1_000)  # today: after the window
    assert (held(first), held(second), held(outside)) == (4_000, 2_550, 0)
    return campaign, found, (first, second)


def test_statement_lists_each_matched_gift_without_personal_data_unless_agreed(
    client, login, english
):
    _campaign, found, _gifts = _closed_challenge_with_gifts()
    login("treasurer")
    response = client.get(f"/staff/raddoppi/{found.id}/prospetto.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Date of the gift", "Gift (EUR)", "Matched (EUR)", "Donor"]
    assert [r[1:] for r in rows[1:]] == [
        ["40,00", "40,00", "Giulia Bianchi"],
        ["25,50", "25,50", "Anonymous"],
    ]
    assert "Nascosto" not in response.data.decode("utf-8-sig")
    pdf = client.get(f"/staff/raddoppi/{found.id}/prospetto.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert b"Nascosto" not in pdf.data
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "matching.statement"))
        is not None
    )


def test_the_matchers_payment_settles_the_pledge_as_its_own_deductible_gift(client, login, english):
    campaign, found, gifts = _closed_challenge_with_gifts()
    login("treasurer")
    before = campaign.raised_cents + campaign.matched_cents
    wrong = client.post(
        f"/staff/raddoppi/{found.id}/pagamento",
        data={"amount": "65,50", "received_on": today_rome().isoformat()},
    )
    assert wrong.status_code == 422
    assert "Request the payment first" in wrong.text
    assert client.post(f"/staff/raddoppi/{found.id}/richiesta").status_code == 302
    db.session.refresh(found)
    assert found.asked_cents == 6_550
    wrong = client.post(
        f"/staff/raddoppi/{found.id}/pagamento",
        data={"amount": "60,00", "received_on": today_rome().isoformat()},
    )
    assert wrong.status_code == 422
    assert "The payment must be the amount requested: €65.50." in wrong.text
    paid = client.post(
        f"/staff/raddoppi/{found.id}/pagamento",
        data={
            "amount": "65,50",
            "received_on": today_rome().isoformat(),
            "trace_reference": "CRO1",
        },
    )
    assert paid.status_code == 302
    db.session.expire_all()
    found = db.session.get(Challenge, found.id)
    gift = found.settled_donation
    assert (gift.donor_id, gift.amount_cents, gift.method, gift.status, gift.deductible) == (
        found.matcher_id,
        6_550,
        Method.BANK_TRANSFER,
        Status.SUCCEEDED,
        True,
    )
    db.session.refresh(campaign)
    # The pledge left the matched figure as the payment entered the raised one.
    assert campaign.matched_cents == 0
    assert campaign.raised_cents + campaign.matched_cents == before
    check_books(campaign.id)
    # Its lines stand as paid: a later refund of a donor's gift no longer moves them.
    treasury.refund(gifts[1].id, 2_550, "rimborso", None)
    db.session.commit()
    assert held(gifts[1]) == 2_550
    check_books(campaign.id)
    listing = client.get("/staff/raddoppi/").text
    assert "€65.50" in listing
    home = client.get("/staff/").text
    assert "Matchers pledged €65.50; received €65.50." in home


def test_a_pledge_that_moved_after_the_request_is_requested_again(client, login, english):
    _campaign, found, gifts = _closed_challenge_with_gifts()
    login("treasurer")
    client.post(f"/staff/raddoppi/{found.id}/richiesta")
    treasury.refund(gifts[0].id, 1_000, "in parte", None)
    db.session.commit()
    response = client.post(
        f"/staff/raddoppi/{found.id}/pagamento",
        data={"amount": "65,50", "received_on": today_rome().isoformat()},
    )
    assert response.status_code == 422
    assert "request the payment again" in response.text
    assert db.session.scalar(select(Donation).where(Donation.donor_id == found.matcher_id)) is None


def test_the_request_waits_for_the_window_to_close(client, login, english):
    campaign = factories.campaign()
    found = challenge(campaign)
    login("treasurer")
    response = client.post(f"/staff/raddoppi/{found.id}/richiesta", follow_redirects=True)
    assert "window has not closed yet." in response.text
    db.session.refresh(found)
    assert found.asked_cents is None


def test_the_donors_receipt_states_their_gift_only(app):
    campaign = factories.campaign()
    challenge(campaign, ratio_percent=200)
    gift = transfer(campaign, 3_000)
    assert held(gift) == 6_000
    receipt = issuing.issue_for_gift(gift.id)
    db.session.commit()
    assert receipt is not None and receipt.amount_cents == 3_000


def test_staff_set_up_a_challenge_with_clear_errors(client, login, english):
    campaign = factories.campaign()
    login("staff")
    today = today_rome()
    data = {
        "campaign_id": campaign.id,
        "matcher_kind": "organisation",
        "matcher_name": "Fondazione X",
        "matcher_email": "fondazione@example.org",
        "ratio_percent": "100",
        "cap": "3.250",
        "starts_on": today.isoformat(),
        "ends_on": (campaign.ends_on + timedelta(days=1)).isoformat(),
        "one_off": "y",
    }
    bad = client.post("/staff/raddoppi/nuovo", data=data)
    assert bad.status_code == 422
    assert "The challenge runs within the campaign&#39;s dates." in bad.text
    data["ends_on"] = campaign.ends_on.isoformat()
    good = client.post("/staff/raddoppi/nuovo", data=data)
    assert good.status_code == 302
    found = db.session.scalar(select(Challenge))
    assert (found.cap_cents, found.ratio_percent, found.one_off, found.monthly) == (
        325_000,
        100,
        True,
        False,
    )
    assert found.matcher.organisation_name == "Fondazione X"
    assert client.get(good.headers["Location"]).status_code == 200


def test_bad_requests_about_challenges_get_clear_answers(client, login, english):
    _campaign, found, _gifts = _closed_challenge_with_gifts()
    login("treasurer")
    bad = client.post(
        f"/staff/raddoppi/{found.id}/pagamento", data={"amount": "tanti", "received_on": "ieri"}
    )
    assert bad.status_code == 422
    assert client.get("/staff/raddoppi/999999").status_code == 404
    assert client.get("/staff/raddoppi/999999/prospetto.csv").status_code == 404
    assert client.post("/staff/raddoppi/nuovo", data={}).status_code == 403  # staff only
