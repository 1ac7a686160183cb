"""The treasurer's receipt forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, Optional

from legami.forms import choices
from receipts.labels import DELIVERY, POLICY


class VoidForm(FlaskForm):
    reason = StringField(
        _l("Reason (printed on the voided receipt)"),
        validators=[DataRequired(message=_l("Say why the receipt is voided.")), Length(max=300)],
    )


class SettingsForm(FlaskForm):
    """An organisation's receipt settings (receipts.settings.save checks and stores them)."""

    policy = SelectField(
        _l("Receipts issued"), choices=choices((p.value, name) for p, name in POLICY.items())
    )
    threshold = StringField(
        _l("No per-gift receipt below (€)"),
        description=_l("0 for every gift; a donor can still ask for one."),
    )
    number_format = StringField(
        _l("Number format"),
        description=_l(
            "{number} is the yearly number, with an optional width such as {number:06d};"
            " {year} the year. E.g. {year}/{number:06d} gives 2026/000123."
        ),
    )
    say_copy_on_redownload = BooleanField(_l('Downloaded receipts say "COPIA" (copy)'))
    delivery = SelectField(
        _l("Receipt mail"), choices=choices((d.value, name) for d, name in DELIVERY.items())
    )
    # Not `signature`: the form is filled from the settings row, where that is a file name.
    signature_image = FileField(_l("Legal representative's signature (JPEG, PNG or WebP)"))
    remove_signature = BooleanField(_l("Print no signature image"))
    stamp_duty_line = TextAreaField(
        _l("Stamp duty line (issuers outside the third sector, above 77.47 €)"),
        validators=[Length(max=500)],
    )
    legal_basis = TextAreaField(
        _l("Tax regime printed instead of art. 83 (e.g. Art Bonus)"),
        validators=[Length(max=500)],
    )


class SealForm(FlaskForm):
    """The organisation's seal: a PKCS#12 certificate and a time-stamping authority."""

    seal_file = FileField(_l("Signing certificate (PKCS#12: .p12 or .pfx)"))
    seal_password = PasswordField(_l("Its password"), validators=[Length(max=200)])
    remove_seal = BooleanField(_l("Stop sealing receipts"))
    tsa_url = StringField(
        _l("Time-stamping authority (RFC 3161 URL)"),
        description=_l("Sealed receipts carry its timestamp. Leave empty for none."),
        validators=[Optional(), URL(require_tld=False), Length(max=300)],
    )
