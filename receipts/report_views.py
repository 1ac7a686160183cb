"""Staff download the funder report (PDF, XLSX) for a period and the annual public report
(PDF) of an organisation. Each download is written to the audit log."""

from datetime import date

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from legami import audit, params
from legami.access import roles_required
from legami.csv_export import XLSX_TYPE
from legami.extensions import db
from legami.forms import choices
from legami.models import Organisation, Role
from legami.timeutil import today_rome
from payments import plan
from payments.ledger_forms import PeriodForm
from receipts import annual_report, funder_report

bp = Blueprint("receipts_reports", __name__, url_prefix="/staff/rapporti")


def init_app(app) -> None:
    from legami.access import add_menu

    app.register_blueprint(bp)
    add_menu(
        app,
        _l("Funder and annual reports"),
        "receipts_reports.reports",
        Role.TREASURER,
        Role.STAFF,
        group="fundraising",
    )


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def _form() -> PeriodForm:
    form = PeriodForm(request.args)
    form.organisation_id.choices = choices(
        [(0, _l("The whole network"))] + [(o.id, o.name) for o in _organisations()]
    )
    return form


@bp.get("/")
@roles_required(Role.TREASURER, Role.STAFF)
def reports():
    year = today_rome().year
    form = PeriodForm(
        formdata=None, start=date(year, 1, 1), end=date(year, 12, 31), organisation_id=0
    )
    form.organisation_id.choices = _form().organisation_id.choices
    return render_template(
        "receipts/reports/index.html", form=form, organisations=_organisations(), year=year
    )


def _period():
    form = _form()
    if not form.validate() or form.end.data < form.start.data:
        abort(400, "Give a period: start and end dates, the end not before the start.")
    organisation = None
    if form.organisation_id.data:
        organisation = db.get_or_404(Organisation, form.organisation_id.data)
    return plan.period(form.start.data, form.end.data, organisation)


def _download(data: bytes, mimetype: str, name: str, action: str, **detail) -> Response:
    audit.record(current_user, action, name, **detail)
    db.session.commit()
    return Response(
        data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("/finanziatore.<kind>")
@roles_required(Role.TREASURER, Role.STAFF)
def funder(kind: str):
    if kind not in ("pdf", "xlsx"):
        abort(404)
    report = _period()
    name = f"funder-report-{report.start.isoformat()}-{report.end.isoformat()}.{kind}"
    if kind == "pdf":
        return _download(funder_report.pdf(report), "application/pdf", name, "report.funder")
    return _download(funder_report.xlsx(report), XLSX_TYPE, name, "report.funder")


@bp.get("/annuale/<int:organisation_id>/<int:year>.pdf")
@roles_required(Role.TREASURER, Role.STAFF)
def annual(organisation_id: int, year: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    params.parse(str(year), params.YEAR, "year")
    language = request.args.get("lang", "it")
    if language not in annual_report.LANGUAGES:
        abort(400, "lang is it or en.")
    name = f"annual-report-{organisation.id}-{year}-{language}.pdf"
    return _download(
        annual_report.pdf(organisation, year, language), "application/pdf", name, "report.annual"
    )
