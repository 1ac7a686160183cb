"""Starting a gift from the public form: donor, pending donation, and the way to pay."""

from collections.abc import Callable
from dataclasses import dataclass

import stripe
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from campaigns.models import Campaign, CampaignStatus
from donors import consent
from donors.identity import DonorDetails, find_or_create
from donors.models import ConsentSource
from legami import audit
from legami.extensions import db
from legami.timeutil import now_utc
from legami.validation import Invalid
from payments import giver_details, references, signals, stripe_gateway, transitions
from payments.models import Donation, Frequency, Method, RecurringGift, RecurringStatus, Status

MIN_GIFT_CENTS = 100
# Stripe's European card fee, as a share the donor may choose to add on top (check).
FEE_RATE_PERMILLE = 15
FEE_FIXED_CENTS = 25


class PaymentUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class GiftRequest:
    campaign: Campaign
    amount_cents: int | None
    frequency: str
    method: str
    donor: DonorDetails
    cover_fee: bool = False
    show_name: bool = False
    dedication: str = ""
    newsletter_opt_in: bool = False
    ip: str = ""  # whence the newsletter box was ticked, kept with the consent request
    # Called with the new gift, flushed, before it is first committed (a fundraising page
    # records that the gift came through it, in the gift's own transaction).
    on_created: Callable[[Donation | RecurringGift], None] | None = None


def fee_for(amount_cents: int) -> int:
    return (amount_cents * FEE_RATE_PERMILLE + 999) // 1000 + FEE_FIXED_CENTS


def validate(req: GiftRequest) -> None:
    errors = {}
    org = req.campaign.organisation
    if req.campaign.status != CampaignStatus.LIVE:
        errors["amount"] = _l("This campaign is not taking gifts.")
    if req.amount_cents is None:
        errors["amount"] = _l("Choose or write an amount.")
    elif req.amount_cents < MIN_GIFT_CENTS:
        errors["other_amount"] = _l("The smallest gift is 1 €.")
    elif req.amount_cents > org.max_gift_cents:
        errors["other_amount"] = _l(
            "For gifts this large, please contact %(email)s.", email=org.email
        )
    if req.method not in (Method.CARD, Method.BANK_TRANSFER):
        errors["method"] = _l("Choose card or bank transfer.")
    if req.frequency == Frequency.MONTHLY and req.method != Method.CARD:
        errors["method"] = _l("Monthly gifts are made by card.")
    if req.method == Method.BANK_TRANSFER and not org.iban:
        errors["method"] = _l("This organisation does not take bank transfers yet.")
    if req.donor.kind == "person" and not (req.donor.first_name and req.donor.last_name):
        errors["last_name"] = _l("Write your first and last name.")
    if req.donor.kind == "organisation" and not req.donor.organisation_name:
        errors["organisation_name"] = _l("Write the organisation's name.")
    if errors:
        raise Invalid(errors)


def start(req: GiftRequest) -> Donation | RecurringGift:
    """Validate, store the donor and the pending gift, and prepare its payment."""
    validate(req)
    total = req.amount_cents + (fee_for(req.amount_cents) if req.cover_fee else 0)
    # An existing donor stays as it is: anyone may type their e-mail (payments.giver_details).
    donor = find_or_create(req.donor, source=f"gift:{req.campaign.slug}", update_existing=False)
    if req.newsletter_opt_in:  # the donor confirms by mail (double opt-in)
        consent.request_newsletter(donor, ConsentSource.FORM, req.ip)
    if req.frequency == Frequency.MONTHLY:
        gift = RecurringGift(donor=donor, campaign=req.campaign, amount_cents=total)
        db.session.add(gift)
        giver_details.keep(gift, req.donor)
        _created(req, gift)
        db.session.commit()
        return gift
    donation = Donation(
        campaign=req.campaign,
        organisation_id=req.campaign.organisation_id,
        donor=donor,
        amount_cents=total,
        fee_cents=total - req.amount_cents,
        method=req.method,
        show_name=req.show_name,
        dedication=req.dedication,
        newsletter_opt_in=req.newsletter_opt_in,
    )
    db.session.add(donation)
    giver_details.keep(donation, req.donor)
    _created(req, donation)
    if req.method == Method.BANK_TRANSFER:
        _assign_reference(donation)
        db.session.flush()
        transitions.send([(signals.transfer_pledged, {"donation_id": donation.id})])
        db.session.commit()
        return donation
    db.session.commit()
    try:
        donation.stripe_payment_intent_id, _ = stripe_gateway.create_payment_intent(donation)
    except stripe.StripeError as exc:
        current_app.logger.warning("PaymentIntent for donation %s failed: %s", donation.id, exc)
        transitions.mark_cancelled(donation)
        db.session.commit()
        raise PaymentUnavailable(str(exc)) from exc
    db.session.commit()
    return donation


def _created(req: GiftRequest, gift: Donation | RecurringGift) -> None:
    if req.on_created is not None:
        db.session.flush()
        req.on_created(gift)


def _assign_reference(donation: Donation) -> None:
    # 33 million codes: a clash is rare; the unique constraint catches the race that remains.
    while True:
        reference = references.new_reference()
        taken = db.session.scalar(
            select(Donation.id).where(Donation.payment_reference == reference)
        )
        if taken is None:
            donation.payment_reference = reference
            return


def client_secret(donation: Donation) -> str | None:
    """The PaymentIntent's secret for the browser, fetched again rather than stored; None when
    Stripe cannot be reached (the page then offers the bank transfer)."""
    try:
        intent = stripe_gateway.client().v1.payment_intents.retrieve(
            donation.stripe_payment_intent_id
        )
    except stripe.StripeError as exc:
        current_app.logger.warning("PaymentIntent of donation %s unreadable: %s", donation.id, exc)
        return None
    return intent.client_secret


def can_switch_to_transfer(donation: Donation) -> bool:
    return (
        donation.method == Method.CARD
        and donation.recurring_gift_id is None
        and donation.status == Status.PENDING
        and bool(donation.organisation.iban)
    )


def switch_to_transfer(donation: Donation) -> bool:
    """The card gift the donor could not pay becomes a bank transfer: the amount they chose
    (without the card fee), the same campaign, donor, wall, dedication and typed details, a
    payment reference, and the bank details mailed. Its PaymentIntent is cancelled first;
    when Stripe says the card payment already went ahead, nothing changes (False). Repeating
    it is harmless: a gift already switched is left as it is."""
    locked = transitions.lock(donation.id)
    if locked is None or not can_switch_to_transfer(locked):
        return locked is not None and locked.method == Method.BANK_TRANSFER
    if locked.stripe_payment_intent_id and not stripe_gateway.cancel_payment_intent(locked):
        db.session.rollback()
        return False
    locked.method = Method.BANK_TRANSFER
    locked.amount_cents -= locked.fee_cents
    locked.fee_cents = 0
    # A late event about the cancelled PaymentIntent must not find this gift any more.
    locked.stripe_payment_intent_id = None
    _assign_reference(locked)
    db.session.flush()
    transitions.send([(signals.transfer_pledged, {"donation_id": locked.id})])
    db.session.commit()
    return True


def by_token(token: str) -> Donation | None:
    return db.session.scalar(select(Donation).where(Donation.token == token))


def is_settled(donation: Donation) -> bool:
    return donation.status != Status.PENDING


def subscribe(gift: RecurringGift, payment_method: str) -> dict:
    """Start the Subscription; the first invoice's payment may still ask the bank (3-D Secure)."""
    if gift.stripe_subscription_id:
        return {"status": gift.status}
    try:
        subscription = stripe_gateway.create_subscription(gift, payment_method)
    except stripe.StripeError as exc:
        current_app.logger.warning("Subscription for gift %s failed: %s", gift.id, exc)
        raise PaymentUnavailable(str(exc)) from exc
    db.session.commit()
    return {"status": subscription.get("status", "incomplete")}


def _cancel_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="legami-cancel-monthly")


def cancel_link(gift: RecurringGift) -> str:
    signed = _cancel_serializer().dumps(gift.token)
    return current_app.config["BASE_URL"] + url_for("payments.cancel_monthly", signed=signed)


def gift_from_cancel_link(signed: str) -> RecurringGift | None:
    try:
        token = _cancel_serializer().loads(signed)
    except BadSignature:
        return None
    return db.session.scalar(select(RecurringGift).where(RecurringGift.token == token))


def cancel_monthly(gift: RecurringGift, by: str, user=None) -> None:
    """Stop future payments; Stripe's subscription.deleted webhook confirms it again."""
    if gift.status == RecurringStatus.CANCELLED:
        return
    if gift.stripe_subscription_id:
        stripe_gateway.cancel_subscription(gift)
    gift.status = RecurringStatus.CANCELLED
    gift.cancelled_at = now_utc()
    audit.record(user, "recurring.cancel", f"recurring:{gift.id}", by=by)
    db.session.commit()
