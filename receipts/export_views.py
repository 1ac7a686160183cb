"""The treasurer's exports page: ZIP of PDFs, ledger, reconciliation, precompilata data set.
Every download is written to the audit log before the file is made."""

import tempfile
from datetime import date

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaigns.models import Campaign
from legami import audit, params
from legami.access import roles_required
from legami.csv_export import XLSX_TYPE, write_xlsx
from legami.extensions import db
from legami.models import Organisation, Role
from legami.timeutil import today_rome
from receipts import annual_views, exports

bp = Blueprint("receipts_exports", __name__, url_prefix="/staff/receipts/exports")

PAGE_SIZE = 50


def _id(name: str) -> int | None:
    return params.arg(name, params.ID)


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _scope() -> exports.Scope:
    return exports.Scope(
        year=params.arg("year", params.YEAR),
        date_from=_day("from"),
        date_to=_day("to"),
        organisation_id=_id("organisation"),
        campaign_id=_id("campaign"),
    )


def _year() -> int:
    return params.arg("year", params.YEAR, today_rome().year - 1)


# File names in the user's language: (Italian, English) for each part.
NAMES = {
    "ricevute": ("ricevute", "receipts"),
    "registro-ricevute": ("registro-ricevute", "receipts-ledger"),
    "year": ("anno", "year"),
    "from": ("dal", "from"),
    "to": ("al", "to"),
    "organisation": ("ente", "organisation"),
    "campaign": ("campagna", "campaign"),
}


def _name(scope: exports.Scope, what: str, ext: str) -> str:
    """ricevute-anno-2026-ente-3.zip for Italian users, receipts-year-2026-organisation-3.zip
    for English ones."""
    lang = 1 if str(get_locale() or "it").startswith("en") else 0
    parts = [NAMES[what][lang]]
    parts += [f"{NAMES[k][lang]}-{v}" for k, v in scope.describe().items() if v]
    return "-".join(str(p) for p in parts) + f".{ext}"


def _attachment(body, name: str, mimetype: str = "text/csv") -> Response:
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("")
@roles_required(Role.TREASURER)
def index():
    return render_template(
        "receipts/staff/exports.html",
        year=_year(),
        organisations=db.session.scalars(select(Organisation).order_by(Organisation.name)).all(),
        campaigns=db.session.scalars(select(Campaign).order_by(Campaign.title)).all(),
    )


@bp.get("/receipts.zip")
@roles_required(Role.TREASURER)
def receipts_zip():
    scope = _scope()
    exports.record(current_user, "zip", **scope.describe())
    out = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it with the response
    exports.write_zip(scope, out)
    out.seek(0)
    return send_file(
        out,
        mimetype="application/zip",
        as_attachment=True,
        download_name=_name(scope, "ricevute", "zip"),
    )


@bp.get("/ledger.<any(csv, xlsx):fmt>")
@roles_required(Role.TREASURER)
def ledger(fmt: str):
    scope = _scope()
    exports.record(current_user, "ledger", format=fmt, **scope.describe())
    name = _name(scope, "registro-ricevute", fmt)
    if fmt == "csv":
        return _attachment(stream_with_context(exports.ledger_csv(scope)), name)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it with the response
    write_xlsx("Receipts", exports.LEDGER_HEADER, exports.ledger_rows(scope), out)
    out.seek(0)
    return send_file(out, mimetype=XLSX_TYPE, as_attachment=True, download_name=name)


@bp.get("/reconciliation")
@roles_required(Role.TREASURER)
def reconciliation():
    year, organisation_id = _year(), _id("organisation")
    exports.record(current_user, "reconciliation", year=year, organisation=organisation_id)
    return render_template(
        "receipts/staff/reconciliation.html",
        year=year,
        organisation_id=organisation_id,
        organisations=db.session.scalars(select(Organisation).order_by(Organisation.name)).all(),
        totals=exports.reconciliation(year, organisation_id),
        issuable=exports.ISSUABLE,
    )


@bp.get("/reconciliation/below-threshold")
@roles_required(Role.TREASURER)
def below_threshold():
    """The gifts of the reconciliation's "below the threshold" line, each with a button to
    issue its receipt."""
    return unreceipted("below_threshold")


@bp.get("/reconciliation/without-receipt/<any(due, annual_policy, not_deductible, missing):reason>")
@roles_required(Role.TREASURER)
def unreceipted(reason: str):
    """The gifts of one line of the reconciliation's "without a valid receipt" table."""
    year, organisation_id = _year(), _id("organisation")
    page = db.paginate(
        exports.unreceipted_gifts(year, organisation_id, reason),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template(
        "receipts/staff/below_threshold.html",
        year=year,
        organisation_id=organisation_id,
        reason=reason,
        issuable=reason in exports.ISSUABLE,
        page=page,
    )


@bp.post("/reconciliation/without-receipt/<any(not_deductible, missing):reason>/issue")
@roles_required(Role.TREASURER)
def issue_missing(reason: str):
    """Issue the receipts of one line in a background run; its page shows the progress."""
    year = params.arg("year", params.YEAR, today_rome().year, args=request.form)
    organisation_id = params.arg("organisation", params.ID, args=request.form)
    audit.record(
        current_user,
        "receipts.issue_missing",
        "receipts",
        year=year,
        organisation=organisation_id,
        reason=reason,
    )
    db.session.commit()
    job_id = annual_views.start(year, organisation_id, reason)
    return redirect(url_for("receipts_annual.job", job_id=job_id))


@bp.get("/precompilata.csv")
@roles_required(Role.TREASURER)
def precompilata():
    """The prospetto (not the file the Agenzia receives: see receipts.exports)."""
    return _precompilata(
        "prospetto-precompilata", lambda year, org: exports.prospetto_csv(year, org)
    )


@bp.get("/precompilata-worksheet.csv")
@roles_required(Role.TREASURER)
def worksheet():
    return _precompilata(
        "foglio-precompilata", lambda year, org: exports.worksheet_csv(year, org.id)
    )


@bp.get("/precompilata-without-codice-fiscale.csv")
@roles_required(Role.TREASURER)
def without_tax_code():
    return _precompilata(
        "precompilata-esclusi", lambda year, org: exports.left_out_csv(year, org.id)
    )


def _precompilata(what: str, make):
    year, organisation = _year(), db.session.get(Organisation, _id("organisation") or 0)
    if organisation is None:
        flash(_("Choose the organisation whose data set you need."), "error")
        return redirect(url_for(".index", year=year))
    exports.record(current_user, "precompilata", file=what, year=year, organisation=organisation.id)
    return _attachment(make(year, organisation), f"{what}-{organisation.slug}-{year}.csv")
