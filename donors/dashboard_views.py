"""The fundraising dashboard: figures per year, by month, by campaign, pact and lab."""

from flask import Blueprint, render_template, request
from flask_babel import format_date, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from donors import dashboard as figures
from donors import dashboard_cache, home
from donors.charts import Series, bar_chart, line_chart
from legami.access import add_home, add_menu, roles_required
from legami.extensions import db
from legami.i18n import money
from legami.models import Organisation, Role
from legami.timeutil import today_rome

bp = Blueprint("donor_dashboard", __name__, url_prefix="/staff/donors")

YEARS_SHOWN = 5
MAX_YEARS = 20
TOP = 10  # campaigns, pacts or labs drawn in a chart; the table lists them all


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_menu(
        app,
        _l("Fundraising dashboard"),
        "donor_dashboard.dashboard",
        Role.STAFF,
        Role.TREASURER,
        group="fundraising",
    )
    add_home(app, "donors/staff/home.html", home.panel, Role.STAFF, Role.TREASURER, order=90)


class DashboardForm(FlaskForm):
    """The GET filter: a range of years and, optionally, one organisation."""

    class Meta:
        csrf = False

    year_from = IntegerField(_l("From year"), validators=[Optional(), NumberRange(1900, 2200)])
    year_to = IntegerField(_l("To year"), validators=[Optional(), NumberRange(1900, 2200)])
    organisation = SelectField(_l("Organisation"), default="", validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        """Valid, with the years left empty filled in: the last five years up to this one."""
        if not super().validate(extra_validators):
            return False
        this_year = today_rome().year
        self.year_to.data = self.year_to.data or max(this_year, self.year_from.data or 0)
        self.year_from.data = self.year_from.data or self.year_to.data - YEARS_SHOWN + 1
        if self.year_to.data < self.year_from.data:
            self.year_to.errors.append(_("The last year comes before the first."))
        elif self.year_to.data - self.year_from.data >= MAX_YEARS:
            self.year_to.errors.append(_("Choose at most %(n)s years.", n=MAX_YEARS))
        return not self.year_to.errors


@bp.get("/dashboard")
@roles_required(Role.STAFF, Role.TREASURER)
def dashboard():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    form = DashboardForm(formdata=request.args)
    form.organisation.choices = [("", _("All organisations"))] + [
        (str(o.id), o.name) for o in organisations
    ]
    if not form.validate():
        return render_template("donors/staff/dashboard.html", form=form, d=None), 422
    organisation_id = int(form.organisation.data) if form.organisation.data else None
    d, computed_at = dashboard_cache.figures(
        form.year_from.data,
        form.year_to.data,
        organisation_id,
        today_rome(),
        fresh=request.args.get("fresh") == "1",
    )
    return render_template(
        "donors/staff/dashboard.html", form=form, d=d, charts=_charts(d), computed_at=computed_at
    )


def _charts(d: figures.Dashboard) -> dict:
    years = [str(y.year) for y in d.years]
    charts = {
        "donors": bar_chart(
            "chart-donors",
            _("Donors per year"),
            _("Donors, new, retained and lapsed donors for each year; figures in the table."),
            years,
            [
                Series(_("Donors"), [y.donors for y in d.years]),
                Series(_("New"), [y.new for y in d.years]),
                Series(_("Retained"), [y.retained for y in d.years]),
                Series(_("Lapsed"), [y.lapsed for y in d.years]),
            ],
        ),
        "retention": line_chart(
            "chart-retention",
            _("Retention rate"),
            _("Share of the previous year's donors who gave again; figures in the table."),
            years,
            [Series(_("Retention rate"), [y.retention_rate or 0 for y in d.years])],
            fmt=lambda v: format_percent(v),
        ),
        "months": line_chart(
            "chart-months",
            _("Income by month"),
            _("Income net of refunds for each month; figures in the table."),
            [format_date(m.first_day, "MMM yy") for m in d.months],
            [Series(_("Income"), [m.income_cents for m in d.months])],
            fmt=lambda v: money(round(v / 100) * 100),
        ),
    }
    for key, title, shares in (
        ("campaigns", _("Income by campaign"), d.campaigns),
        ("pacts", _("Income by pact"), d.pacts),
        ("labs", _("Income by lab"), d.labs),
    ):
        top = shares[:TOP]
        charts[key] = bar_chart(
            f"chart-{key}",
            title,
            _("The %(n)s largest, net of refunds; all of them in the table.", n=len(top)),
            [s.title for s in top],
            [Series(_("Income"), [s.income_cents for s in top])],
            fmt=money,
        )
    return charts
