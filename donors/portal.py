"""The donor portal: a link by e-mail instead of a password, and a short session.

A link carries a random token; only its SHA-256 is stored (`PortalToken`), made when the mail
is sent. It works once (a compare-and-set UPDATE on `used_at IS NULL`) and before it expires
(PORTAL_LINK_MAX_AGE). Following it puts the donor's id in the Flask session under a key of
its own, apart from the staff login, until PORTAL_SESSION_MAX_AGE seconds later.

Other packages add pages to the portal's menu with `add_portal_section`.
"""

import hashlib
import secrets
import time
from datetime import timedelta
from functools import wraps

from flask import current_app, flash, g, redirect, session, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from donors import signals
from donors.identity import apply_changes, normalise_email
from donors.models import Donor, DonorEmail, DonorKind, PortalToken
from legami.extensions import db
from legami.i18n import LANGUAGES
from legami.timeutil import now_utc
from legami.validation import Invalid

SESSION_KEY = "portal"
# What a donor may change in the portal; the rest (e-mail, tax codes) goes through staff.
EDITABLE = (
    "first_name",
    "last_name",
    "organisation_name",
    "phone",
    "street",
    "postal_code",
    "town",
    "province",
    "language",
)


def add_portal_section(app, label, endpoint: str) -> None:
    """A page in the portal's menu, for a logged-in donor (e.g. their receipts)."""
    app.extensions.setdefault("legami.portal_sections", []).append(
        {"label": label, "endpoint": endpoint}
    )


def sections(app) -> list[dict]:
    return app.extensions.get("legami.portal_sections", [])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_link(email: str) -> None:
    """Queue a link for the donor with this address, if there is one that is not forgotten.

    The caller answers the same either way, so the form tells no one who gives.
    """
    address = normalise_email(email)
    donor_id = db.session.scalar(
        select(Donor.id).where(
            Donor.erased_at.is_(None),
            or_(
                Donor.email == address,
                Donor.id.in_(select(DonorEmail.donor_id).where(DonorEmail.email == address)),
            ),
        )
    )
    if donor_id is not None:
        signals.portal_link_requested.send(current_app._get_current_object(), donor_id=donor_id)


def issue_link(donor: Donor, endpoint: str = "portal.enter") -> str:
    """A new single-use link for the donor (called when the mail is sent), to `endpoint`
    (a view that redeems it: the portal's entrance, or another package's confirmation)."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    db.session.add(
        PortalToken(
            donor_id=donor.id,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + timedelta(seconds=current_app.config["PORTAL_LINK_MAX_AGE"]),
        )
    )
    return current_app.config["BASE_URL"] + url_for(endpoint, token=token)


def link_is_valid(token: str) -> bool:
    """Whether the link would still let the donor in (it is not used up by asking)."""
    return (
        db.session.scalar(
            select(PortalToken.id).where(
                PortalToken.token_hash == _hash(token),
                PortalToken.used_at.is_(None),
                PortalToken.expires_at > now_utc(),
            )
        )
        is not None
    )


def redeem(token: str) -> Donor | None:
    """Use the link up; its donor, or None if it is unknown, used, expired or forgotten."""
    now = now_utc()
    donor_id = db.session.execute(
        update(PortalToken)
        .where(
            PortalToken.token_hash == _hash(token),
            PortalToken.used_at.is_(None),
            PortalToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(PortalToken.donor_id)
    ).scalar_one_or_none()
    if donor_id is None:
        return None
    donor = db.session.get(Donor, donor_id)
    return None if donor.is_erased else donor


def log_in(donor: Donor) -> None:
    session[SESSION_KEY] = {
        "donor": donor.id,
        "until": int(time.time()) + current_app.config["PORTAL_SESSION_MAX_AGE"],
    }
    g.portal_donor = donor


def log_out() -> None:
    session.pop(SESSION_KEY, None)
    g.portal_donor = None


def current_donor() -> Donor | None:
    """The donor of this portal session, or None (none, expired, or since forgotten)."""
    if "portal_donor" in g:
        return g.portal_donor
    data = session.get(SESSION_KEY)
    donor = None
    if isinstance(data, dict) and data.get("until", 0) > time.time():
        donor = db.session.get(Donor, data.get("donor"))
        if donor is not None and donor.is_erased:
            donor = None
    if donor is None and data is not None:
        session.pop(SESSION_KEY)
    g.portal_donor = donor
    return donor


def portal_required(view):
    """Portal pages: without a live portal session, back to the page that sends a link."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_donor() is None:
            flash(_l("Your session has ended: ask for a new link."), "info")
            return redirect(url_for("portal.index"))
        return view(*args, **kwargs)

    return wrapper


def edit_details(donor: Donor, values: dict) -> list[str]:
    """Apply the donor's own edits (history kept, source `portal`); returns changed fields.

    `values` holds the EDITABLE fields; a missing one keeps its value.
    """
    clean = {name: str(values.get(name, getattr(donor, name)) or "").strip() for name in EDITABLE}
    clean["province"] = clean["province"].upper()
    errors = {}
    if donor.kind == DonorKind.PERSON and not clean["last_name"]:
        errors["last_name"] = _l("Write your last name.")
    if donor.kind == DonorKind.ORGANISATION and not clean["organisation_name"]:
        errors["organisation_name"] = _l("Write the organisation's name.")
    if clean["province"] and not (len(clean["province"]) == 2 and clean["province"].isalpha()):
        errors["province"] = _l("Two letters, e.g. CR.")
    if clean["language"] not in LANGUAGES:
        errors["language"] = _l("Choose Italian or English.")
    if errors:
        raise Invalid(errors)
    return apply_changes(donor, clean, "portal")
