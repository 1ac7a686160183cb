"""The donor's side: the gift form, paying, the thank-you page; and Stripe's webhook."""

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from campaigns.models import Campaign, CampaignStatus
from donors.identity import DonorDetails
from legami import params
from legami.extensions import csrf, db, limiter
from legami.i18n import current_language
from legami.money import MAX_GIFT_CENTS, format_amount
from legami.validation import Invalid, apply_to_form
from payments import defence, giving, webhooks
from payments.forms import PRESETS_CENTS, DonationForm
from payments.models import Method, RecurringGift

bp = Blueprint("payments", __name__)


def _live_campaign(slug: str) -> Campaign:
    campaign = db.first_or_404(db.select(Campaign).where(Campaign.slug == slug))
    if campaign.status != CampaignStatus.LIVE:
        abort(404)
    return campaign


def _tax_ids(tax_code: str, organisation: bool) -> dict:
    """16 characters: a person's codice fiscale. 11 digits: a partita IVA, which for an
    organisation is usually its codice fiscale too."""
    if len(tax_code) == 16:
        return {"codice_fiscale": tax_code}
    if len(tax_code) == 11:
        return {"partita_iva": tax_code, "codice_fiscale": tax_code if organisation else None}
    return {}


def _request_from(form: DonationForm, campaign: Campaign) -> giving.GiftRequest:
    tax_code = form.tax_code.data or ""
    organisation = form.donor_kind.data == "organisation"
    return giving.GiftRequest(
        campaign=campaign,
        amount_cents=form.amount_cents(),
        frequency=form.frequency.data,
        method=form.method.data,
        cover_fee=form.cover_fee.data,
        show_name=form.show_name.data,
        dedication=(form.dedication.data or "").strip(),
        newsletter_opt_in=form.newsletter.data,
        ip=request.remote_addr or "",
        donor=DonorDetails(
            email=form.email.data,
            kind="organisation" if organisation else "person",
            first_name=(form.first_name.data or "").strip(),
            last_name=(form.last_name.data or "").strip(),
            organisation_name=(form.organisation_name.data or "").strip() if organisation else "",
            **_tax_ids(tax_code, organisation),
            street=(form.street.data or "").strip(),
            postal_code=(form.postal_code.data or "").strip(),
            town=(form.town.data or "").strip(),
            province=(form.province.data or "").strip().upper(),
            language=current_language(),
        ),
    )


@bp.route("/campagne/<slug>/dona", methods=["GET", "POST"])
@limiter.limit(defence.PER_IP, methods=["POST"], on_breach=defence.on_breach)
@limiter.limit(
    defence.PER_EMAIL, key_func=defence.email_key, methods=["POST"], on_breach=defence.on_breach
)
def give(slug: str):
    campaign = _live_campaign(slug)
    form = DonationForm()
    if request.method == "GET":
        _preselect(form)
    elif request.form.get("use_transfer"):  # the one-click way on when cards are down
        form.method.data = Method.BANK_TRANSFER.value
    card_down = False
    if form.validate_on_submit():
        if form.website.data:
            defence.record("honeypot")
            abort(400)
        try:
            gift = giving.start(_request_from(form, campaign))
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        except giving.PaymentUnavailable:
            card_down = True
            form.form_errors.append(
                _(
                    "Card payments are not available right now. Please try "
                    "again in a few minutes, or give by bank transfer."
                )
            )
        else:
            if isinstance(gift, RecurringGift):
                return redirect(url_for(".monthly", token=gift.token))
            if gift.method == Method.BANK_TRANSFER:
                return redirect(url_for(".transfer", token=gift.token))
            return redirect(url_for(".card", token=gift.token))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "payments/give.html",
        campaign=campaign,
        form=form,
        presets=PRESETS_CENTS,
        card_down=card_down and bool(campaign.organisation.iban),
    ), status


def _preselect(form: DonationForm) -> None:
    """`?frequency=monthly&amount=5000`: the thank-you page's invitation to give monthly."""
    if request.args.get("frequency") == "monthly":
        form.frequency.data = "monthly"
        form.method.data = Method.CARD.value
    amount = request.args.get("amount", "")
    if amount in {str(cents) for cents in PRESETS_CENTS}:
        form.amount.data = amount
        return
    try:
        cents = params.parse(amount, params.Bounds(1, MAX_GIFT_CENTS), "amount")
    except params.BadParameter:
        return  # a link's suggestion only: the form still asks
    form.amount.data = "other"
    form.other_amount.data = format_amount(cents)


def _donation(token: str):
    donation = giving.by_token(token)
    if donation is None:
        abort(404)
    return donation


@bp.get("/dona/<token>/carta")
def card(token: str):
    donation = _donation(token)
    if donation.method == Method.BANK_TRANSFER:
        return redirect(url_for(".transfer", token=token))
    if giving.is_settled(donation):
        return redirect(url_for(".thanks", token=token))
    return render_template(
        "payments/card.html",
        donation=donation,
        client_secret=giving.client_secret(donation),
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        can_switch=giving.can_switch_to_transfer(donation),
    )


@bp.post("/dona/<token>/passa-al-bonifico")
@limiter.limit(defence.PER_IP, on_breach=defence.on_breach)
def switch_to_transfer(token: str):
    """The card page's way out when Stripe.js does not load or Stripe answers an error."""
    donation = _donation(token)
    if giving.switch_to_transfer(donation):
        return redirect(url_for(".transfer", token=token))
    return redirect(url_for(".thanks", token=token))


@bp.get("/dona/<token>/bonifico")
def transfer(token: str):
    donation = _donation(token)
    if donation.method != Method.BANK_TRANSFER:
        abort(404)
    return render_template("payments/transfer.html", donation=donation)


@bp.get("/dona/<token>/grazie")
def thanks(token: str):
    return render_template("payments/thanks.html", donation=_donation(token))


@bp.get("/dona/<token>/stato")
def status(token: str):
    donation = _donation(token)
    return jsonify({"status": donation.status})


@bp.get("/dona/mensile/<token>")
def monthly(token: str):
    gift = db.first_or_404(db.select(RecurringGift).where(RecurringGift.token == token))
    return render_template(
        "payments/monthly.html",
        gift=gift,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
    )


@bp.post("/payments/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    payload = request.get_data(cache=False)
    try:
        event = webhooks.verify(
            payload,
            request.headers.get("Stripe-Signature", ""),
            current_app.config["STRIPE_WEBHOOK_SECRET"],
        )
    except webhooks.BadWebhook as exc:
        current_app.logger.warning("refused webhook: %s", exc)
        return jsonify({"error": "invalid webhook"}), 400
    result = webhooks.process(event, payload)
    return jsonify({"received": True, "duplicate": result.duplicate, "outcome": result.outcome})


@bp.post("/dona/mensile/<token>/avvia")
def subscribe(token: str):
    """Stripe.js made a PaymentMethod from the Payment Element; start the Subscription."""
    gift = db.first_or_404(db.select(RecurringGift).where(RecurringGift.token == token))
    payment_method = (request.get_json(silent=True) or {}).get("payment_method", "")
    if not isinstance(payment_method, str) or not payment_method.startswith("pm_"):
        return jsonify({"error": _("The card details are missing.")}), 400
    try:
        result = giving.subscribe(gift, payment_method)
    except giving.PaymentUnavailable:
        return jsonify({"error": _("Card payments are not available right now.")}), 503
    return jsonify(result)


@bp.get("/dona/mensile/<token>/grazie")
def monthly_thanks(token: str):
    gift = db.first_or_404(db.select(RecurringGift).where(RecurringGift.token == token))
    return render_template("payments/monthly_thanks.html", gift=gift)


@bp.route("/dona/mensile/annulla/<signed>", methods=["GET", "POST"])
def cancel_monthly(signed: str):
    gift = giving.gift_from_cancel_link(signed)
    if gift is None:
        abort(404)
    if request.method == "POST":
        giving.cancel_monthly(gift, by="donor")
    return render_template("payments/cancel_monthly.html", gift=gift, signed=signed)
