"""The public donation form and the treasurer's forms."""

from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from legami.forms import AmountField, choices
from legami.i18n import money
from legami.identifiers import InvalidIdentifier, normalise_codice_fiscale, normalise_partita_iva
from legami.money import MAX_GIFT_CENTS
from payments.giving import FEE_FIXED_CENTS, FEE_RATE_PERMILLE, fee_for
from payments.labels import OFFLINE_METHODS
from payments.models import Method

PRESETS_CENTS = (2_000, 5_000, 10_000, 25_000)


class DonationForm(FlaskForm):
    amount = RadioField(_l("Amount"), default="5000", validators=[Optional()])
    other_amount = AmountField(
        _l("Another amount (€)"), validators=[Optional()], maximum=MAX_GIFT_CENTS
    )
    frequency = RadioField(
        _l("How often"),
        default="one_off",
        choices=choices([("one_off", _l("Once")), ("monthly", _l("Every month"))]),
    )
    method = RadioField(
        _l("Payment method"),
        default="card",
        choices=choices(
            [(Method.CARD.value, _l("Card")), (Method.BANK_TRANSFER.value, _l("Bank transfer"))]
        ),
    )
    donor_kind = RadioField(
        _l("I give as"),
        default="person",
        choices=choices(
            [("person", _l("A person")), ("organisation", _l("A company or organisation"))]
        ),
    )
    # `autocomplete` names what each field holds (HTML's autofill tokens): browsers fill in
    # the giver's details, and assistive technology announces them.
    first_name = StringField(
        _l("First name"),
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "given-name"},
    )
    last_name = StringField(
        _l("Last name"),
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "family-name"},
    )
    organisation_name = StringField(
        _l("Organisation name"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    tax_code = StringField(
        _l("Codice fiscale or partita IVA (for the tax receipt)"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "off"},
    )
    street = StringField(
        _l("Street and number"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "street-address"},
    )
    postal_code = StringField(
        _l("Postal code"),
        validators=[Optional(), Length(max=10)],
        render_kw={"autocomplete": "postal-code"},
    )
    town = StringField(
        _l("Town"),
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "address-level2"},
    )
    province = StringField(
        _l("Province"),
        validators=[Optional(), Length(max=2)],
        render_kw={"autocomplete": "address-level1"},
    )
    show_name = BooleanField(_l("Show my name and my gift on the donor wall"))
    dedication = StringField(_l("Dedication (optional)"), validators=[Optional(), Length(max=300)])
    cover_fee = BooleanField(_l("I add the processing fee"))
    newsletter = BooleanField(_l("I want to receive the newsletter"))
    # A field people never see: bots fill it in.
    website = StringField(_l("Leave this empty"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.amount.choices = choices([(str(c), str(c)) for c in PRESETS_CENTS] + [("other", "")])
        example = PRESETS_CENTS[0]
        self.cover_fee.label.text = _(
            "I add the processing fee: %(rate)s of the gift plus %(fixed)s (%(fee)s on %(amount)s)",
            rate=format_percent(FEE_RATE_PERMILLE / 1000, "#,##0.#%"),
            fixed=money(FEE_FIXED_CENTS),
            fee=money(fee_for(example)),
            amount=money(example),
        )

    def amount_cents(self) -> int | None:
        if self.amount.data == "other" or not self.amount.data:
            return self.other_amount.cents
        return int(self.amount.data)

    def validate_tax_code(self, field):
        value = (field.data or "").strip().upper().replace(" ", "")
        if not value:
            field.data = ""
            return
        try:
            field.data = (
                normalise_partita_iva(value) if value.isdigit() else normalise_codice_fiscale(value)
            )
        except InvalidIdentifier as exc:
            raise ValidationError(_l("This is not a valid codice fiscale or partita IVA.")) from exc


class ConfirmTransferForm(FlaskForm):
    received_on = DateField(_l("Date the money arrived"), validators=[DataRequired()])


class GiftDateForm(FlaskForm):
    received_on = DateField(_l("Date of the gift"), validators=[DataRequired()])


class TraceForm(FlaskForm):
    """The payment's trace and joint holder (payments.trace.save_trace checks them)."""

    trace_reference = StringField(
        _l("Payment reference (CRO/TRN, end-to-end id, cheque or postal receipt number)"),
        validators=[Optional(), Length(max=100)],
    )
    cheque_bank = StringField(_l("Cheque's bank"), validators=[Optional(), Length(max=100)])
    joint_email = EmailField(
        _l("Other holder of a joint account (their e-mail)"),
        description=_l("The gift then counts half for each holder."),
        validators=[Optional(), Email(), Length(max=254)],
    )


class RefundForm(FlaskForm):
    amount = AmountField(
        _l("Amount to refund (€)"), validators=[DataRequired()], maximum=MAX_GIFT_CENTS
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)])


class ReviewForm(FlaskForm):
    """The treasurer's decision on a gift in review (payments.review): accept or reject."""

    decision = HiddenField(validators=[DataRequired()])


class OfflineGiftForm(FlaskForm):
    campaign_id = SelectField(_l("Campaign"), coerce=int)
    method = RadioField(
        _l("Method"),
        choices=choices((m.value, label) for m, label in OFFLINE_METHODS.items()),
        default=Method.CASH.value,
    )
    amount = AmountField(_l("Amount (€)"), validators=[DataRequired()], maximum=MAX_GIFT_CENTS)
    received_on = DateField(_l("Date received"), validators=[DataRequired()])
    first_name = StringField(_l("First name"), validators=[Optional(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])


class StatementForm(FlaskForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    format = RadioField(
        _l("Format"),
        default="camt053",
        choices=choices([("camt053", _l("CAMT.053 (XML)")), ("csv", _l("CSV"))]),
    )
    file = FileField(_l("Statement file"), validators=[FileRequired()])
    date_column = StringField(
        _l("CSV: booking date column"), default="Data", validators=[Length(max=100)]
    )
    value_date_column = StringField(
        _l("CSV: value date column (optional)"), default="Data valuta", validators=[Length(max=100)]
    )
    date_format = StringField(
        _l("CSV: date format"), default="%d/%m/%Y", validators=[Length(max=20)]
    )
    amount_column = StringField(
        _l("CSV: amount column (or Avere and Dare below)"),
        default="Importo",
        validators=[Length(max=100)],
    )
    credit_column = StringField(
        _l("CSV: credits column (Avere)"), default="", validators=[Length(max=100)]
    )
    debit_column = StringField(
        _l("CSV: debits column (Dare)"), default="", validators=[Length(max=100)]
    )
    description_column = StringField(
        _l("CSV: causale column"), default="Causale", validators=[Length(max=100)]
    )
    payer_column = StringField(
        _l("CSV: payer column (optional)"), default="Ordinante", validators=[Length(max=100)]
    )
    currency_column = StringField(
        _l("CSV: currency column (optional)"), default="", validators=[Length(max=100)]
    )
    delimiter = StringField(_l("CSV: delimiter"), default=";", validators=[Length(min=1, max=1)])


class MatchLineForm(FlaskForm):
    reference = StringField(_l("Reference of the gift (LG-…)"), validators=[DataRequired()])
