"""Staff forms for matching challenges: setting one up, and recording the matcher's payment."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from legami.forms import AmountField, choices
from legami.money import MAX_GIFT_CENTS, MAX_GOAL_CENTS


class ChallengeForm(FlaskForm):
    campaign_id = SelectField(_l("Campaign"), coerce=int)
    matcher_kind = RadioField(
        _l("The matcher is"),
        default="organisation",
        choices=choices([("organisation", _l("An organisation")), ("person", _l("A person"))]),
    )
    matcher_name = StringField(
        _l("Matcher's name (organisation, or first and last name)"),
        validators=[DataRequired(), Length(max=200)],
    )
    matcher_email = EmailField(_l("Matcher's e-mail"), validators=[DataRequired(), Email()])
    ratio_percent = IntegerField(
        _l("Cents matched per euro given (100 = 1:1, 200 = 1:2, 50 = half)"),
        default=100,
        validators=[DataRequired(), NumberRange(min=1, max=1000)],
    )
    cap = AmountField(_l("Matching pool (€)"), validators=[DataRequired()], maximum=MAX_GOAL_CENTS)
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    one_off = BooleanField(_l("One-off gifts count"), default=True)
    monthly = BooleanField(_l("Monthly instalments count"), default=True)
    first_time_only = BooleanField(_l("Only first-time donors"))
    per_gift_ceiling = AmountField(
        _l("Most matched for one gift (€, optional)"),
        validators=[Optional()],
        maximum=MAX_GIFT_CENTS,
    )
    position = IntegerField(
        _l("Order among the campaign's challenges"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=1000)],
    )
    public_text = TextAreaField(
        _l("Public text (plain)"), validators=[Optional(), Length(max=1000)]
    )


class SettleForm(FlaskForm):
    amount = AmountField(
        _l("Amount received (€)"), validators=[DataRequired()], maximum=MAX_GOAL_CENTS
    )
    received_on = DateField(_l("Date the transfer arrived"), validators=[DataRequired()])
    trace_reference = StringField(
        _l("Transfer reference (CRO/TRN)"), validators=[Optional(), Length(max=100)]
    )


class AskForm(FlaskForm):
    """Only the CSRF token: fixes the amount to request."""
