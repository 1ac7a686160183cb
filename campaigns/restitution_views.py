"""Staff record what pacts and labs give back: one page per pact or lab, with its timeline
and the form for a new entry."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from campaigns import restitution
from campaigns.models import Lab, Pact
from campaigns.outcome_models import LAB_KINDS, PACT_KINDS
from campaigns.restitution import KIND_LABELS
from legami.access import roles_required
from legami.extensions import db
from legami.forms import choices
from legami.models import Role
from legami.validation import Invalid, apply_to_form

bp = Blueprint("campaigns_restitution", __name__, url_prefix="/staff/restituzione")

PROGRAMMES = {"patti": Pact, "laboratori": Lab}


class OutcomeForm(FlaskForm):
    happened_on = DateField(_l("Date"), validators=[DataRequired()])
    kind = SelectField(_l("Kind"))
    quantity = IntegerField(
        _l("Quantity (hours, tasks, sessions, participants)"),
        validators=[DataRequired(), NumberRange(1, restitution.MAX_QUANTITY)],
    )
    description = TextAreaField(
        _l("Public description (never the person's name or anything that identifies them)"),
        validators=[DataRequired(), Length(max=500)],
    )


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["outcome_kind_label"] = lambda kind: KIND_LABELS.get(kind, kind)


@bp.route("/<programme>/<int:row_id>", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def outcomes(programme: str, row_id: int):
    if programme not in PROGRAMMES:
        abort(404)
    row = db.get_or_404(PROGRAMMES[programme], row_id)
    is_pact = programme == "patti"
    form = OutcomeForm()
    form.kind.choices = choices(
        (k.value, KIND_LABELS[k]) for k in (PACT_KINDS if is_pact else LAB_KINDS)
    )
    if form.validate_on_submit():
        try:
            restitution.record(
                restitution.OutcomeRequest(
                    happened_on=form.happened_on.data,
                    kind=form.kind.data,
                    quantity=form.quantity.data,
                    description=form.description.data,
                    pact=row if is_pact else None,
                    lab=None if is_pact else row,
                ),
                current_user,
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(_("Entry added to the timeline."), "info")
            return redirect(url_for(".outcomes", programme=programme, row_id=row_id))
    timeline = restitution.timeline(pacts=[row]) if is_pact else restitution.timeline(labs=[row])
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "campaigns/staff/outcomes.html",
        row=row,
        programme=programme,
        form=form,
        timeline=timeline,
        totals=restitution.totals(timeline),
    ), status
