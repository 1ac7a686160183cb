"""The treasurer's annual receipts page: choose a year, start, follow the progress; the same
runs and progress page issue the reconciliation's missing per-gift receipts (`reason`).

A run is a durable job (legami.jobs, kind `receipts.annual`): the request only creates its
row, a `legami worker` (any process, any machine; embedded in `legami run`) runs it, and
the progress page reads the row, so any web worker serves it. A run taken over after its
worker died, or started again, issues only what is missing (receipts.annual and
receipts.exports skip what is committed): no receipt is issued twice.
"""

import os

from flask import Blueprint, abort, jsonify, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange

from legami import jobs
from legami.access import roles_required
from legami.extensions import db
from legami.models import Organisation, Role
from legami.timeutil import today_rome
from receipts import annual, exports

bp = Blueprint("receipts_annual", __name__, url_prefix="/staff/receipts/annual")

KIND = "receipts.annual"


def init_app(app) -> None:
    app.register_blueprint(bp)
    jobs.add_job_kind(app, KIND, run, _l("Receipts"), roles=(Role.TREASURER,))


def run(running: jobs.RunningJob) -> dict:
    """The job: issue the year's annual receipts (and store their PDFs in worker
    processes), or the missing receipts of one reconciliation line."""
    params = running.parameters
    year, organisation_id, reason = params["year"], params["organisation_id"], params["reason"]
    if reason != "annual":
        issued = exports.issue_missing(year, organisation_id, reason, running.progress)
        return {"issued": issued}
    outcome = annual.issue_annual(year, organisation_id, os.cpu_count() or 1, running.progress)
    return {"issued": outcome.issued, "rendered": outcome.rendered, "skipped": outcome.skipped}


def start(year: int, organisation_id: int | None, reason: str = "annual") -> int:
    """Queue a run (committed); returns its job id. `reason`: "annual", or one of
    exports.ISSUABLE for those gifts' receipts."""
    job = jobs.enqueue(
        KIND,
        {
            "year": year,
            "organisation_id": organisation_id,
            "reason": reason,
            # Receipts are numbered in the year they are issued (gifts of 2025 get
            # 2026/...): the exports' ZIP by year goes by this one.
            "numbered_in": today_rome().year,
        },
        started_by_id=current_user.id,
    )
    db.session.commit()
    return job.id


class AnnualForm(FlaskForm):
    year = IntegerField(_l("Year of the gifts"), validators=[NumberRange(min=2000, max=2100)])
    organisation = SelectField(_l("Organisation"), coerce=int)


def _form() -> AnnualForm:
    form = AnnualForm(year=today_rome().year - 1)
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(Organisation.name)
    ).all()
    form.organisation.choices = [(0, _l("Every organisation"))] + [
        (row.id, row.name) for row in organisations
    ]
    return form


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.TREASURER)
def annual_receipts():
    form = _form()
    if form.validate_on_submit():
        job_id = start(form.year.data, form.organisation.data or None)
        return redirect(url_for(".job", job_id=job_id))
    status = 422 if form.errors else 200
    return render_template("receipts/staff/annual.html", form=form), status


def _run_of(job_id: int) -> dict:
    """The run as the page shows it, read from its job row ("running" until it ends)."""
    job = db.session.get(jobs.Job, job_id)
    if job is None or job.kind != KIND:
        abort(404)
    params, result = job.parameters, job.result or {}
    return {
        "year": params["year"],
        "organisation_id": params["organisation_id"],
        "kind": params["reason"],
        "numbered_in": params["numbered_in"],
        "status": "running" if job.active else job.status,
        "done": job.done,
        "total": job.total,
        "issued": result.get("issued", 0),
        "rendered": result.get("rendered", 0),
        "skipped": result.get("skipped", 0),
        "error": job.error if job.status == jobs.JobStatus.FAILED else "",
    }


@bp.get("/<int:job_id>")
@roles_required(Role.TREASURER)
def job(job_id: int):
    return render_template("receipts/staff/annual_job.html", job=_run_of(job_id), job_id=job_id)


@bp.get("/<int:job_id>/status")
@roles_required(Role.TREASURER)
def status(job_id: int):
    """How far the run is, for the progress bar (static/js/annual-receipts.js)."""
    return jsonify(_run_of(job_id))
