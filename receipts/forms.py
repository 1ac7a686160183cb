"""The treasurer's receipt forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class VoidForm(FlaskForm):
    reason = StringField(
        _l("Reason (printed on the voided receipt)"),
        validators=[DataRequired(message=_l("Say why the receipt is voided.")), Length(max=300)],
    )
