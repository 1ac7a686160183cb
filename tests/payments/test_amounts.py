"""Hostile amounts in every amount input: each form shows its message again and stores
nothing, the JSON API answers 422 problem details; never a 500, never an overflow."""

import pytest
from sqlalchemy import func, select

from campaigns.models import Campaign
from donors.models import Donor
from legami.extensions import db
from legami.models import ApiToken
from legami.money import MAX_GIFT_CENTS, MAX_GOAL_CENTS
from payments.models import Donation, Refund
from receipts.models import ReceiptSettings
from tests import factories

pytestmark = pytest.mark.usefixtures("english")

# What people (and scripts) type, and the message they get back.
HOSTILE = [
    ("1e30", "Write an amount in euros"),
    ("9" * 29, "The amount can be at most"),
    ("1e9", "Write an amount in euros"),
    ("1.000.000.000", "The amount can be at most"),
    ("0.001", "Write an amount in euros"),
    ("0,001", "at most two decimals"),
    ("1E2", "Write an amount in euros"),
    ("1_000", "Write an amount in euros"),
    ("\u0661\u0662", "digits 0 to 9"),  # Arabic-Indic: Python's int() reads 12
    ("\uff11\uff12", "digits 0 to 9"),  # fullwidth
    ("1\u00b2", "digits 0 to 9"),  # superscript two: str.isdigit() is True
    ("NaN", "Write an amount in euros"),
    ("-Infinity", "cannot be negative"),
    ("-10", "cannot be negative"),
]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _shown(response, message: str) -> None:
    assert response.status_code == 422, response.text
    assert message in response.text.replace("&#39;", "'")


@pytest.fixture
def campaign():
    return factories.campaign()


@pytest.mark.parametrize(("typed", "message"), HOSTILE)
def test_the_gift_form(client, campaign, typed, message):
    response = client.post(
        f"/campagne/{campaign.slug}/dona",
        data={
            "amount": "other",
            "other_amount": typed,
            "frequency": "one_off",
            "method": "bank_transfer",
            "donor_kind": "person",
            "first_name": "Giulia",
            "last_name": "Verdi",
            "email": "giulia@example.org",
        },
    )
    _shown(response, message)
    assert f'value="{typed}"' in response.text  # what was typed is shown again
    assert (_count(Donation), _count(Donor)) == (0, 0)


def _offline(client, campaign, amount: str, method: str = "cash"):
    return client.post(
        "/staff/donations/offline",
        data={
            "campaign_id": str(campaign.id),
            "method": method,
            "amount": amount,
            "received_on": "2026-11-22",
            "first_name": "Pia",
            "last_name": "Neri",
            "email": "pia@example.org",
        },
    )


@pytest.mark.parametrize(("typed", "message"), HOSTILE)
def test_the_offline_gift_form(client, login, campaign, typed, message):
    login("staff")
    _shown(_offline(client, campaign, typed), message)
    assert _count(Donation) == 0
    assert db.session.get(Campaign, campaign.id).raised_cents == 0


def test_an_offline_gift_up_to_the_bound_is_stored_exactly(client, login, campaign):
    login("staff")
    assert _offline(client, campaign, "1.000.000,00").status_code == 302
    assert _offline(client, campaign, "1.000.000,01").status_code == 422
    assert db.session.scalars(select(Donation.amount_cents)).all() == [MAX_GIFT_CENTS]
    assert db.session.get(Campaign, campaign.id).raised_cents == MAX_GIFT_CENTS


@pytest.mark.parametrize(("typed", "message"), [*HOSTILE, ("0", "more than zero")])
def test_the_refund_form(client, login, campaign, typed, message):
    login("staff", "treasurer")
    assert _offline(client, campaign, "50").status_code == 302
    gift = db.session.scalar(select(Donation))
    response = client.post(
        f"/staff/donations/{gift.id}/refund",
        data={"amount": typed, "reason": "prova", "confirmed": "1"},
    )
    _shown(response, message)
    assert _count(Refund) == 0
    db.session.expire_all()
    assert db.session.get(Donation, gift.id).refunded_cents == 0


def _campaign_form(org, goal: str) -> dict:
    return {
        "title": "Orti in comune",
        "organisation_id": str(org.id),
        "summary": "Orti condivisi.",
        "goal": goal,
        "starts_on": "2026-11-01",
        "ends_on": "2026-12-31",
    }


@pytest.mark.parametrize(("typed", "message"), [*HOSTILE, ("10.000.000,01", "at most")])
def test_the_campaign_goal_form(client, login, typed, message):
    login("staff")
    org = factories.organisation()
    response = client.post("/staff/campaigns/new", data=_campaign_form(org, typed))
    _shown(response, message)
    assert _count(Campaign) == 0


def test_a_goal_form_shows_the_goal_as_it_reads_it(client, login):
    login("staff")
    org = factories.organisation()
    answer = client.post("/staff/campaigns/new", data=_campaign_form(org, "10.000.000"))
    assert answer.status_code == 302
    saved = db.session.scalar(select(Campaign))
    assert saved.goal_cents == MAX_GOAL_CENTS
    page = client.get(f"/staff/campaigns/{saved.id}").text
    assert 'value="10.000.000,00"' in page  # and saving the form again keeps it
    again = client.post(f"/staff/campaigns/{saved.id}", data=_campaign_form(org, "10.000.000,00"))
    assert again.status_code == 302
    assert db.session.get(Campaign, saved.id).goal_cents == MAX_GOAL_CENTS


@pytest.fixture
def staff_token():
    _, token = ApiToken.issue(factories.user(roles=("staff",)))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


API_GOALS = [
    (MAX_GOAL_CENTS + 1, "at most"),
    (2_147_483_648, "at most"),  # one above the INTEGER column
    (10**40, "at most"),
    (1e30, "whole number of cents"),
    (2500.0, "whole number of cents"),
    ("2500", "whole number of cents"),
    ("1.000,00", "whole number of cents"),
    (True, "whole number of cents"),
    (None, "whole number of cents"),
    (0, "more than zero"),
    (-1, "cannot be negative"),
]


@pytest.mark.parametrize(("goal", "message"), API_GOALS)
def test_the_api_goal(client, staff_token, goal, message):
    org = factories.organisation(slug="orti")
    body = {
        "title": "Orti",
        "organisation": "orti",
        "summary": "Orti condivisi.",
        "goal_cents": goal,
        "starts_on": "2026-11-01",
        "ends_on": "2026-12-31",
    }
    created = client.post("/api/v1/campaigns", json=body, headers=staff_token)
    assert created.status_code == 422
    assert created.mimetype == "application/problem+json"
    [error] = created.json["errors"]
    assert error["field"] == "goal_cents" and message in error["message"]
    assert _count(Campaign) == 0

    existing = factories.campaign(organisation=org, slug="orti-2026", goal_cents=500_000)
    patched = client.patch(
        "/api/v1/campaigns/orti-2026", json={"goal_cents": goal}, headers=staff_token
    )
    assert patched.status_code == 422
    assert patched.mimetype == "application/problem+json"
    assert db.session.get(Campaign, existing.id).goal_cents == 500_000


def test_the_api_takes_a_goal_up_to_the_bound(client, staff_token):
    factories.organisation(slug="orti")
    body = {
        "title": "Orti",
        "organisation": "orti",
        "summary": "Orti condivisi.",
        "goal_cents": MAX_GOAL_CENTS,
        "starts_on": "2026-11-01",
        "ends_on": "2026-12-31",
    }
    created = client.post("/api/v1/campaigns", json=body, headers=staff_token)
    assert created.status_code == 201, created.text
    assert created.json["goal_cents"] == MAX_GOAL_CENTS
    assert db.session.scalar(select(Campaign.goal_cents)) == MAX_GOAL_CENTS
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert schema["CampaignInput"]["properties"]["goal_cents"]["maximum"] == MAX_GOAL_CENTS


@pytest.mark.parametrize(("typed", "message"), HOSTILE)
def test_the_receipt_threshold(client, login, typed, message):
    login("treasurer")
    org = factories.organisation()
    form = {
        "policy": "both",
        "threshold": typed,
        "number_format": "{year}/{number:06d}",
        "delivery": "after",
    }
    _shown(client.post(f"/staff/receipts/settings/{org.id}", data=form), message)
    settings = db.session.get(ReceiptSettings, org.id)
    assert settings is None or settings.threshold_cents == 0


def test_a_threshold_of_zero_and_its_display(client, login):
    login("treasurer")
    org = factories.organisation()
    form = {"policy": "both", "number_format": "{year}/{number:06d}", "delivery": "after"}
    saved = client.post(f"/staff/receipts/settings/{org.id}", data={**form, "threshold": "1.250,5"})
    assert saved.status_code == 302
    assert db.session.get(ReceiptSettings, org.id).threshold_cents == 125_050
    assert 'value="1.250,50"' in client.get(f"/staff/receipts/settings/{org.id}").text
    client.post(f"/staff/receipts/settings/{org.id}", data={**form, "threshold": "0"})
    db.session.expire_all()
    assert db.session.get(ReceiptSettings, org.id).threshold_cents == 0


def test_gift_form_amounts_in_both_languages(client, campaign):
    """Italian is the format everywhere: `1.000` is a thousand euros on the English page too."""
    data = {
        "amount": "other",
        "other_amount": "1.000",
        "frequency": "one_off",
        "method": "bank_transfer",
        "donor_kind": "person",
        "first_name": "Giulia",
        "last_name": "Verdi",
        "email": "giulia@example.org",
    }
    assert client.post(f"/campagne/{campaign.slug}/dona", data=data).status_code == 302
    assert db.session.scalar(select(Donation.amount_cents)) == 100_000
