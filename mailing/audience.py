"""Who a newsletter goes to: its segments' donors (every subscriber when it has none) who
consent, are not forgotten and whose address is not suppressed; frozen when sending starts,
and re-checked by the send (`lapsed`), as donors may unsubscribe while it goes out.

A report-back (`report_back_campaign_id`) goes instead to the donors of that campaign's
succeeded gifts under the report-back rule (donors.consent.may_receive_report_back): the
organisation sends report-backs, the donor did not opt out of them and was not forgotten,
the address is not suppressed; newsletter consent is not asked."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, case, exists, func, insert, literal, select, union

from campaigns.models import Campaign
from donors import segments
from donors.consent import (
    newsletter_audience_filter,
    newsletter_consenting,
    report_back_consenting,
    suppressed,
)
from donors.models import Donor
from legami.extensions import db
from legami.models import Organisation
from mailing.models import Delivery, DeliveryStatus, Newsletter
from payments.models import Donation, Status

# Stored as the delivery's reason (beside SMTP servers' own texts); shown in staff's language.
UNSUBSCRIBED = "unsubscribed after the audience was frozen"
SUPPRESSED = "address suppressed after the audience was frozen"
REASON_LABELS = {
    UNSUBSCRIBED: _l("Unsubscribed after the audience was frozen"),
    SUPPRESSED: _l("Address suppressed after the audience was frozen"),
}

# A donor whose language has no version of its own gets the Italian one.
_LANGUAGE = case((func.lower(func.substr(Donor.language, 1, 2)) == "en", "en"), else_="it")


def _report_back_donors(campaign_id: int) -> Select:
    gave = select(Donation.donor_id).where(
        Donation.campaign_id == campaign_id, Donation.status == Status.SUCCEEDED
    )
    sends_report_backs = exists().where(
        Campaign.id == campaign_id,
        Organisation.id == Campaign.organisation_id,
        Organisation.report_back_enabled.is_(True),
    )
    return select(Donor.id).where(
        Donor.id.in_(gave), report_back_consenting(), ~suppressed(Donor.email), sends_report_backs
    )


def _donors(newsletter: Newsletter) -> Select:
    if newsletter.report_back_campaign_id:
        return _report_back_donors(newsletter.report_back_campaign_id)
    stmt = select(Donor.id).where(newsletter_audience_filter())
    if newsletter.segments:
        members = union(*(segments.donor_ids(segment) for segment in newsletter.segments))
        stmt = stmt.where(Donor.id.in_(select(members.subquery().c[0])))
    return stmt


def count(newsletter: Newsletter) -> int:
    """The number of recipients if sending started now (shown before scheduling)."""
    return db.session.scalar(select(func.count()).select_from(_donors(newsletter).subquery()))


def freeze(newsletter: Newsletter) -> int:
    """Write one pending Delivery per recipient, in one statement; returns how many.

    Run once, by the sender that claimed the newsletter, in the claiming transaction.
    """
    rows = select(
        literal(newsletter.id),
        Donor.id,
        Donor.email,
        Donor.first_name,
        _LANGUAGE,
        literal(DeliveryStatus.PENDING.value),
        literal(0),
        literal(""),
    ).where(Donor.id.in_(_donors(newsletter)))
    columns = ["newsletter_id", "donor_id", "email", "first_name", "language", "status"]
    db.session.execute(insert(Delivery).from_select([*columns, "attempts", "last_error"], rows))
    # psycopg reports no row count for INSERT … SELECT: count what is there.
    return db.session.scalar(select(func.count()).where(Delivery.newsletter_id == newsletter.id))


def lapsed() -> ColumnElement[str | None]:
    """Why a frozen Delivery must not go out any more, or NULL: the freezing conditions again,
    for a donor who withdrew consent (or was forgotten) or an address suppressed since."""
    report_back = exists().where(
        Newsletter.id == Delivery.newsletter_id, Newsletter.report_back_campaign_id.is_not(None)
    )
    consenting = exists().where(
        Donor.id == Delivery.donor_id,
        (~report_back & newsletter_consenting()) | (report_back & report_back_consenting()),
    )
    return case((~consenting, UNSUBSCRIBED), (suppressed(Delivery.email), SUPPRESSED))
