"""Demo receipts: each succeeded gift without a receipt gets the one the scheduler would have
issued when it succeeded (by its organisation's policy and threshold), oldest gift first, so
the demo's reconciliation reads like a real year (the demo gifts are made without signals).
Idempotent: a gift with a receipt keeps it."""

from sqlalchemy import select

from legami.extensions import db
from payments.models import Donation, Status
from receipts import issuing


def load() -> None:
    ids = db.session.scalars(
        select(Donation.id)
        .where(Donation.status == Status.SUCCEEDED)
        .order_by(Donation.received_on, Donation.id)
    ).all()
    for donation_id in ids:
        issuing.issue_for_gift(donation_id)
    db.session.flush()
