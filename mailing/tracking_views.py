"""Opens and clicks of a newsletter, only when its organisation turned tracking on: a
one-pixel image and link redirects, both signed. Each records the first time only."""

import base64

from flask import Blueprint, abort, redirect

from mailing import compose, engagement

bp = Blueprint("newsletter_tracking", __name__, url_prefix="/m")

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Content-Type": "image/gif", "Cache-Control": "no-store, private"}


@bp.get("/o/<token>.gif")
def pixel(token: str):
    delivery_id = compose.delivery_from_tracking_token(token)
    if delivery_id is not None:
        engagement.record_open(delivery_id)
    return PIXEL, 200, NO_STORE


@bp.get("/c/<token>/<link>")
def click(token: str, link: str):
    found = compose.url_from_link_token(link)
    if found is None:
        abort(404)
    newsletter_id, url = found
    delivery_id = compose.delivery_from_tracking_token(token)
    if delivery_id is not None:
        engagement.record_click(delivery_id, newsletter_id)
    return redirect(url, 302)
