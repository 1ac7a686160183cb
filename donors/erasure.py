"""Forget a donor (GDPR art. 17): personal and profile data go, the accounting stays.

Gifts and issued receipts are accounting records kept ten years (art. 2220 c.c.): the gift
rows, their amounts and the campaign totals stay untouched. A receipt is an immutable
snapshot, so the donor row itself can be anonymised. The codice fiscale and partita IVA are
kept only while the donor has gifts inside the retention period, since the yearly file for
the pre-filled tax return (and the reporting of later refunds) needs them; without such
gifts they go too. Every address of the donor is kept only as a hashed suppression entry,
so an import cannot add it back.

Like the CRM's reporting, this module reaches into payments and mailing (the gifts'
dedications, unsent mail): erasure has to clear personal data wherever it lies.
"""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from donors import consent
from donors.identity import normalise_email
from donors.models import (
    ConsentEvent,
    ConsentSource,
    Donor,
    DonorChange,
    DonorEmail,
    DonorKind,
    DonorMerge,
    ImportRow,
    Interaction,
    PortalToken,
    Suppression,
    SuppressionReason,
    donor_tags,
    email_hash,
)
from legami import audit
from legami.extensions import db
from legami.models import User
from legami.sql import upsert_insert
from legami.timeutil import now_utc
from legami.validation import Invalid
from mailing.models import Delivery, DeliveryStatus, MailJob
from payments.models import Donation, RecurringGift, RecurringStatus

LIVE_RECURRING = (RecurringStatus.INCOMPLETE, RecurringStatus.ACTIVE, RecurringStatus.PAST_DUE)


def placeholder_email(donor_id: int) -> str:
    """A unique address under the reserved `.invalid` domain: nothing can be sent to it."""
    return f"forgotten-{donor_id}@legami.invalid"


def placeholder_name(donor_id: int) -> str:
    return f"forgotten-{donor_id}"


def retention_start(today: date, years: int) -> date:
    """The same day `years` earlier (28 February for a 29th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def live_recurring_gifts(donor_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecurringGift)
        .where(RecurringGift.donor_id == donor_id, RecurringGift.status.in_(LIVE_RECURRING))
    )


def forget(donor_id: int, user: User | None, today: date, years: int, request: str = "") -> dict:
    """Anonymise the donor; returns what was removed, as counts. The caller commits.

    `today` and `years` decide whether the tax identifiers must stay (gifts received on or
    after `retention_start(today, years)`); `request` says how the donor asked.
    """
    donor = db.session.scalars(
        select(Donor)
        .where(Donor.id == donor_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if donor.is_erased:
        raise Invalid({"donor": _l("This donor was already forgotten.")})
    if live_recurring_gifts(donor_id):
        raise Invalid(
            {"donor": _l("Stop the donor's monthly gifts first: a forgotten donor cannot give.")}
        )

    addresses = {normalise_email(donor.email), *(normalise_email(e.email) for e in donor.emails)}
    for address in addresses:
        db.session.execute(
            upsert_insert(Suppression.__table__)
            .values(email_hash=email_hash(address), reason=SuppressionReason.ERASURE)
            .on_conflict_do_nothing(index_elements=["email_hash"])
        )

    consent.withdraw(donor, ConsentSource.ERASURE, user=user)
    consent.set_report_back(donor, True, ConsentSource.ERASURE, user=user)
    removed = {
        "emails": _delete(DonorEmail, DonorEmail.donor_id == donor_id),
        "tags": db.session.execute(
            delete(donor_tags).where(donor_tags.c.donor_id == donor_id)
        ).rowcount,
        "interactions": _delete(Interaction, Interaction.donor_id == donor_id),
        "changes": _delete(DonorChange, DonorChange.donor_id == donor_id),
        "portal_tokens": _delete(PortalToken, PortalToken.donor_id == donor_id),
        "unsent_mail": _delete(
            MailJob,
            MailJob.sent_at.is_(None),
            or_(
                MailJob.donor_id == donor_id,
                MailJob.donation_id.in_(select(Donation.id).where(Donation.donor_id == donor_id)),
            ),
        ),
    }
    # A newsletter still sending skips the donor; its report keeps the row, without the address.
    db.session.execute(
        update(Delivery)
        .where(Delivery.donor_id == donor_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.FAILED, last_error="forgotten")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Delivery)
        .where(Delivery.donor_id == donor_id)
        .values(email=placeholder_email(donor_id), first_name="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Donation)
        .where(Donation.donor_id == donor_id)
        .values(dedication="", show_name=False)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ConsentEvent)
        .where(ConsentEvent.donor_id == donor_id)
        .values(ip="", note="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ImportRow)
        .where(ImportRow.donor_id == donor_id)
        .values(email="")
        .execution_options(synchronize_session=False)
    )
    # A merge record holds the merged donor as it was: the same person's data.
    db.session.execute(
        update(DonorMerge)
        .where(DonorMerge.survivor_id == donor_id)
        .values(snapshot={})
        .execution_options(synchronize_session=False)
    )
    keeps_tax_ids = _has_gifts_since(donor_id, retention_start(today, years))
    db.session.expire_all()
    _anonymise(donor, keeps_tax_ids)
    audit.record(
        user,
        "donor.erase",
        f"donor:{donor_id}",
        removed=removed,
        suppressed=len(addresses),
        kept_tax_ids=keeps_tax_ids,
        request=request,
    )
    db.session.flush()
    return removed


def _delete(model, *where) -> int:
    return db.session.execute(
        delete(model).where(*where).execution_options(synchronize_session=False)
    ).rowcount


def _has_gifts_since(donor_id: int, start: date) -> bool:
    return db.session.scalar(
        select(
            select(Donation.id)
            .where(
                Donation.donor_id == donor_id,
                Donation.received_on >= start,
                Donation.succeeded_at.is_not(None),
            )
            .exists()
        )
    )


def _anonymise(donor: Donor, keeps_tax_ids: bool) -> None:
    name = placeholder_name(donor.id)
    donor.first_name = ""
    donor.last_name = name if donor.kind == DonorKind.PERSON else ""
    donor.organisation_name = name if donor.kind == DonorKind.ORGANISATION else ""
    donor.email = placeholder_email(donor.id)
    donor.phone = ""
    donor.street = donor.postal_code = donor.town = donor.province = ""
    donor.source_detail = ""
    donor.notes = ""
    if not keeps_tax_ids:
        donor.codice_fiscale = donor.partita_iva = None
    donor.erased_at = now_utc()
