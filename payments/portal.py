"""The donor portal's payment pages: the donor's gifts, pending bank transfers with their
details, and monthly gifts to stop or change.

An unfinished card payment (a pending card gift) is not listed: it was never a gift.
"""

import stripe
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.validators import DataRequired

from donors.portal import current_donor, portal_required
from legami import audit
from legami.extensions import db
from legami.forms import AmountField
from legami.i18n import money
from legami.money import MAX_GIFT_CENTS
from legami.validation import Invalid, apply_to_form
from payments import giving, stripe_gateway
from payments.models import Donation, Method, RecurringGift, RecurringStatus, Status

bp = Blueprint("payments_portal", __name__, url_prefix="/portal")

LIVE = (RecurringStatus.ACTIVE, RecurringStatus.PAST_DUE)


class AmountForm(FlaskForm):
    amount = AmountField(
        _l("New monthly amount (€)"), validators=[DataRequired()], maximum=MAX_GIFT_CENTS
    )


def change_amount(gift: RecurringGift, amount_cents: int, by: str) -> None:
    """A new monthly amount, at Stripe first; raises Invalid (nothing changed) or
    giving.PaymentUnavailable (Stripe did not answer: nothing changed here)."""
    org = gift.campaign.organisation
    if gift.status not in LIVE:
        raise Invalid({"amount": _l("This monthly gift is not active.")})
    if amount_cents < giving.MIN_GIFT_CENTS:
        raise Invalid({"amount": _l("The smallest gift is 1 €.")})
    if amount_cents > org.max_gift_cents:
        raise Invalid(
            {"amount": _l("For gifts this large, please contact %(email)s.", email=org.email)}
        )
    if amount_cents == gift.amount_cents:
        raise Invalid({"amount": _l("This is already the amount of your monthly gift.")})
    if gift.stripe_subscription_id:
        try:
            stripe_gateway.change_subscription_amount(gift, amount_cents)
        except stripe.StripeError as exc:
            current_app.logger.warning("amount change of gift %s failed: %s", gift.id, exc)
            raise giving.PaymentUnavailable(str(exc)) from exc
    audit.record(
        None,
        "recurring.amount",
        f"recurring:{gift.id}",
        by=by,
        old=gift.amount_cents,
        new=amount_cents,
    )
    gift.amount_cents = amount_cents
    db.session.commit()


def _amount_form(gift: RecurringGift, **kwargs) -> AmountForm:
    """One form per gift on the page, its fields named apart."""
    return AmountForm(prefix=f"gift-{gift.token}", **kwargs)


def _own_gift(token: str) -> RecurringGift:
    return db.first_or_404(
        select(RecurringGift).where(
            RecurringGift.token == token, RecurringGift.donor_id == current_donor().id
        )
    )


@bp.get("/doni")
@portal_required
def gifts():
    donor = current_donor()
    received = db.session.scalars(
        select(Donation)
        .where(
            Donation.donor_id == donor.id,
            Donation.status.in_((Status.SUCCEEDED, Status.REFUNDED)),
        )
        .order_by(Donation.received_on.desc(), Donation.id.desc())
    ).all()
    transfers = db.session.scalars(
        select(Donation)
        .where(
            Donation.donor_id == donor.id,
            Donation.status == Status.PENDING,
            Donation.method == Method.BANK_TRANSFER,
        )
        .order_by(Donation.created_at.desc())
    ).all()
    return render_template(
        "payments/portal/gifts.html", donor=donor, received=received, transfers=transfers
    )


def _monthly_page(form: AmountForm | None = None, form_gift: RecurringGift | None = None):
    donor = current_donor()
    gifts = db.session.scalars(
        select(RecurringGift)
        .where(
            RecurringGift.donor_id == donor.id,
            RecurringGift.status != RecurringStatus.INCOMPLETE,
        )
        .order_by(RecurringGift.created_at.desc())
    ).all()
    forms = {g.id: _amount_form(g, formdata=None) for g in gifts if g.status in LIVE}
    if form is not None:
        forms[form_gift.id] = form
    status = 422 if form is not None else 200
    return render_template("payments/portal/monthly.html", gifts=gifts, forms=forms), status


@bp.get("/mensili")
@portal_required
def monthly():
    return _monthly_page()


@bp.post("/mensili/<token>/annulla")
@portal_required
def cancel(token: str):
    gift = _own_gift(token)
    try:
        giving.cancel_monthly(gift, by="portal")
    except stripe.StripeError as exc:
        db.session.rollback()
        current_app.logger.warning("cancelling gift %s failed: %s", gift.id, exc)
        flash(
            _("We could not stop the gift right now: please try again in a few minutes."), "error"
        )
    else:
        flash(_("Your monthly gift is stopped. Thank you for all you gave."), "info")
    return redirect(url_for(".monthly"))


@bp.post("/mensili/<token>/importo")
@portal_required
def change(token: str):
    gift = _own_gift(token)
    form = _amount_form(gift)
    if form.validate_on_submit():
        try:
            change_amount(gift, form.amount.cents, by="portal")
        except Invalid as invalid:
            apply_to_form(form, invalid)
        except giving.PaymentUnavailable:
            form.form_errors.append(
                _("We could not change the amount right now: please try again in a few minutes.")
            )
        else:
            flash(
                _("Your monthly gift is now %(amount)s.", amount=money(gift.amount_cents)), "info"
            )
            return redirect(url_for(".monthly"))
    return _monthly_page(form, gift)
