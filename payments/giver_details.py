"""What the giver typed on the public gift form, and when it may reach the donor's record.

Anyone can type anyone's e-mail address into the gift form, so the form never changes an
existing donor: `keep` stores the typed details with the gift. When the gift succeeds (the
`donation_succeeded` signal, inside the success's transaction) `on_succeeded` claims them
once per gift, or once per monthly gift, and hands them to `donors.suggestions.take`: the
donor's empty fields are filled and the differing values wait for staff. Receipts keep
reading the donor's record.
"""

from dataclasses import fields

from sqlalchemy import and_, bindparam, exists, or_, select, update

from donors import suggestions
from donors.identity import DonorDetails
from donors.models import Donor
from legami.extensions import db
from legami.timeutil import now_utc
from payments import signals, success_facts
from payments.models import Donation, GiftDetails, RecurringGift

_COLUMNS = [f.name for f in fields(DonorDetails) if f.name in GiftDetails.__table__.c]

# One statement: the gift's details not yet applied (its own, or its monthly gift's),
# marked applied. A repeat or a concurrent twin finds nothing.
_CLAIM = (
    update(GiftDetails)
    .where(
        GiftDetails.applied_at.is_(None),
        or_(
            GiftDetails.donation_id == bindparam("b_id"),
            GiftDetails.recurring_gift_id
            == select(Donation.recurring_gift_id)
            .where(Donation.id == bindparam("b_id"))
            .scalar_subquery(),
        ),
    )
    .values(applied_at=bindparam("b_at"))
    .returning(GiftDetails.id)
)


def keep(gift: Donation | RecurringGift, details: DonorDetails) -> GiftDetails:
    """Store what the giver typed with the gift (the caller commits)."""
    row = GiftDetails(**{name: getattr(details, name) for name in _COLUMNS})
    if isinstance(gift, RecurringGift):
        row.recurring_gift = gift
    else:
        row.donation = gift
    db.session.add(row)
    return row


# Work for a gift that succeeds: details typed with it, or with its monthly gift, not applied.
success_facts.register(
    "giver_details",
    or_(
        exists().where(GiftDetails.donation_id == Donation.id, GiftDetails.applied_at.is_(None)),
        and_(
            Donation.recurring_gift_id.is_not(None),
            exists().where(
                GiftDetails.recurring_gift_id == Donation.recurring_gift_id,
                GiftDetails.applied_at.is_(None),
            ),
        ),
    ),
)


def on_succeeded(app, donation_id: int) -> None:
    if not success_facts.may_have_work(donation_id, "giver_details"):
        return
    claimed = (
        db.session.connection().execute(_CLAIM, {"b_id": donation_id, "b_at": now_utc()}).first()
    )
    if claimed is None:
        return
    details = db.session.get(GiftDetails, claimed.id)
    donor = db.session.scalar(
        select(Donor)
        .join(Donation, Donation.donor_id == Donor.id)
        .where(Donation.id == donation_id)
    )
    given = {name: getattr(details, name) for name in suggestions.FIELDS}
    suggestions.take(donor, given, source=f"gift:{donation_id}")


def connect_signals(app) -> None:
    signals.donation_succeeded.connect(on_succeeded, sender=app)
