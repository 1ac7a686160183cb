"""Staff pages of the donor import: upload, column mapping, dry-run report, run and progress."""

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from wtforms import FieldList, SelectField

from donors import importing
from donors.import_plan import describe
from donors.import_presets import PRESETS, ROW_STATUSES, TARGETS, TIMEZONES
from donors.models import ImportJob, ImportOutcome, ImportStatus
from legami import jobs
from legami.access import add_menu, roles_required
from legami.extensions import db
from legami.forms import choices
from legami.models import Role
from legami.validation import Invalid, apply_to_form

bp = Blueprint("donor_imports", __name__, url_prefix="/staff/imports")

PAGE_SIZE = 100
EDITABLE = (ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED)

STATUS_LABELS = {
    ImportStatus.UPLOADED: _l("Uploaded: choose the columns"),
    ImportStatus.CHECKED: _l("Checked: ready to import"),
    ImportStatus.RUNNING: _l("Importing"),
    ImportStatus.DONE: _l("Imported"),
    ImportStatus.FAILED: _l("Stopped by an error"),
}
OUTCOME_LABELS = {
    ImportOutcome.CREATE: _l("New donor"),
    ImportOutcome.UPDATE: _l("Update"),
    ImportOutcome.SKIP: _l("Skip"),
    ImportOutcome.REJECT: _l("Reject"),
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    jobs.add_job_kind(app, importing.JOB_KIND, importing.run_job, _l("Donor import"), attempts=2)
    add_menu(app, _l("Import"), "donor_imports.imports", Role.STAFF, group="donors")


class UploadForm(FlaskForm):
    file = FileField(
        _l("CSV or XLSX file"),
        validators=[
            FileRequired(),
            FileAllowed(["csv", "txt", "xlsx"], _l("Upload a CSV or XLSX file.")),
        ],
    )
    preset = SelectField(
        _l("Kind of file"), choices=choices((k, p["label"]) for k, p in PRESETS.items())
    )


class MappingForm(FlaskForm):
    columns = FieldList(SelectField(choices=choices(TARGETS.items())))
    status = SelectField(_l("The rows of the file are"), choices=choices(ROW_STATUSES.items()))
    timezone = SelectField(_l("Times without a zone are in"), choices=choices(TIMEZONES.items()))


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def imports():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = importing.create_job(
                upload.filename or "", upload.stream, form.preset.data, current_user.id
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            return redirect(url_for(".mapping", job_id=job.id))
    recent = db.session.scalars(
        select(ImportJob).order_by(ImportJob.created_at.desc(), ImportJob.id.desc()).limit(20)
    ).all()
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "donors/staff/import_list.html", form=form, recent=recent, status_labels=STATUS_LABELS
    ), status


@bp.route("/<int:job_id>/mapping", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def mapping(job_id: int):
    job = db.get_or_404(ImportJob, job_id)
    if job.status not in EDITABLE:
        flash(_("This import has already run: its columns cannot change."), "error")
        return redirect(url_for(".job", job_id=job.id))
    form = MappingForm() if request.method == "POST" else MappingForm(data=job.mapping)
    if form.validate_on_submit():
        try:
            importing.set_mapping(
                job,
                {
                    "columns": form.columns.data,
                    "status": form.status.data,
                    "timezone": form.timezone.data,
                },
            )
            db.session.commit()
            importing.check(job.id)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            return redirect(url_for(".job", job_id=job.id))
    preview = importing.preview(job)
    if len(form.columns) != len(preview):
        form.columns.errors = [_("Choose what each column holds.")]
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "donors/staff/import_mapping.html",
        job=job,
        form=form,
        columns=list(zip(preview, form.columns, strict=False)),
    ), status


@bp.get("/<int:job_id>")
@roles_required(Role.STAFF)
def job(job_id: int):
    job = db.get_or_404(ImportJob, job_id)
    real_counts = importing.outcome_counts(job.id, dry_run=False)
    has_real_run = job.status in (ImportStatus.RUNNING, ImportStatus.DONE) or any(
        real_counts.values()
    )
    dry_run = not has_real_run or request.args.get("run") == "dry"
    outcome = request.args.get("outcome")
    page = db.paginate(
        importing.rows_query(job.id, dry_run, outcome), per_page=PAGE_SIZE, error_out=False
    )
    return render_template(
        "donors/staff/import_job.html",
        job=job,
        dry_run=dry_run,
        has_real_run=has_real_run,
        outcome=outcome,
        page=page,
        counts=real_counts if not dry_run else importing.outcome_counts(job.id, dry_run=True),
        describe=describe,
        run_form=FlaskForm(),
        can_run=job.status in (ImportStatus.CHECKED, ImportStatus.FAILED),
        can_map=job.status in EDITABLE,
        status_labels=STATUS_LABELS,
        outcome_labels=OUTCOME_LABELS,
    )


@bp.post("/<int:job_id>/run")
@roles_required(Role.STAFF)
def run(job_id: int):
    job = db.get_or_404(ImportJob, job_id)
    form = FlaskForm()
    startable = job.status in (ImportStatus.CHECKED, ImportStatus.FAILED)
    if form.validate_on_submit() and startable and importing.start_run(job.id, current_user.id):
        flash(_("The import is running; this page follows it."), "info")
    else:
        flash(_("This import cannot start now: check it first (dry run)."), "error")
    return redirect(url_for(".job", job_id=job.id))


@bp.get("/<int:job_id>/status")
@roles_required(Role.STAFF)
def status(job_id: int):
    """How far the run is, for the progress bar (static/js/import.js)."""
    job = db.get_or_404(ImportJob, job_id)
    return jsonify(
        status=job.status,
        total_rows=job.total_rows,
        processed_rows=job.processed_rows,
        created=job.created,
        updated=job.updated,
        skipped=job.skipped,
        rejected=job.rejected,
        error=job.error,
    )
