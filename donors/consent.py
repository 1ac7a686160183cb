"""Consent (GDPR): newsletter double opt-in, grants and withdrawals kept as history, the
report-back opt-out, unsubscribe links, and who may receive which mail.

`Donor.newsletter_consent` is the current state; `ConsentEvent` rows are its history: when,
how (source), from which IP and under which privacy notice version. An unsubscribe link also
leaves a hashed `Suppression`, so no import or staff entry can subscribe the address again;
only the person lifts it, by confirming a new double opt-in. Imports record consent in bulk
(`grant_many`, `withdraw_many`, `suppress_many`): they never subscribe a suppressed address.

The functions add to the session; the caller commits.
"""

import enum
import hashlib
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, String, delete, event, exists, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from donors import signals
from donors.identity import DonorDetails, find_existing, find_or_create, normalise_email
from donors.models import (
    ConsentAction,
    ConsentEvent,
    ConsentPurpose,
    ConsentSource,
    Donor,
    DonorSource,
    Suppression,
    SuppressionReason,
    email_hash,
)
from legami.extensions import db
from legami.models import Organisation, User
from legami.sql import bulk_insert, upsert_insert
from legami.timeutil import now_utc
from legami.validation import Invalid

CONFIRM_SALT = "legami-newsletter-confirm"
UNSUBSCRIBE_SALT = "legami-unsubscribe"


class Confirmation(enum.StrEnum):
    PENDING = "pending"  # a valid link, not yet followed
    CONFIRMED = "confirmed"  # followed now: consent granted
    ALREADY = "already"  # followed before, or the donor already consents: nothing added
    EXPIRED = "expired"
    INVALID = "invalid"  # tampered with, or about nothing we know


def current_notice_version() -> str:
    return current_app.config["PRIVACY_NOTICE_VERSION"]


def _record(donor: Donor, purpose: str, action: str, source: str, **details) -> ConsentEvent:
    row = ConsentEvent(donor_id=donor.id, purpose=purpose, action=action, source=source, **details)
    db.session.add(row)
    return row


# --- Newsletter: double opt-in ----------------------------------------------------------


def request_newsletter(
    donor: Donor, source: str, ip: str = "", notice_version: str | None = None
) -> ConsentEvent | None:
    """Ask the donor to confirm by mail; None when there is nothing to ask (already
    consenting, or forgotten). The mail is queued through `signals.newsletter_requested`."""
    if donor.is_erased or donor.newsletter_consent:
        return None
    row = _record(
        donor,
        ConsentPurpose.NEWSLETTER,
        ConsentAction.REQUESTED,
        source,
        ip=ip[:45],
        notice_version=notice_version or current_notice_version(),
    )
    db.session.flush()
    signals.newsletter_requested.send(current_app._get_current_object(), donor_id=donor.id)
    return row


def sign_up(details: DonorDetails, ip: str) -> None:
    """The public newsletter form: a new address becomes a donor (source `form`); a known one
    keeps its details untouched (anyone may type anyone's address). Either way the person
    must confirm by mail."""
    donor = find_existing(normalise_email(details.email))
    if donor is None:
        donor = find_or_create(
            details, source="newsletter", created_from=DonorSource.FORM, source_detail="newsletter"
        )
    request_newsletter(donor, ConsentSource.FORM, ip)


def pending_request(donor_id: int) -> ConsentEvent | None:
    """The newest unconfirmed request of a donor who does not consent yet: the one a
    confirmation mail links to."""
    return db.session.scalar(
        select(ConsentEvent)
        .join(Donor, Donor.id == ConsentEvent.donor_id)
        .where(
            ConsentEvent.donor_id == donor_id,
            ConsentEvent.purpose == ConsentPurpose.NEWSLETTER,
            ConsentEvent.action == ConsentAction.REQUESTED,
            ConsentEvent.confirmed_at.is_(None),
            Donor.newsletter_consent.is_(False),
            Donor.erased_at.is_(None),
        )
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )


def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=CONFIRM_SALT)


def confirm_url(request: ConsentEvent) -> str:
    """The link of a confirmation mail, made when the mail is sent (nothing secret stored);
    it expires NEWSLETTER_CONFIRM_MAX_AGE seconds later."""
    token = _confirm_serializer().dumps(request.id)
    return current_app.config["BASE_URL"] + url_for("consent.confirm", token=token)


def check_confirmation(token: str) -> tuple[Confirmation, ConsentEvent | None]:
    """What following this link would do, without doing it."""
    try:
        event_id = _confirm_serializer().loads(
            token, max_age=current_app.config["NEWSLETTER_CONFIRM_MAX_AGE"]
        )
    except SignatureExpired:
        return Confirmation.EXPIRED, None
    except BadSignature:
        return Confirmation.INVALID, None
    row = db.session.get(ConsentEvent, event_id) if isinstance(event_id, int) else None
    if row is None or row.action != ConsentAction.REQUESTED:
        return Confirmation.INVALID, None
    donor = db.session.get(Donor, row.donor_id)
    if donor.is_erased:
        return Confirmation.INVALID, None
    if row.confirmed_at is not None or donor.newsletter_consent:
        return Confirmation.ALREADY, row
    return Confirmation.PENDING, row


def confirm(token: str, ip: str) -> Confirmation:
    """Follow a confirmation link: consent granted once; a second time adds nothing."""
    status, row = check_confirmation(token)
    if status != Confirmation.PENDING:
        return status
    now = now_utc()
    claimed = db.session.execute(
        update(ConsentEvent)
        .where(ConsentEvent.id == row.id, ConsentEvent.confirmed_at.is_(None))
        .values(confirmed_at=now)
    ).rowcount
    if not claimed:  # another click won the race
        return Confirmation.ALREADY
    donor = db.session.get(Donor, row.donor_id)
    _record(
        donor,
        ConsentPurpose.NEWSLETTER,
        ConsentAction.GRANTED,
        ConsentSource.DOUBLE_OPT_IN,
        ip=ip[:45],
        notice_version=row.notice_version,
        occurred_at=now,
    )
    donor.newsletter_consent = True
    # The person proved the address is theirs and asked: an old unsubscribe no longer holds.
    db.session.execute(delete(Suppression).where(Suppression.email_hash == email_hash(donor.email)))
    return Confirmation.CONFIRMED


class NewsletterState(enum.StrEnum):
    SUBSCRIBED = "subscribed"
    AWAITING = "awaiting"  # a confirmation mail is out and its link still works
    UNSUBSCRIBED = "unsubscribed"  # by a link: suppressed until the person confirms again
    NOT_SUBSCRIBED = "not_subscribed"


def newsletter_state(donor: Donor) -> NewsletterState:
    if donor.newsletter_consent:
        return NewsletterState.SUBSCRIBED
    request = pending_request(donor.id)
    max_age = timedelta(seconds=current_app.config["NEWSLETTER_CONFIRM_MAX_AGE"])
    if request is not None and request.occurred_at > now_utc() - max_age:
        return NewsletterState.AWAITING
    if is_suppressed(donor.email):
        return NewsletterState.UNSUBSCRIBED
    return NewsletterState.NOT_SUBSCRIBED


# --- Newsletter: grant and withdraw -------------------------------------------------------


def is_suppressed(email: str) -> bool:
    return bool(
        db.session.scalar(
            select(exists().where(Suppression.email_hash == email_hash(normalise_email(email))))
        )
    )


def grant(
    donor: Donor,
    source: str,
    *,
    ip: str = "",
    notice_version: str | None = None,
    user: User | None = None,
    note: str = "",
    occurred_at: datetime | None = None,
) -> ConsentEvent:
    """Record consent given outside the double opt-in (to staff, on paper; an import keeps
    its original date). Refused for a forgotten donor or an unsubscribed address."""
    if donor.is_erased:
        raise Invalid({"action": _l("This donor was forgotten.")})
    if is_suppressed(donor.email):
        raise Invalid(
            {
                "action": _l(
                    "This address unsubscribed: only the person can subscribe it again, "
                    "by confirming a request sent by e-mail."
                )
            }
        )
    donor.newsletter_consent = True
    return _record(
        donor,
        ConsentPurpose.NEWSLETTER,
        ConsentAction.GRANTED,
        source,
        ip=ip[:45],
        notice_version=notice_version or current_notice_version(),
        user_id=user.id if user else None,
        note=note[:300],
        occurred_at=occurred_at or now_utc(),
    )


def withdraw(
    donor: Donor, source: str, *, ip: str = "", user: User | None = None, note: str = ""
) -> ConsentEvent | None:
    """Newsletter consent withdrawn; None when the donor did not consent."""
    if not donor.newsletter_consent:
        return None
    donor.newsletter_consent = False
    return _record(
        donor,
        ConsentPurpose.NEWSLETTER,
        ConsentAction.WITHDRAWN,
        source,
        ip=ip[:45],
        user_id=user.id if user else None,
        note=note[:300],
    )


def set_report_back(
    donor: Donor,
    opted_out: bool,
    source: str,
    *,
    ip: str = "",
    user: User | None = None,
    note: str = "",
) -> ConsentEvent | None:
    """Opt out of (or back into) report-back mails; None when nothing changes."""
    if donor.report_back_opt_out == opted_out:
        return None
    donor.report_back_opt_out = opted_out
    return _record(
        donor,
        ConsentPurpose.REPORT_BACK,
        ConsentAction.WITHDRAWN if opted_out else ConsentAction.GRANTED,
        source,
        ip=ip[:45],
        user_id=user.id if user else None,
        note=note[:300],
    )


# --- Unsubscribe links ------------------------------------------------------------------


def _unsubscribe_serializer() -> URLSafeSerializer:
    return _serializer(current_app.secret_key, UNSUBSCRIBE_SALT)


@lru_cache(maxsize=8)
def _serializer(secret_key: str, salt: str) -> URLSafeSerializer:
    """Kept: making one costs a JSON round trip, and a newsletter signs a token per mail."""
    return URLSafeSerializer(secret_key, salt=salt)


def unsubscribe_token(donor: Donor, purpose: str) -> str:
    """Signed, without expiry: an unsubscribe link in an old mail must still work."""
    return unsubscribe_token_for(donor.id, purpose)


def unsubscribe_token_for(donor_id: int, purpose: str) -> str:
    """The same token from the donor's id alone: a newsletter send reads no Donor rows."""
    return _unsubscribe_serializer().dumps([donor_id, ConsentPurpose(purpose).value])


def unsubscribe_mailto(token: str) -> str:
    """The `mailto:` form of List-Unsubscribe (RFC 2369), for mail clients that do not POST:
    a mail to NEWSLETTER_UNSUBSCRIBE_MAILTO (default `unsubscribe@` the site's host) whose
    subject carries the token."""
    address = current_app.config.get("NEWSLETTER_UNSUBSCRIBE_MAILTO") or (
        "unsubscribe@" + (urlsplit(current_app.config["BASE_URL"]).hostname or "legami.local")
    )
    return f"mailto:{address}?subject=unsubscribe%20{token}"


def unsubscribe_url(donor: Donor, purpose: str) -> str:
    """The page a person opens from a mail's footer."""
    token = unsubscribe_token(donor, purpose)
    return current_app.config["BASE_URL"] + url_for("consent.unsubscribe", token=token)


def unsubscribe_headers(donor: Donor, purpose: str) -> dict[str, str]:
    """List-Unsubscribe headers for a bulk mail (RFC 2369, one-click by RFC 8058)."""
    token = unsubscribe_token(donor, purpose)
    one_click = current_app.config["BASE_URL"] + url_for("consent.one_click", token=token)
    return {
        "List-Unsubscribe": f"<{one_click}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def from_unsubscribe_token(token: str) -> tuple[Donor, str] | None:
    try:
        donor_id, purpose = _unsubscribe_serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    donor = db.session.get(Donor, donor_id)
    if donor is None or purpose not in set(ConsentPurpose):
        return None
    return donor, purpose


def is_unsubscribed(donor: Donor, purpose: str) -> bool:
    if donor.is_erased:
        return True
    if purpose == ConsentPurpose.REPORT_BACK:
        return donor.report_back_opt_out
    return not donor.newsletter_consent and is_suppressed(donor.email)


def unsubscribe(donor: Donor, purpose: str, ip: str) -> bool:
    """What an unsubscribe link does; returns whether anything changed (a second click
    changes nothing). The newsletter one also suppresses the address."""
    if purpose == ConsentPurpose.REPORT_BACK:
        return set_report_back(donor, True, ConsentSource.UNSUBSCRIBE, ip=ip) is not None
    withdrawn = withdraw(donor, ConsentSource.UNSUBSCRIBE, ip=ip) is not None
    if donor.is_erased:  # forgotten: already suppressed under its real address
        return withdrawn
    suppressed = suppress_many([(donor.email, SuppressionReason.UNSUBSCRIBE, now_utc())])
    return withdrawn or bool(suppressed)


# --- Imports: in bulk ---------------------------------------------------------------------


def suppress_many(entries: list[tuple[str, str, datetime]]) -> int:
    """Suppress each (normalised address, reason, since); an address already suppressed
    keeps its reason and date. Returns how many were new (exact for a single entry)."""
    if not entries:
        return 0
    return db.session.execute(
        upsert_insert(Suppression.__table__).on_conflict_do_nothing(index_elements=["email_hash"]),
        [
            {"email_hash": email_hash(email), "reason": reason, "created_at": since}
            for email, reason, since in entries
        ],
    ).rowcount


def grant_many(donor_ids: list[int]) -> set[int]:
    """Newsletter consent for these donors, except the forgotten and those whose address is
    suppressed (checked in the same statement); returns those who got it."""
    if not donor_ids:
        return set()
    granted = db.session.execute(
        update(Donor)
        .where(Donor.id.in_(donor_ids), Donor.erased_at.is_(None), ~suppressed(Donor.email))
        .values(newsletter_consent=True)
        .returning(Donor.id),
        execution_options={"synchronize_session": False},
    )
    return set(granted.scalars())


def withdraw_many(donor_ids: list[int]) -> None:
    if donor_ids:
        db.session.execute(
            update(Donor).where(Donor.id.in_(donor_ids)).values(newsletter_consent=False),
            execution_options={"synchronize_session": False},
        )


def record_many(events: list[dict]) -> None:
    """ConsentEvent rows as given (each dict with the same keys, every column): an import's
    history."""
    bulk_insert(ConsentEvent.__table__, events)


# --- Who may receive what -----------------------------------------------------------------


def may_receive_report_back(donor: Donor, organisation: Organisation) -> bool:
    """A report-back mail about a campaign the donor funded, without newsletter consent."""
    return (
        organisation.report_back_enabled and not donor.report_back_opt_out and not donor.is_erased
    )


def report_back_consenting() -> ColumnElement[bool]:
    """A WHERE condition on `Donor`: the donor's part of `may_receive_report_back` (not opted
    out, not forgotten); the organisation's part is the caller's."""
    return Donor.report_back_opt_out.is_(False) & Donor.erased_at.is_(None)


class sha256_hex(FunctionElement):
    """The hex SHA-256 of a text column, in SQL: how suppressions are matched to donors."""

    type = String()
    inherit_cache = True
    name = "sha256_hex"


@compiles(sha256_hex, "postgresql")
def _sha256_postgresql(element, compiler, **kw):
    return f"encode(sha256(convert_to({compiler.process(element.clauses, **kw)}, 'UTF8')), 'hex')"


@compiles(sha256_hex, "sqlite")
def _sha256_sqlite(element, compiler, **kw):
    return f"legami_sha256({compiler.process(element.clauses, **kw)})"


@event.listens_for(Engine, "connect")
def _sqlite_sha256(dbapi_connection, _connection_record) -> None:
    if type(dbapi_connection).__module__ == "sqlite3":
        dbapi_connection.create_function(
            "legami_sha256",
            1,
            lambda text: None if text is None else hashlib.sha256(text.encode()).hexdigest(),
            deterministic=True,
        )


def newsletter_consenting() -> ColumnElement[bool]:
    """A WHERE condition on `Donor`: consents to the newsletter and is not forgotten."""
    return Donor.newsletter_consent.is_(True) & Donor.erased_at.is_(None)


def suppressed(email: ColumnElement[str]) -> ColumnElement[bool]:
    """Whether the (normalised) address in the column `email` is suppressed."""
    return exists().where(Suppression.email_hash == sha256_hex(email))


def newsletter_audience_filter() -> ColumnElement[bool]:
    """The donors a newsletter may go to: consenting, not forgotten, address not suppressed.

    A WHERE condition on `Donor`, for the newsletter's recipient query; a send re-checks its
    frozen recipients with the same two parts (mailing.audience.lapsed).
    """
    return newsletter_consenting() & ~suppressed(Donor.email)


# --- Staff --------------------------------------------------------------------------------


class StaffAction(enum.StrEnum):
    NEWSLETTER_GRANTED = "newsletter_granted"
    NEWSLETTER_WITHDRAWN = "newsletter_withdrawn"
    NEWSLETTER_REQUESTED = "newsletter_requested"  # send the donor a confirmation mail
    REPORT_BACK_OPTED_OUT = "report_back_opted_out"
    REPORT_BACK_OPTED_IN = "report_back_opted_in"


def record_by_staff(donor: Donor, action: str, note: str, user: User) -> ConsentEvent:
    """What staff heard from the donor (a call, a letter), as history with their note."""
    if donor.is_erased:
        raise Invalid({"action": _l("This donor was forgotten.")})
    staff = ConsentSource.STAFF
    if action == StaffAction.NEWSLETTER_GRANTED:
        row = grant(donor, staff, user=user, note=note)
    elif action == StaffAction.NEWSLETTER_WITHDRAWN:
        row = withdraw(donor, staff, user=user, note=note)
    elif action == StaffAction.NEWSLETTER_REQUESTED:
        row = request_newsletter(donor, staff)
        if row is not None:
            row.user_id, row.note = user.id, note[:300]
    elif action in (StaffAction.REPORT_BACK_OPTED_OUT, StaffAction.REPORT_BACK_OPTED_IN):
        opted_out = action == StaffAction.REPORT_BACK_OPTED_OUT
        row = set_report_back(donor, opted_out, staff, user=user, note=note)
    else:
        raise Invalid({"action": _l("Choose what to record.")})
    if row is None:
        raise Invalid({"action": _l("Nothing to record: the donor is already in that state.")})
    return row
