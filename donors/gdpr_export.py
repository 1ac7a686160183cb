"""Everything kept about one donor (GDPR art. 15 and 20), as donor.json in a ZIP.

Read-only reporting, so it queries payments and mailing like the rest of the CRM's
reports. Rows of any other table that refers to the donor (receipts, newsletter deliveries,
whatever comes later) are included under "other", found through the metadata.
"""

import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from donors.merge import references
from donors.models import (
    ConsentEvent,
    Donor,
    DonorChange,
    DonorMerge,
    ImportJob,
    ImportRow,
    Interaction,
    PortalToken,
)
from legami.extensions import db
from legami.timeutil import now_utc
from mailing.models import MailJob
from payments.models import Donation, RecurringGift

# Every column, so a field added later is exported too; name_key only folds the name again.
DONOR_FIELDS = tuple(c.key for c in Donor.__table__.columns if c.key != "name_key")

# Tables shown in their own sections above; any other table referring to donors goes to "other".
COVERED = {
    "donor_emails",
    "donor_tags",
    "donor_changes",
    "interactions",
    "consent_events",
    "donor_merges",
    "portal_tokens",
    "import_rows",
    "donations",
    "recurring_gifts",
    "mail_jobs",
}


def _rows(model, *where, order=None):
    return db.session.scalars(select(model).where(*where).order_by(order or model.id)).all()


def _pick(row, *names) -> dict:
    return {name: getattr(row, name) for name in names}


def collect(donor: Donor) -> dict:
    """All data about the donor, as plain values (dates and times still as objects)."""
    gifts = db.session.scalars(
        select(Donation)
        .where(Donation.donor_id == donor.id)
        .options(joinedload(Donation.campaign), joinedload(Donation.organisation))
        .order_by(Donation.created_at, Donation.id)
    ).all()
    mails = _rows(
        MailJob,
        or_(
            MailJob.donor_id == donor.id,
            MailJob.donation_id.in_(select(Donation.id).where(Donation.donor_id == donor.id)),
        ),
    )
    imports = db.session.execute(
        select(ImportRow, ImportJob)
        .join(ImportJob, ImportJob.id == ImportRow.job_id)
        .where(ImportRow.donor_id == donor.id, ImportRow.dry_run.is_(False))
        .order_by(ImportRow.id)
    ).all()
    return {
        "exported_at": now_utc(),
        "donor": _pick(donor, *DONOR_FIELDS),
        "emails": [_pick(e, "email", "created_at") for e in donor.emails],
        "tags": [t.name for t in donor.tags],
        "interactions": [
            _pick(i, "kind", "occurred_on", "summary", "created_at")
            for i in _rows(Interaction, Interaction.donor_id == donor.id)
        ],
        "consent_history": [
            _pick(
                c,
                "purpose",
                "action",
                "source",
                "ip",
                "notice_version",
                "occurred_at",
                "confirmed_at",
                "note",
            )
            for c in _rows(
                ConsentEvent,
                ConsentEvent.donor_id == donor.id,
                order=ConsentEvent.occurred_at,
            )
        ],
        "field_changes": [
            _pick(c, "field", "old_value", "new_value", "source", "changed_at")
            for c in _rows(DonorChange, DonorChange.donor_id == donor.id)
        ],
        "gifts": [_gift(g) for g in gifts],
        "recurring_gifts": [
            {
                **_pick(r, "id", "amount_cents", "currency", "status", "created_at"),
                "cancelled_at": r.cancelled_at,
                "campaign": r.campaign.title,
            }
            for r in _rows(RecurringGift, RecurringGift.donor_id == donor.id)
        ],
        "mails": [_pick(m, "kind", "donation_id", "created_at", "sent_at") for m in mails],
        "merges": [
            _pick(m, "merged_donor_id", "merged_at", "snapshot", "choices", "moved")
            for m in _rows(DonorMerge, DonorMerge.survivor_id == donor.id)
        ],
        "portal_links": [
            _pick(t, "created_at", "expires_at", "used_at")
            for t in _rows(PortalToken, PortalToken.donor_id == donor.id)
        ],
        "imports": [
            {
                "file": job.filename,
                "imported_at": job.created_at,
                **_pick(row, "row_number", "outcome", "reason", "email"),
            }
            for row, job in imports
        ],
        "other": _other(donor.id),
    }


def _gift(g: Donation) -> dict:
    return {
        **_pick(
            g,
            "id",
            "amount_cents",
            "fee_cents",
            "refunded_cents",
            "currency",
            "method",
            "frequency",
            "status",
            "deductible",
            "received_on",
            "succeeded_at",
            "created_at",
            "payment_reference",
            "show_name",
            "dedication",
            "newsletter_opt_in",
            "recurring_gift_id",
        ),
        "campaign": g.campaign.title,
        "organisation": g.organisation.name,
    }


def _other(donor_id: int) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for table, column in references():
        if table.name in COVERED:
            continue
        rows = db.session.execute(select(table).where(column == donor_id)).mappings().all()
        if rows:
            out.setdefault(table.name, []).extend(dict(r) for r in rows)
    return out


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not serialisable: {type(value).__name__}")


def to_json(data: dict) -> str:
    return json.dumps(data, default=_json_default, ensure_ascii=False, indent=2)


def zip_bytes(donor: Donor) -> bytes:
    """The ZIP to download: donor.json with everything `collect` finds."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("donor.json", to_json(collect(donor)))
    return out.getvalue()
