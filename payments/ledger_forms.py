"""Staff forms of the ledger: an expense, its reversal, its approval, a campaign's strategy
and the yearly plan."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from legami.forms import AmountField, choices
from payments.expenses import MAX_EXPENSE_CENTS

CATEGORY_LABELS = {
    "materials": _l("Materials"),
    "services": _l("Services"),
    "people": _l("People's work"),
    "places": _l("Places and rent"),
    "travel": _l("Travel"),
    "food": _l("Food"),
    "communication": _l("Communication"),
    "other": _l("Other"),
}

STRATEGY_LABELS = {
    "pacts": _l("Generative pacts"),
    "labs": _l("Community labs"),
    "civic_centres": _l("Civic centres"),
    "welfare_lab": _l("Wel(l)fare LAB"),
    "plan": _l("Fundraising and communication plan"),
    "other": _l("Other"),
}

CHANNEL_LABELS = {
    "online": _l("Online"),
    "transfer": _l("Bank transfer"),
    "events": _l("Events and cash"),
    "companies": _l("Companies"),
    "foundations": _l("Foundations"),
}


class ExpenseForm(FlaskForm):
    campaign_id = SelectField(_l("Funds of the campaign"), coerce=int)
    programme = SelectField(_l("For the pact or lab"), default="")
    spent_on = DateField(_l("Date"), validators=[DataRequired()])
    payee = StringField(_l("Paid to"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("Category"), choices=choices(CATEGORY_LABELS.items()))
    description = TextAreaField(
        _l("What it paid for (public)"), validators=[DataRequired(), Length(max=500)]
    )
    amount = AmountField(_l("Amount (€)"), validators=[DataRequired()], maximum=MAX_EXPENSE_CENTS)
    document = FileField(_l("Invoice or receipt (PDF, PNG or JPEG)"))


class ReverseForm(FlaskForm):
    reason = StringField(_l("Why it is reversed"), validators=[DataRequired(), Length(max=500)])


class ApproveForm(FlaskForm):
    pass


class StrategyForm(FlaskForm):
    strategy = SelectField(_l("Strategy"), choices=choices(STRATEGY_LABELS.items()))


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])
    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("To"), validators=[DataRequired()])


class PlanForm(FlaskForm):
    """One amount field per strategy and per channel, added by `plan_form`."""

    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(2000, 2100)])


def plan_form(formdata=None, **data) -> PlanForm:
    class Form(PlanForm):
        pass

    for key, label in STRATEGY_LABELS.items():
        setattr(
            Form, f"strategy_{key}", AmountField(label, maximum=MAX_EXPENSE_CENTS, allow_zero=True)
        )
    for key, label in CHANNEL_LABELS.items():
        setattr(
            Form, f"channel_{key}", AmountField(label, maximum=MAX_EXPENSE_CENTS, allow_zero=True)
        )
    return Form(formdata=formdata, data=data) if formdata is not None else Form(data=data)
