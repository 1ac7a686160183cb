"""The staff page of recent jobs: status, progress, who started them, their result, and a
retry for failed ones. Each user sees the kinds their roles allow (admins see all); every
figure is read from the job rows, so any web worker serves the page."""

from pathlib import PurePosixPath

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from legami import jobs
from legami.access import add_menu, roles_required
from legami.extensions import db
from legami.models import Role, User
from legami.storage import InvalidKey, NotStored, storage

bp = Blueprint("jobs", __name__, url_prefix="/staff/jobs")

RECENT = 50
STATUS_LABELS = {
    jobs.JobStatus.QUEUED: _l("Waiting"),
    jobs.JobStatus.RUNNING: _l("Running"),
    jobs.JobStatus.DONE: _l("Done"),
    jobs.JobStatus.FAILED: _l("Failed"),
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_menu(app, _l("Jobs"), "jobs.recent", Role.TREASURER, group="admin")


def _visible_kinds() -> list[str]:
    return [
        name
        for name, kind in jobs.kinds(current_app).items()
        if current_user.has_any_role(*kind.roles, Role.ADMIN)
    ]


def _visible_job(job_id: int) -> jobs.Job:
    job = db.get_or_404(jobs.Job, job_id)
    if job.kind not in _visible_kinds():
        abort(404)
    return job


@bp.get("")
@roles_required(Role.STAFF, Role.TREASURER)
def recent():
    rows = db.session.execute(
        select(jobs.Job, User.email)
        .outerjoin(User, User.id == jobs.Job.started_by_id)
        .where(jobs.Job.kind.in_(_visible_kinds()))
        .order_by(jobs.Job.created_at.desc(), jobs.Job.id.desc())
        .limit(RECENT)
    ).all()
    return render_template(
        "legami/jobs.html",
        rows=rows,
        kinds=jobs.kinds(current_app),
        status_labels=STATUS_LABELS,
        retry_form=FlaskForm(),
    )


@bp.get("/<int:job_id>/result")
@roles_required(Role.STAFF, Role.TREASURER)
def result(job_id: int):
    """The job's stored file, if it made one, streamed from the file storage."""
    job = _visible_job(job_id)
    if job.status != jobs.JobStatus.DONE or not job.result_path:
        abort(404)
    try:
        stream = storage().open(job.result_path)
    except (NotStored, InvalidKey):
        abort(404)
    name = PurePosixPath(job.result_path).name
    return send_file(stream, as_attachment=True, download_name=name)


@bp.post("/<int:job_id>/retry")
@roles_required(Role.STAFF, Role.TREASURER)
def retry(job_id: int):
    job = _visible_job(job_id)
    if FlaskForm().validate_on_submit() and jobs.retry(job.id):
        db.session.commit()
        flash(_("The job is queued again."), "info")
    else:
        flash(_("Only a failed job can be retried."), "error")
    return redirect(url_for(".recent"))
