"""The segment builder: saved donor filters, a live count while editing, the matching donors,
and the donor export (whole list or a segment) as CSV or XLSX."""

import tempfile
from datetime import date

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

from campaigns.models import Campaign, Lab, Pact
from donors import export, giving_figures, segments
from donors.models import Segment, Tag
from legami import params
from legami.access import add_menu, roles_required
from legami.extensions import db
from legami.forms import AmountField, MultiCheckboxField, choices
from legami.models import Organisation, Role
from legami.money import COLUMN_MAX_CENTS, format_amount
from legami.validation import Invalid, apply_to_form

bp = Blueprint("donor_segments", __name__, url_prefix="/staff")

PAGE_SIZE = 50
YES_NO = {"yes": True, "no": False}


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_menu(app, _l("Segments"), "donor_segments.segments", Role.STAFF, group="donors")


def _year(label):
    return IntegerField(
        label, validators=[Optional(), NumberRange(min=segments.MIN_YEAR, max=segments.MAX_YEAR)]
    )


def _whole(label):
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=params.COUNT.high)])


def _either(label, yes, no):
    return SelectField(
        label, default="", choices=choices((("", _l("Either")), ("yes", yes), ("no", no)))
    )


class SegmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=500)])
    tags = MultiCheckboxField(_l("Has any of these tags"), coerce=int)
    campaigns = MultiCheckboxField(_l("Gave to any of these campaigns"), coerce=int)
    pacts = MultiCheckboxField(_l("Gave to a campaign for any of these pacts"), coerce=int)
    labs = MultiCheckboxField(_l("Gave to a campaign for any of these labs"), coerce=int)
    organisations = MultiCheckboxField(
        _l("Gave to a campaign of any of these organisations"), coerce=int
    )
    first_gift_from = DateField(_l("First gift from"), validators=[Optional()])
    first_gift_to = DateField(_l("First gift to"), validators=[Optional()])
    last_gift_from = DateField(_l("Last gift from"), validators=[Optional()])
    last_gift_to = DateField(_l("Last gift to"), validators=[Optional()])
    total_min = AmountField(
        _l("Total given, at least (€)"), maximum=COLUMN_MAX_CENTS, allow_zero=True
    )
    total_max = AmountField(
        _l("Total given, at most (€)"), maximum=COLUMN_MAX_CENTS, allow_zero=True
    )
    total_year_from = _year(_l("Total given from year"))
    total_year_to = _year(_l("Total given to year"))
    gifts_min = _whole(_l("Number of gifts, at least"))
    gifts_max = _whole(_l("Number of gifts, at most"))
    gifts_year_from = _year(_l("Gifts counted from year"))
    gifts_year_to = _year(_l("Gifts counted to year"))
    monthly = _either(
        _l("Monthly gift"), _l("Has an active monthly gift"), _l("Has no active monthly gift")
    )
    lybunt = _year(_l("LYBUNT: gave the year before this year, not in it"))
    sybunt = _year(_l("SYBUNT: gave in some year before this year, not in it"))
    newsletter_consent = _either(
        _l("Newsletter consent"), _l("Has consented"), _l("Has not consented")
    )
    languages = MultiCheckboxField(
        _l("Language is any of"), choices=choices([("it", _l("Italian")), ("en", _l("English"))])
    )
    towns = StringField(
        _l("Town is any of"),
        description=_l("Separated by commas; capitals and accents do not matter."),
        validators=[Optional(), Length(max=2000)],
    )
    count = SubmitField(_l("Count"))
    save = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tags.choices = choices(
            (t.id, t.name) for t in db.session.scalars(select(Tag).order_by(Tag.name))
        )
        self.campaigns.choices = choices(
            (c.id, c.title)
            for c in db.session.scalars(select(Campaign).order_by(Campaign.title, Campaign.id))
        )
        self.pacts.choices = choices(
            (p.id, p.title) for p in db.session.scalars(select(Pact).order_by(Pact.title))
        )
        self.labs.choices = choices(
            (lab.id, lab.title) for lab in db.session.scalars(select(Lab).order_by(Lab.title))
        )
        self.organisations.choices = choices(
            (o.id, o.name)
            for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
        )

    def definition(self) -> dict:
        """The criteria filled in, as a segment definition (not yet validated)."""

        def day(field):
            return field.data.isoformat() if field.data else None

        return {
            "tags": self.tags.data,
            "campaigns": self.campaigns.data,
            "pacts": self.pacts.data,
            "labs": self.labs.data,
            "organisations": self.organisations.data,
            "first_gift": {"from": day(self.first_gift_from), "to": day(self.first_gift_to)},
            "last_gift": {"from": day(self.last_gift_from), "to": day(self.last_gift_to)},
            "total": {
                "min_cents": self.total_min.cents,
                "max_cents": self.total_max.cents,
                "year_from": self.total_year_from.data,
                "year_to": self.total_year_to.data,
            },
            "gifts": {
                "min": self.gifts_min.data,
                "max": self.gifts_max.data,
                "year_from": self.gifts_year_from.data,
                "year_to": self.gifts_year_to.data,
            },
            "monthly": YES_NO.get(self.monthly.data),
            "lybunt": self.lybunt.data,
            "sybunt": self.sybunt.data,
            "newsletter_consent": YES_NO.get(self.newsletter_consent.data),
            "languages": self.languages.data,
            "towns": (self.towns.data or "").split(","),
        }


def _form_data(segment: Segment) -> dict:
    """A saved segment as the form's initial values."""
    d = segment.definition
    total, gifts = d.get("total", {}), d.get("gifts", {})

    def day(key, bound):
        text = d.get(key, {}).get(bound)
        return date.fromisoformat(text) if text else None

    def euros(key):
        return format_amount(total[key]) if key in total else ""

    def either(key):
        return {True: "yes", False: "no"}.get(d.get(key), "")

    return {
        "name": segment.name,
        "description": segment.description,
        **{key: d.get(key, []) for key in segments.ID_LISTS},
        "first_gift_from": day("first_gift", "from"),
        "first_gift_to": day("first_gift", "to"),
        "last_gift_from": day("last_gift", "from"),
        "last_gift_to": day("last_gift", "to"),
        "total_min": euros("min_cents"),
        "total_max": euros("max_cents"),
        "total_year_from": total.get("year_from"),
        "total_year_to": total.get("year_to"),
        "gifts_min": gifts.get("min"),
        "gifts_max": gifts.get("max"),
        "gifts_year_from": gifts.get("year_from"),
        "gifts_year_to": gifts.get("year_to"),
        "monthly": either("monthly"),
        "lybunt": d.get("lybunt"),
        "sybunt": d.get("sybunt"),
        "newsletter_consent": either("newsletter_consent"),
        "languages": d.get("languages", []),
        "towns": ", ".join(d.get("towns", [])),
    }


# The definition's error keys -> the form field showing them.
ERROR_FIELDS = {
    "first_gift.from": "first_gift_from",
    "first_gift.to": "first_gift_to",
    "last_gift.from": "last_gift_from",
    "last_gift.to": "last_gift_to",
    "total": "total_min",
    "total.min_cents": "total_min",
    "total.max_cents": "total_max",
    "total.year_from": "total_year_from",
    "total.year_to": "total_year_to",
    "gifts": "gifts_min",
    "gifts.min": "gifts_min",
    "gifts.max": "gifts_max",
    "gifts.year_from": "gifts_year_from",
    "gifts.year_to": "gifts_year_to",
}


def _count(form: SegmentForm) -> int | None:
    """The number of donors the form's criteria match; None with the errors on the form."""
    if not form.validate():
        return None
    try:
        return segments.count(form.definition())
    except segments.InvalidDefinition as invalid:
        apply_to_form(form, invalid, ERROR_FIELDS)
        return None


def _edit(form: SegmentForm, segment: Segment | None):
    matched = None
    if form.is_submitted() and not form.save.data:
        matched = _count(form)
    elif form.validate_on_submit():
        try:
            saved = segments.save(
                segment, form.name.data, form.description.data, form.definition(), current_user
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid, ERROR_FIELDS)
        else:
            flash(_("Segment saved."), "info")
            return redirect(url_for(".segment", segment_id=saved.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "donors/staff/segment_form.html", form=form, segment=segment, matched=matched
    ), status


@bp.get("/segments", endpoint="segments")
@roles_required(Role.STAFF)
def segments_list():
    rows = db.session.scalars(select(Segment).order_by(Segment.name)).all()
    return render_template("donors/staff/segments.html", segments=rows)


@bp.route("/segments/new", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def new_segment():
    return _edit(SegmentForm(), None)


@bp.route("/segments/<int:segment_id>/edit", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def edit_segment(segment_id: int):
    segment = db.get_or_404(Segment, segment_id)
    # A post carries every field: the saved values fill the form only when it is first shown.
    return _edit(
        SegmentForm(data=None if request.method == "POST" else _form_data(segment)), segment
    )


@bp.post("/segments/count")
@roles_required(Role.STAFF)
def count():
    """The live count while editing: the form posted as it stands -> JSON."""
    form = SegmentForm()
    matched = _count(form)
    if matched is None:
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        text = _("Some criteria need correcting: press Count to see which.")
        return jsonify({"errors": errors, "text": text}), 422
    text = ngettext("%(num)s donor matches.", "%(num)s donors match.", matched)
    return jsonify({"count": matched, "text": text})


@bp.get("/segments/<int:segment_id>")
@roles_required(Role.STAFF)
def segment(segment_id: int):
    segment = db.get_or_404(Segment, segment_id)
    page = segments.page(segment.definition, params.arg("page", params.PAGE, 1), PAGE_SIZE)
    return render_template(
        "donors/staff/segment.html",
        segment=segment,
        page=page,
        figures=giving_figures.summaries([d.id for d in page.items]),
        no_gifts=giving_figures.Summary(),
    )


@bp.post("/segments/<int:segment_id>/delete")
@roles_required(Role.STAFF)
def delete_segment(segment_id: int):
    segments.delete(db.get_or_404(Segment, segment_id))
    flash(_("Segment deleted."), "info")
    return redirect(url_for(".segments"))


@bp.get("/donors/export.<any(csv, xlsx):fmt>")
@roles_required(Role.STAFF)
def export_donors(fmt: str):
    """All donors, or a segment's (`?segment=<id>`), as a CSV or XLSX download."""
    segment = None
    if "segment" in request.args:
        segment = db.get_or_404(
            Segment, params.parse(request.args["segment"], params.ID, "segment")
        )
    definition = segment.definition if segment else {}
    export.record(current_user, segment, fmt)
    name = export.filename(segment, fmt)
    if fmt == "csv":
        return Response(
            stream_with_context(export.csv_chunks(definition)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    out = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it with the response
    export.write_xlsx(definition, out)
    out.seek(0)
    return send_file(out, mimetype=export.XLSX_TYPE, as_attachment=True, download_name=name)
