"""Card-testing defence on the gift form: limits per IP and per e-mail, a honeypot, and a
log of what was blocked for staff to see."""

from flask import render_template, request

from donors.identity import normalise_email
from legami.extensions import db
from payments.models import BlockedAttempt

PER_IP = "10/hour;30/day"
PER_EMAIL = "5/hour;20/day"


def email_key() -> str:
    return "email:" + normalise_email(request.form.get("email", ""))


def record(reason: str) -> None:
    db.session.rollback()
    db.session.add(
        BlockedAttempt(
            ip=request.remote_addr or "",
            email=normalise_email(request.form.get("email", ""))[:254],
            campaign_slug=(request.view_args or {}).get("slug", "")[:120],
            reason=reason[:100],
        )
    )
    db.session.commit()


def on_breach(limit) -> object:
    record(f"rate limit {limit.limit}")
    return render_template("payments/blocked.html"), 429
