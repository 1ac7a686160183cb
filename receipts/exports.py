"""The treasurer's exports: the receipts' PDFs as a ZIP, the ledger, the reconciliation with
the donations, and the data set of the pre-filled tax return (precompilata).

A receipt counts in the ledger and the ZIP as its snapshot says (donor name, codice fiscale,
gifts), so an export reads like the receipts themselves. Totals are summed in SQL.
"""

import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased, joinedload

from campaigns.models import Campaign
from donors.giving_figures import GIFT, NET, YEAR
from donors.models import Donor, DonorKind
from legami import audit
from legami.csv_export import iter_csv, to_csv
from legami.extensions import db
from legami.models import Organisation, User
from legami.money import cents_to_decimal
from legami.timeutil import ROME
from payments.methods import TRACEABLE
from payments.models import Donation, Refund, Status
from receipts import pdf
from receipts.models import (
    Policy,
    Receipt,
    ReceiptDue,
    ReceiptGift,
    ReceiptSettings,
    ReceiptStatus,
)

BATCH = 200
INDEX_HEADER = ["number", "date", "donor", "codice_fiscale", "amount_eur", "status", "file"]
LEDGER_HEADER = [
    "number",
    "date",
    "donor",
    "codice_fiscale",
    "amount_eur",
    "method",
    "campaign",
    "pact_lab",
    "status",
    "voided_by",
]
PRECOMPILATA_HEADER = ["codice_fiscale", "record", "gift_year", "amount_eur"]
GIFT_RECORD = "erogazione"
REFUND_RECORD = "rimborso"
NO_TAX_CODE_HEADER = ["donor_id", "donor", "email", "gifts", "amount_eur"]


@dataclass(frozen=True)
class Scope:
    """Which receipts an export holds: any mix of year, issue dates, organisation, campaign."""

    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    organisation_id: int | None = None
    campaign_id: int | None = None

    def describe(self) -> dict:
        return {
            "year": self.year,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "organisation": self.organisation_id,
            "campaign": self.campaign_id,
        }


def _rome_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ROME)


def _where(stmt, scope: Scope):
    if scope.year:
        stmt = stmt.where(Receipt.year == scope.year)
    if scope.date_from:
        stmt = stmt.where(Receipt.issued_at >= _rome_midnight(scope.date_from))
    if scope.date_to:
        stmt = stmt.where(
            Receipt.issued_at < _rome_midnight(date.fromordinal(scope.date_to.toordinal() + 1))
        )
    if scope.organisation_id:
        stmt = stmt.where(Receipt.organisation_id == scope.organisation_id)
    if scope.campaign_id:
        stmt = stmt.where(
            Receipt.id.in_(
                select(ReceiptGift.receipt_id)
                .join(Donation, Donation.id == ReceiptGift.donation_id)
                .where(Donation.campaign_id == scope.campaign_id)
            )
        )
    return stmt


def receipt_ids(scope: Scope) -> list[int]:
    return list(
        db.session.scalars(
            _where(select(Receipt.id), scope).order_by(
                Receipt.organisation_id, Receipt.year, Receipt.number
            )
        )
    )


def _issued_on(receipt: Receipt) -> date:
    return receipt.issued_at.astimezone(ROME).date()


def _archived(receipt: Receipt) -> pdf.Variant:
    """The file the ZIP holds: the original as mailed, a voided one's ANNULLATA copy."""
    return pdf.Variant.VOIDED if receipt.status == ReceiptStatus.VOIDED else pdf.Variant.ORIGINAL


def file_name(receipt: Receipt) -> str:
    """The PDF's path in the ZIP: a folder per organisation, as the download names it."""
    number = receipt.display_number.replace("/", "-")
    return f"{receipt.organisation.slug}/ricevuta-{number}{_archived(receipt).suffix}.pdf"


def write_zip(scope: Scope, out: IO[bytes], progress: Callable[[int], None] | None = None) -> int:
    """The scope's receipts as their stored PDFs (a voided one as its ANNULLATA copy) and an
    index.csv; PDFs never stored are rendered and stored first. Returns the receipts written."""
    ids = receipt_ids(scope)
    index = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for start in range(0, len(ids), BATCH):
            batch = db.session.scalars(
                select(Receipt)
                .options(joinedload(Receipt.organisation))
                .where(Receipt.id.in_(ids[start : start + BATCH]))
                .order_by(Receipt.organisation_id, Receipt.year, Receipt.number)
            ).all()
            for receipt in batch:
                name = file_name(receipt)
                archive.writestr(name, pdf.stored_bytes(receipt, _archived(receipt)))
                donor = receipt.snapshot["donor"]
                index.append(
                    [
                        receipt.display_number,
                        _issued_on(receipt),
                        donor["name"],
                        donor["codice_fiscale"] or donor["partita_iva"],
                        cents_to_decimal(receipt.amount_cents),
                        receipt.status,
                        name,
                    ]
                )
                if progress:
                    progress(1)
        archive.writestr(
            "index.csv", to_csv(INDEX_HEADER, index), compress_type=zipfile.ZIP_DEFLATED
        )
    return len(ids)


def ledger_rows(scope: Scope) -> Iterator[list]:
    """One row per receipt, voided ones with the number of the receipt that replaced them."""
    replacement = aliased(Receipt)
    result = db.session.execute(
        _where(
            select(Receipt, replacement.display_number).outerjoin(
                replacement, replacement.replaces_id == Receipt.id
            ),
            scope,
        )
        .order_by(Receipt.organisation_id, Receipt.year, Receipt.number)
        .execution_options(yield_per=BATCH)
    )
    for receipt, voided_by in result:
        snapshot = receipt.snapshot
        gifts = snapshot["gifts"]
        yield [
            receipt.display_number,
            _issued_on(receipt),
            snapshot["donor"]["name"],
            snapshot["donor"]["codice_fiscale"] or snapshot["donor"]["partita_iva"],
            cents_to_decimal(receipt.amount_cents),
            ", ".join(dict.fromkeys(g["method"] for g in gifts)),
            ", ".join(dict.fromkeys(g["campaign"]["title"] for g in gifts)),
            ", ".join(
                dict.fromkeys(p["title"] for g in gifts for p in g["campaign"]["programmes"])
            ),
            receipt.status,
            voided_by or "",
        ]


def ledger_csv(scope: Scope) -> Iterator[str]:
    return iter_csv(LEDGER_HEADER, ledger_rows(scope))


@dataclass(frozen=True)
class Line:
    """One method's or campaign's totals: from valid receipts and from the donations."""

    label: str
    receipted_cents: int
    donations_cents: int
    gifts: int
    not_receipted: int

    @property
    def difference_cents(self) -> int:
        return self.donations_cents - self.receipted_cents


@dataclass(frozen=True)
class Unreceipted:
    """Gifts of the year without a valid receipt, by why (policy, threshold, pending)."""

    reason: str
    gifts: int
    amount_cents: int


def _in_year(year: int):
    """Gifts made in the year (by the day received, Europe/Rome), with something kept."""
    return and_(
        Donation.received_on >= date(year, 1, 1),
        Donation.received_on < date(year + 1, 1, 1),
        Donation.amount_cents > Donation.refunded_cents,
    )


def _gifts(year: int, organisation_id: int | None):
    conditions = [GIFT, _in_year(year)]
    if organisation_id:
        conditions.append(Donation.organisation_id == organisation_id)
    return and_(*conditions)


def _covered():
    """Per gift, what valid receipts count for it (a per-gift and an annual receipt of the
    same gift, under the "both" policy, count once)."""
    return (
        select(
            ReceiptGift.donation_id,
            func.max(ReceiptGift.amount_cents).label("cents"),
        )
        .join(Receipt, Receipt.id == ReceiptGift.receipt_id)
        .where(Receipt.status == ReceiptStatus.ISSUED)
        .group_by(ReceiptGift.donation_id)
        .subquery()
    )


def reconciliation(year: int, organisation_id: int | None) -> dict:
    """Totals per method and per campaign of the year's gifts (by the day they were made):
    from the donations (net of refunds) and from their valid receipts."""
    covered = _covered()

    def lines(label_column, *join) -> list[Line]:
        stmt = select(
            label_column,
            func.coalesce(func.sum(covered.c.cents), 0),
            func.sum(NET),
            func.count(Donation.id),
            func.count(Donation.id) - func.count(covered.c.donation_id),
        ).outerjoin(covered, covered.c.donation_id == Donation.id)
        for target, on in join:
            stmt = stmt.join(target, on)
        rows = db.session.execute(
            stmt.where(_gifts(year, organisation_id)).group_by(label_column).order_by(label_column)
        )
        return [Line(str(label), int(r), int(d), g, n) for label, r, d, g, n in rows]

    return {
        "methods": lines(Donation.method),
        "campaigns": lines(Campaign.title, (Campaign, Campaign.id == Donation.campaign_id)),
        "unreceipted": unreceipted(year, organisation_id),
    }


def _reason():
    """Why a gift has no valid receipt; the first that applies."""
    policy = func.coalesce(ReceiptSettings.policy, Policy.PER_GIFT.value)
    return case(
        (ReceiptDue.donation_id.is_not(None), "due"),
        (policy == Policy.ANNUAL.value, "annual_policy"),
        (func.coalesce(ReceiptSettings.threshold_cents, 0) > NET, "below_threshold"),
        else_="missing",
    )


def _without_receipt(stmt, year: int, organisation_id: int | None):
    covered = _covered()
    return (
        stmt.outerjoin(covered, covered.c.donation_id == Donation.id)
        .outerjoin(ReceiptSettings, ReceiptSettings.organisation_id == Donation.organisation_id)
        .outerjoin(ReceiptDue, ReceiptDue.donation_id == Donation.id)
        .where(_gifts(year, organisation_id), covered.c.donation_id.is_(None))
    )


def unreceipted(year: int, organisation_id: int | None) -> list[Unreceipted]:
    reason = _reason()
    rows = db.session.execute(
        _without_receipt(
            select(reason, func.count(Donation.id), func.sum(NET)), year, organisation_id
        )
        .group_by(reason)
        .order_by(reason)
    )
    return [Unreceipted(r, n, int(c)) for r, n, c in rows]


def below_threshold(year: int, organisation_id: int | None):
    """The year's gifts without a receipt because they are below the threshold (the
    reconciliation's "below_threshold" line, gift by gift), for the treasurer to issue one."""
    return (
        _without_receipt(select(Donation), year, organisation_id)
        .where(_reason() == "below_threshold")
        .order_by(Donation.received_on, Donation.id)
    )


def _person_gifts(organisation_id: int):
    return and_(
        Donation.organisation_id == organisation_id,
        Donation.method.in_([m.value for m in TRACEABLE]),  # payments.methods: no cash
        Donor.kind == DonorKind.PERSON,
    )


def _has_tax_code():
    return and_(Donor.codice_fiscale.is_not(None), Donor.codice_fiscale != "")


def precompilata_rows(year: int, organisation_id: int) -> list[list]:
    """Per codice fiscale: the gifts of the year (net of the refunds made on them within the
    year), and the refunds of earlier years' gifts recorded in this year, with the year of
    the gift; then the totals. Natural persons and traceable money only.

    Refunds are dated by their Refund row (staff refunds, and Stripe's through the
    charge.refunded webhook). A refund made after the year belongs to the data set of its
    own year, so a year's data set does not change once sent; a refund known only from a
    total on the gift (a lost dispute) is counted against the gift's own year."""
    cf = func.upper(Donor.codice_fiscale)
    start, end = _rome_midnight(date(year, 1, 1)), _rome_midnight(date(year + 1, 1, 1))
    later = (
        select(Refund.donation_id, func.sum(Refund.amount_cents).label("cents"))
        .where(Refund.created_at >= end)
        .group_by(Refund.donation_id)
        .subquery()
    )
    # A later refund asked of Stripe and not yet confirmed is in no total: cap at the gift.
    given = NET + func.coalesce(later.c.cents, 0)
    kept = func.sum(case((given > Donation.amount_cents, Donation.amount_cents), else_=given))
    gifts = db.session.execute(
        select(cf, kept)
        .join(Donor, Donor.id == Donation.donor_id)
        .outerjoin(later, later.c.donation_id == Donation.id)
        .where(
            _person_gifts(organisation_id),
            _has_tax_code(),
            Donation.status.in_([Status.SUCCEEDED, Status.REFUNDED]),
            Donation.received_on >= date(year, 1, 1),
            Donation.received_on < date(year + 1, 1, 1),
        )
        .group_by(cf)
        .having(kept > 0)
        .order_by(cf)
    ).all()
    refunds = db.session.execute(
        select(cf, YEAR, func.sum(Refund.amount_cents))
        .select_from(Refund)
        .join(Donation, Donation.id == Refund.donation_id)
        .join(Donor, Donor.id == Donation.donor_id)
        .where(
            _person_gifts(organisation_id),
            _has_tax_code(),
            Refund.created_at >= start,
            Refund.created_at < end,
            Donation.received_on < date(year, 1, 1),
        )
        .group_by(cf, YEAR)
        .order_by(cf, YEAR)
    ).all()
    rows = [[code, GIFT_RECORD, year, cents_to_decimal(c)] for code, c in gifts]
    rows += [[code, REFUND_RECORD, y, cents_to_decimal(c)] for code, y, c in refunds]
    rows.sort(key=lambda row: (row[0], row[1] != GIFT_RECORD, row[2]))
    rows.append(["TOTALE", GIFT_RECORD, year, cents_to_decimal(sum(c for _, c in gifts))])
    rows.append(["TOTALE", REFUND_RECORD, "", cents_to_decimal(sum(c for *_, c in refunds))])
    return rows


def precompilata_csv(year: int, organisation_id: int) -> str:
    return to_csv(PRECOMPILATA_HEADER, precompilata_rows(year, organisation_id))


def without_tax_code_rows(year: int, organisation_id: int) -> list[list]:
    """Natural persons whose traceable gifts of the year cannot be reported: no codice
    fiscale. The treasurer asks them for it, or leaves them out; then the totals."""
    rows = db.session.execute(
        select(Donor, func.count(Donation.id), func.sum(NET))
        .join(Donation, Donation.donor_id == Donor.id)
        .where(
            _person_gifts(organisation_id),
            ~_has_tax_code(),
            GIFT,
            _in_year(year),
        )
        .group_by(Donor.id)
        .order_by(Donor.name_key, Donor.id)
    ).all()
    out = [
        [donor.id, donor.display_name, donor.email, n, cents_to_decimal(c)] for donor, n, c in rows
    ]
    out.append(
        [
            "TOTALE",
            "",
            "",
            sum(n for _, n, _ in rows),
            cents_to_decimal(sum(c for *_, c in rows)),
        ]
    )
    return out


def without_tax_code_csv(year: int, organisation_id: int) -> str:
    return to_csv(NO_TAX_CODE_HEADER, without_tax_code_rows(year, organisation_id))


def record(user: User | None, what: str, **detail) -> None:
    """The audit entry of an export (personal data leaves Legami); committed at once."""
    audit.record(user, f"receipts.export.{what}", "receipts", **detail)
    db.session.commit()


def find_organisation(slug: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def find_campaign(slug: str) -> Campaign | None:
    return db.session.scalar(select(Campaign).where(Campaign.slug == slug))
