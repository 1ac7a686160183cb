"""Receipts on request: a gift below its organisation's threshold gets no per-gift receipt
unless one is asked for, by the donor in the portal or by the treasurer for them.

The receipt is issued like any other (`issuing.issue_for_gift` with `requested=True`), in the
caller's transaction with its number and its audit entry. It is mailed whatever the delivery
policy: the thank-you has usually gone without it, so it goes as a re-send does.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select

from donors.giving_figures import NET
from legami import audit
from legami.extensions import db
from legami.models import User
from legami.validation import Invalid
from payments.models import Donation, Status
from receipts import issuing, signals
from receipts.models import Policy, Receipt, ReceiptGift, ReceiptSettings, ReceiptStatus


def _has_valid_receipt(donation_id):
    """A valid receipt, per-gift or annual, covers the gift (asking again would count it
    twice); `donation_id` is a column or a number."""
    return exists().where(
        ReceiptGift.donation_id == donation_id,
        ReceiptGift.receipt_id == Receipt.id,
        Receipt.status == ReceiptStatus.ISSUED,
    )


def askable(donor_id: int) -> Select:
    """The donor's gifts that may get a receipt on request, newest first: received, under
    the threshold of an organisation that gives per-gift receipts, without a valid receipt.
    The same rules as `refusal`, in SQL for the list."""
    return (
        select(Donation)
        .join(ReceiptSettings, ReceiptSettings.organisation_id == Donation.organisation_id)
        .where(
            Donation.donor_id == donor_id,
            Donation.status == Status.SUCCEEDED,
            Donation.succeeded_at.is_not(None),
            NET > 0,
            ReceiptSettings.threshold_cents > NET,
            ReceiptSettings.policy != Policy.ANNUAL.value,
            ~_has_valid_receipt(Donation.id),
        )
        .order_by(Donation.received_on.desc(), Donation.id.desc())
    )


def refusal(donation: Donation | None, donor_id: int | None = None) -> str | None:
    """Why this gift cannot get a receipt on request (for this donor, when given), or None."""
    if donation is None or (donor_id is not None and donation.donor_id != donor_id):
        return _l("We found no such gift.")
    if donation.status != Status.SUCCEEDED or donation.succeeded_at is None:
        return _l("Only a gift that has arrived can get a receipt.")
    if donation.net_cents <= 0:
        return _l("This gift was refunded: it gets no receipt.")
    if db.session.scalar(select(_has_valid_receipt(donation.id))):
        return _l("This gift already has a valid receipt.")
    settings = issuing.settings_for(donation.organisation_id)
    if settings.policy == Policy.ANNUAL:
        return _l("This organisation gives one annual receipt for the year's gifts.")
    if donation.net_cents >= settings.threshold_cents:
        return _l("This gift gets its receipt without asking: it is on its way.")
    return None


def issue_on_request(
    donation_id: int, user: User | None, by: str, donor_id: int | None = None
) -> Receipt:
    """Issue the receipt of a gift below the threshold, asked for by `by` ("treasurer" or
    "portal"; `donor_id` limits it to that donor's gifts); raises Invalid, changing nothing.
    The gift's row is locked first, so a repeated request finds the receipt and is refused."""
    donation = db.session.scalar(
        select(Donation)
        .where(Donation.id == donation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    reason = refusal(donation, donor_id)
    if reason is not None:
        raise Invalid({"gift": reason})
    receipt = issuing.issue_for_gift(donation.id, requested=True)
    audit.record(
        user,
        "receipt.issue_on_request",
        f"receipt:{receipt.id}",
        number=receipt.display_number,
        organisation=receipt.organisation_id,
        donation=donation.id,
        by=by,
    )
    signals.receipt_send_requested.send(current_app._get_current_object(), receipt_id=receipt.id)
    return receipt
