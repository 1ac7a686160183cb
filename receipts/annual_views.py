"""The treasurer's annual receipts page: choose a year, start, follow the progress; the same
runs and progress page issue the reconciliation's missing per-gift receipts (`kind`).

A run is a background thread with its own app context (its PDFs rendered by worker
processes, see receipts.annual). Its progress lives in `JOBS`, an in-memory registry of
this process keyed by a job id: the progress page must be served by the process that
started the run (a restart forgets it; re-running is safe and issues only what is missing).
"""

import os
import threading
import uuid
from dataclasses import asdict, dataclass, field

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange

from legami.access import roles_required
from legami.extensions import db
from legami.models import Organisation, Role
from legami.timeutil import today_rome
from receipts import annual, exports

bp = Blueprint("receipts_annual", __name__, url_prefix="/staff/receipts/annual")


@dataclass
class Job:
    year: int
    organisation_id: int | None
    # "annual": the annual receipts; or a reason of exports.ISSUABLE: those gifts' receipts.
    kind: str = "annual"
    status: str = "running"  # running, done, failed
    done: int = 0
    total: int = 0
    issued: int = 0
    rendered: int = 0
    skipped: int = 0
    # Receipts are numbered in the year they are issued (gifts of 2025 get 2026/...): the
    # exports' ZIP by year goes by this one.
    numbered_in: int = field(default_factory=lambda: today_rome().year)


JOBS: dict[str, Job] = {}
THREADS: dict[str, threading.Thread] = {}


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


def _run(app, job_id: str) -> None:
    job = JOBS[job_id]

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    with app.app_context():
        try:
            if job.kind != "annual":
                job.issued = exports.issue_missing(
                    job.year, job.organisation_id, job.kind, progress
                )
                job.status = "done"
                return
            outcome = annual.issue_annual(
                job.year, job.organisation_id, os.cpu_count() or 1, progress
            )
        except Exception:
            app.logger.exception("%s receipts %s failed", job.kind, job.year)
            job.status = "failed"
        else:
            job.issued, job.rendered, job.skipped = (
                outcome.issued,
                outcome.rendered,
                outcome.skipped,
            )
            job.status = "done"


def start(app, year: int, organisation_id: int | None, kind: str = "annual") -> str:
    """Start a run in a background thread; returns its job id."""
    job_id = uuid.uuid4().hex
    JOBS[job_id] = Job(year=year, organisation_id=organisation_id, kind=kind)
    thread = threading.Thread(target=_run, args=(app, job_id), name=f"{kind}-receipts-{year}")
    THREADS[job_id] = thread
    thread.start()
    return job_id


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.TREASURER)
def annual_receipts():
    form = _form()
    if form.validate_on_submit():
        job_id = start(
            current_app._get_current_object(), form.year.data, form.organisation.data or None
        )
        return redirect(url_for(".job", job_id=job_id))
    status = 422 if form.errors else 200
    return render_template("receipts/staff/annual.html", form=form), status


def _job(job_id: str) -> Job:
    job = JOBS.get(job_id)
    if job is None:
        abort(404)
    return job


@bp.get("/<job_id>")
@roles_required(Role.TREASURER)
def job(job_id: str):
    return render_template("receipts/staff/annual_job.html", job=_job(job_id), job_id=job_id)


@bp.get("/<job_id>/status")
@roles_required(Role.TREASURER)
def status(job_id: str):
    """How far the run is, for the progress bar (static/js/annual-receipts.js)."""
    return jsonify(asdict(_job(job_id)))
