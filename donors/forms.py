"""Staff forms of the donor record: details, a further e-mail, an interaction."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from donors.record_labels import FIELD_LABELS, INTERACTION, KIND
from legami.forms import choices
from legami.i18n import LANGUAGES


def _text(name: str, max_length: int, **kwargs) -> StringField:
    return StringField(
        FIELD_LABELS[name], validators=[Optional(), Length(max=max_length)], **kwargs
    )


class DonorForm(FlaskForm):
    kind = RadioField(
        FIELD_LABELS["kind"],
        default="person",
        choices=choices((k.value, label) for k, label in KIND.items()),
    )
    first_name = _text("first_name", 100)
    last_name = _text("last_name", 100)
    organisation_name = _text("organisation_name", 200)
    email = EmailField(FIELD_LABELS["email"], validators=[DataRequired(), Email(), Length(max=254)])
    phone = _text("phone", 40)
    codice_fiscale = _text("codice_fiscale", 20)
    partita_iva = _text("partita_iva", 20)
    street = _text("street", 200)
    postal_code = _text("postal_code", 10)
    town = _text("town", 100)
    province = _text("province", 2)
    country = _text("country", 2, default="IT")
    language = SelectField(
        FIELD_LABELS["language"], choices=choices(LANGUAGES.items()), default="it"
    )
    tags = StringField(
        FIELD_LABELS["tags"],
        description=_l("Separated by commas, e.g. volunteer, 2024 dinner"),
        validators=[Optional()],
    )
    notes = TextAreaField(FIELD_LABELS["notes"], validators=[Optional()])


class EmailForm(FlaskForm):
    email = EmailField(
        _l("Another e-mail address"), validators=[DataRequired(), Email(), Length(max=254)]
    )


class InteractionForm(FlaskForm):
    kind = SelectField(
        _l("Kind"), choices=choices((k.value, label) for k, label in INTERACTION.items())
    )
    occurred_on = DateField(_l("Date"), validators=[DataRequired()])
    summary = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=5000)])
