"""The treasurer's archive page: the last integrity check of the stored receipt PDFs."""

from flask import Blueprint, render_template

from legami.access import roles_required
from legami.models import Role
from receipts import archive

bp = Blueprint("receipts_archive", __name__, url_prefix="/staff/receipts/archive")


@bp.get("")
@roles_required(Role.TREASURER)
def index():
    return render_template("receipts/staff/archive.html", check=archive.latest())
