"""Forms of the shell: login, passwords, users, organisations."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from legami.models import EntityType, Role
from legami.money import AmountError, parse_amount

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.STAFF: _l("Staff"),
    Role.TREASURER: _l("Treasurer"),
}

ENTITY_LABELS = {
    EntityType.ODV: _l("ODV (voluntary organisation)"),
    EntityType.APS: _l("APS (social promotion association)"),
    EntityType.OTHER_ETS: _l("Other third-sector entity (ETS)"),
    EntityType.ONLUS: _l("ONLUS"),
    EntityType.SOCIAL_COOPERATIVE: _l("Social cooperative"),
    EntityType.MUNICIPALITY: _l("Municipality"),
    EntityType.OTHER: _l("Other"),
}


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AmountField(StringField):
    """Euros as a person types them, read by `legami.money.parse_amount` up to `maximum`.

    After validation `cents` holds the amount (None when the field was left empty); `data`
    keeps the typed text, so a form shown again shows what was written.
    """

    def __init__(self, label=None, validators=None, *, maximum: int, allow_zero=False, **kw):
        kw.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kw)
        self.maximum, self.allow_zero, self.cents = maximum, allow_zero, None

    def pre_validate(self, form):
        self.cents = None
        if (self.data or "").strip():
            try:
                self.cents = parse_amount(self.data, self.maximum, self.allow_zero)
            except AmountError as exc:
                raise ValidationError(exc.message) from exc


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=10, message=_l("At least 10 characters."))],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=choices((r.value, ROLE_LABELS[r]) for r in Role),
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )


class RolesForm(FlaskForm):
    roles = InviteForm.roles


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Name (with its qualifier: ETS, ODV, APS)"), validators=[DataRequired(), Length(max=200)]
    )
    slug = StringField(
        _l("Short name for addresses"),
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(
                r"^[a-z0-9]+(-[a-z0-9]+)*$", message=_l("Lower-case letters, digits and dashes.")
            ),
        ],
    )
    entity_type = SelectField(
        _l("Entity type"), choices=choices((t.value, label) for t, label in ENTITY_LABELS.items())
    )
    art83_eligible = BooleanField(_l("Gifts give the art. 83 D.Lgs. 117/2017 tax benefit"))
    codice_fiscale = StringField(_l("Codice fiscale"), validators=[DataRequired()])
    partita_iva = StringField(_l("Partita IVA"), validators=[Optional()])
    runts_number = StringField(_l("RUNTS number"), validators=[Optional(), Length(max=40)])
    street = StringField(_l("Street and number"), validators=[DataRequired(), Length(max=200)])
    postal_code = StringField(
        _l("Postal code"),
        validators=[DataRequired(), Regexp(r"^\d{5}$", message=_l("Five digits."))],
    )
    town = StringField(_l("Town"), validators=[DataRequired(), Length(max=100)])
    province = StringField(
        _l("Province"),
        validators=[DataRequired(), Regexp(r"^[A-Za-z]{2}$", message=_l("Two letters, e.g. CR."))],
    )
    legal_representative = StringField(
        _l("Legal representative"), validators=[DataRequired(), Length(max=200)]
    )
    iban = StringField(_l("IBAN"), validators=[Optional()])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    logo = FileField(_l("Logo (JPEG, PNG or WebP)"))
