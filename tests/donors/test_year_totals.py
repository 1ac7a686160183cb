"""Each donor's per-year gifts and net amount stay equal to a recomputation from the
donations through real flows: a card gift succeeded by a signed webhook, refunds through
Stripe, a confirmed transfer, an offline gift, and a merge."""

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from donors import merge
from donors.identity import DonorDetails
from donors.models import Donor, DonorYearTotal
from legami.extensions import db
from payments import stripe_gateway, treasury
from payments.models import Donation, Method, Status
from tests import factories
from tests.payments.conftest import deliver, event, localstripe, stripe_app  # noqa: F401
from tests.payments.test_card_gifts import _give, _pay


def _table() -> dict[tuple[int, int], tuple[int, int]]:
    """The kept rows with a gift; a year whose gifts were all refunded must be all zero."""
    rows = db.session.scalars(select(DonorYearTotal)).all()
    assert all(r.net_cents == 0 for r in rows if r.gifts == 0)
    return {(r.donor_id, r.year): (r.gifts, r.net_cents) for r in rows if r.gifts}


def _recomputed() -> dict[tuple[int, int], tuple[int, int]]:
    """Succeeded donations, by donor and year received, net of refunds: in Python."""
    gifts, net = Counter(), Counter()
    for d in db.session.scalars(select(Donation).where(Donation.status == Status.SUCCEEDED)):
        key = (d.donor_id, d.received_on.year)
        gifts[key] += 1
        net[key] += d.amount_cents - d.refunded_cents
    return {key: (gifts[key], net[key]) for key in gifts}


def _check() -> dict[tuple[int, int], tuple[int, int]]:
    db.session.expire_all()
    table = _table()
    assert table == _recomputed()
    return table


@pytest.fixture
def campaign():
    return factories.campaign(goal_cents=1_000_000)


def test_webhook_refunds_transfer_offline_gift_and_merge_keep_the_years_exact(
    stripe_app,  # noqa: F811
    client,
    login,
    campaign,
):
    _give(client, campaign)  # 50 EUR from maria.rossi@example.org
    donation = db.session.scalar(select(Donation))
    deliver(client, event("payment_intent.succeeded", _pay(donation.stripe_payment_intent_id)))
    donation = db.session.get(Donation, donation.id)
    maria, year = donation.donor_id, donation.received_on.year
    assert _check() == {(maria, year): (1, 5000)}

    login("treasurer")
    client.post(
        f"/staff/donations/{donation.id}/refund",
        data={"amount": "20", "reason": "x", "confirmed": "1"},
    )
    charge = stripe_gateway.client().v1.charges.retrieve(donation.stripe_charge_id).to_dict()
    deliver(client, event("charge.refunded", charge))
    assert _check() == {(maria, year): (1, 3000)}

    # A second card gift, then refunded in full: no longer a gift, the year keeps the first.
    _give(client, campaign, amount="2000")
    second = db.session.scalars(select(Donation).order_by(Donation.id.desc())).first()
    deliver(client, event("payment_intent.succeeded", _pay(second.stripe_payment_intent_id)))
    assert _check() == {(maria, year): (2, 5000)}
    client.post(
        f"/staff/donations/{second.id}/refund",
        data={"amount": "20", "reason": "x", "confirmed": "1"},
    )
    charge = stripe_gateway.client().v1.charges.retrieve(second.stripe_charge_id).to_dict()
    deliver(client, event("charge.refunded", charge))
    assert db.session.get(Donation, second.id).status == Status.REFUNDED
    assert _check() == {(maria, year): (1, 3000)}

    # Another donor: a transfer confirmed with its day, and cash brought in another year.
    pledge = factories.donation(
        campaign=campaign, method=Method.BANK_TRANSFER, status=Status.PENDING, received_on=None
    )
    other = pledge.donor_id
    treasury.confirm_transfer(pledge.id, date(2023, 12, 31), None)
    treasury.record_offline(
        campaign,
        Method.CASH,
        700,
        date(2024, 1, 1),
        DonorDetails(email=db.session.get(Donor, other).email, last_name="Verdi"),
        None,
    )
    assert _check() == {(maria, year): (1, 3000), (other, 2023): (1, 2500), (other, 2024): (1, 700)}

    # The merged donor's years add to the survivor's; its own rows go with it.
    merge.merge(other, maria, {}, None)
    db.session.commit()
    assert _check() == {(other, 2023): (1, 2500), (other, 2024): (1, 700), (other, year): (1, 3000)}
    assert db.session.scalar(select(DonorYearTotal).where(DonorYearTotal.donor_id == maria)) is None
