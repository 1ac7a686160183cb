"""The staff's view of the outbox folder (used when no SMTP server is configured)."""

from flask import Blueprint, abort, render_template

from legami.access import roles_required
from legami.models import Role
from mailing import outbox

bp = Blueprint("mailing", __name__, url_prefix="/staff/outbox")


@bp.get("/")
@roles_required(Role.STAFF)
def index():
    return render_template("mailing/outbox.html", messages=outbox.list_messages())


@bp.get("/<name>")
@roles_required(Role.STAFF)
def message(name: str):
    found = outbox.read_message(name)
    if found is None:
        abort(404)
    text = found.get_body(preferencelist=("plain",))
    html = found.get_body(preferencelist=("html",))
    return render_template(
        "mailing/outbox_message.html",
        name=name,
        message=found,
        text=text.get_content() if text else "",
        has_html=html is not None,
    )
