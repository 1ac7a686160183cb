"""The treasurer's exports: the receipts' PDFs as a ZIP, the ledger, the reconciliation with
the donations, and the data of the pre-filled tax return (precompilata).

A receipt counts in the ledger and the ZIP as its snapshot says (donor name, codice fiscale,
gifts), so an export reads like the receipts themselves. Totals are summed in SQL.

CSV files are for Italian spreadsheets: Italian headings, `;` between cells, amounts with a
comma and two decimals (`1234,50`), dates as `31/12/2026`, states and payment methods in
words. The XLSX ledger keeps typed numbers and dates under the same headings.

The precompilata: the Agenzia receives a fixed-width file under the technical specifications
of the 2018 provvedimento (kept by the provvedimento of 4 March 2024). Their field positions
could not be found in a source Legami can cite, so Legami writes no such file: it writes a
"prospetto" with exactly the data the communication carries (the organisation's record:
codice fiscale, name, year, tipologia ente; per donor the codice fiscale and the year's
traceable gifts; refunds with the year of the refunded gift), for the treasurer or an
intermediary to enter in the Agenzia's own software; a worksheet (names, totals apart); and
the donors left out (no codice fiscale, or one whose check character is wrong).
"""

import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO

from flask import current_app
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased, joinedload
from stdnum.it import codicefiscale

from campaigns.models import Campaign
from donors.giving_figures import GIFT, NET, YEAR
from donors.models import Donor, DonorKind
from legami import audit
from legami.csv_export import iter_csv, to_csv
from legami.extensions import db
from legami.models import EntityType, Organisation, User
from legami.money import cents_to_decimal
from legami.timeutil import ROME
from payments.methods import TRACEABLE
from payments.models import REFUND_HOLDING, Donation, Refund, Status
from receipts import content, issuing, pdf
from receipts import signals as receipt_signals
from receipts.models import (
    Kind,
    Policy,
    Receipt,
    ReceiptDue,
    ReceiptGift,
    ReceiptSettings,
    ReceiptStatus,
)

BATCH = 200
AMOUNT = "Importo (€)"
INDEX_HEADER = [
    "Numero",
    "Data di emissione",
    "Tipo",
    "Donatore",
    "Codice fiscale o partita IVA",
    AMOUNT,
    "Stato",
    "File",
]
LEDGER_HEADER = [
    "Numero",
    "Data di emissione",
    "Tipo",
    "Donatore",
    "Codice fiscale o partita IVA",
    AMOUNT,
    "Mezzo di pagamento",
    "Campagna",
    "Patto o laboratorio",
    "Stato",
    "Sostituita dalla ricevuta",
]
STATUS_WORDS = {ReceiptStatus.ISSUED: "emessa", ReceiptStatus.VOIDED: "annullata"}
KIND_WORDS = {
    Kind.SINGLE: "ricevuta per dono",
    Kind.ANNUAL: "ricevuta annuale",
    Kind.SUMMARY: "riepilogo (non è una ricevuta)",
}
GIFT_RECORD = "erogazione"
REFUND_RECORD = "rimborso"
PROSPETTO_ENTE_HEADER = ["Codice fiscale dell'ente", "Denominazione", "Anno", "Tipologia ente"]
PROSPETTO_HEADER = ["Codice fiscale del donatore", "Tipo", "Anno dell'erogazione", AMOUNT]
WORKSHEET_HEADER = [
    "Codice fiscale",
    "Donatore",
    "Tipo",
    "Anno dell'erogazione",
    AMOUNT,
]
TOTALS_HEADER = ["Totali", "Soggetti", AMOUNT]
LEFT_OUT_HEADER = [
    "Donatore (id)",
    "Donatore",
    "E-mail",
    "Codice fiscale",
    "Motivo",
    "Doni",
    AMOUNT,
]
NO_TAX_CODE = "codice fiscale mancante"
BAD_TAX_CODE = "codice fiscale non valido (carattere di controllo)"
# The "Tipologia ente" of the communication's header record (receipts-it.md: 0 ONLUS, 4 ODV,
# 6/7 cultural or research foundations, 8 other RUNTS entities). Foundations are entered
# as "other ETS" in Legami: the treasurer corrects 8 to 6 or 7 for them.
TIPOLOGIA_ENTE = {
    EntityType.ONLUS: "0",
    EntityType.ODV: "4",
    EntityType.APS: "8",
    EntityType.OTHER_ETS: "8",
    EntityType.SOCIAL_COOPERATIVE: "8",
}


def italian_amount(cents: int) -> str:
    """Cents as an Italian spreadsheet reads a number: `1234,50` (no thousands dots)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole},{part:02d}"


def italian_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def method_words(method: str) -> str:
    return content.METHODS[method].it


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
    return f"{receipt.organisation.slug}/{pdf.download_name(receipt, _archived(receipt))}"


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
                        italian_day(_issued_on(receipt)),
                        KIND_WORDS[receipt.kind],
                        donor["name"],
                        donor["codice_fiscale"] or donor["partita_iva"],
                        italian_amount(receipt.amount_cents),
                        STATUS_WORDS[receipt.status],
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
    """One row per receipt (summaries are not receipts: they are left out), voided ones
    with the number of the receipt that replaced them; typed values (the CSV formats them)."""
    replacement = aliased(Receipt)
    result = db.session.execute(
        _where(
            select(Receipt, replacement.display_number)
            .outerjoin(replacement, replacement.replaces_id == Receipt.id)
            .where(Receipt.kind != Kind.SUMMARY),
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
            KIND_WORDS[receipt.kind],
            snapshot["donor"]["name"],
            snapshot["donor"]["codice_fiscale"] or snapshot["donor"]["partita_iva"],
            cents_to_decimal(receipt.amount_cents),
            ", ".join(dict.fromkeys(method_words(g["method"]) for g in gifts)),
            ", ".join(dict.fromkeys(g["campaign"]["title"] for g in gifts)),
            ", ".join(
                dict.fromkeys(p["title"] for g in gifts for p in g["campaign"]["programmes"])
            ),
            STATUS_WORDS[receipt.status],
            voided_by or "",
        ]


def _italian_cells(row: list) -> list:
    return [
        italian_day(v)
        if isinstance(v, date)
        else italian_amount(int(v.scaleb(2)))
        if hasattr(v, "scaleb")
        else v
        for v in row
    ]


def ledger_csv(scope: Scope) -> Iterator[str]:
    return iter_csv(LEDGER_HEADER, (_italian_cells(row) for row in ledger_rows(scope)))


@dataclass(frozen=True)
class Line:
    """One method's or campaign's totals: from valid receipts and from the donations.
    `key` is what the donations list filters on (the method, the campaign's id)."""

    key: str | int
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


def _gifts(year: int, organisation_id: int | None, since: date | None = None):
    conditions = [GIFT, _in_year(year)]
    if organisation_id:
        conditions.append(Donation.organisation_id == organisation_id)
    if since:
        conditions.append(Donation.received_on >= since)
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
        .where(Receipt.status == ReceiptStatus.ISSUED, Receipt.kind != Kind.SUMMARY)
        .group_by(ReceiptGift.donation_id)
        .subquery()
    )


def reconciliation(year: int, organisation_id: int | None) -> dict:
    """Totals per method and per campaign of the year's gifts (by the day they were made):
    from the donations (net of refunds) and from their valid receipts."""
    covered = _covered()

    def lines(key_column, label_column, *join) -> list[Line]:
        stmt = select(
            key_column,
            label_column,
            func.coalesce(func.sum(covered.c.cents), 0),
            func.sum(NET),
            func.count(Donation.id),
            func.count(Donation.id) - func.count(covered.c.donation_id),
        ).outerjoin(covered, covered.c.donation_id == Donation.id)
        for target, on in join:
            stmt = stmt.join(target, on)
        rows = db.session.execute(
            stmt.where(_gifts(year, organisation_id))
            .group_by(key_column, label_column)
            .order_by(label_column, key_column)
        )
        return [Line(key, str(label), int(r), int(d), g, n) for key, label, r, d, g, n in rows]

    return {
        "methods": lines(Donation.method, Donation.method),
        "campaigns": lines(
            Campaign.id, Campaign.title, (Campaign, Campaign.id == Donation.campaign_id)
        ),
        "unreceipted": unreceipted(year, organisation_id),
    }


# Why a gift has no valid receipt, in the order they are tested; the last two are gifts that
# should have one: the tax-deductible ones apart from cash and other untraceable means.
REASONS = ("due", "annual_policy", "below_threshold", "not_deductible", "missing")
# The reasons whose receipts the treasurer issues in one run (issue_missing).
ISSUABLE = ("not_deductible", "missing")


def _reason():
    """Why a gift has no valid receipt; the first that applies (REASONS)."""
    policy = func.coalesce(ReceiptSettings.policy, Policy.PER_GIFT.value)
    return case(
        (ReceiptDue.donation_id.is_not(None), "due"),
        (policy == Policy.ANNUAL.value, "annual_policy"),
        (func.coalesce(ReceiptSettings.threshold_cents, 0) > NET, "below_threshold"),
        (Donation.deductible.is_(False), "not_deductible"),
        else_="missing",
    )


def _without_receipt(stmt, year: int, organisation_id: int | None, since: date | None = None):
    # NOT EXISTS, looked up gift by gift through the receipt_gifts index: the valid receipts
    # of all years are never grouped to find the few gifts without one.
    covered = (
        select(ReceiptGift.donation_id)
        .join(Receipt, Receipt.id == ReceiptGift.receipt_id)
        .where(
            ReceiptGift.donation_id == Donation.id,
            Receipt.status == ReceiptStatus.ISSUED,
            Receipt.kind != Kind.SUMMARY,
        )
        .exists()
    )
    return (
        stmt.outerjoin(ReceiptSettings, ReceiptSettings.organisation_id == Donation.organisation_id)
        .outerjoin(ReceiptDue, ReceiptDue.donation_id == Donation.id)
        .where(_gifts(year, organisation_id, since), ~covered)
    )


def unreceipted(
    year: int, organisation_id: int | None, since: date | None = None
) -> list[Unreceipted]:
    """The year's gifts (received from `since` on, when given) without a valid receipt,
    counted by reason in the order of REASONS."""
    reason = _reason()
    rows = db.session.execute(
        _without_receipt(
            select(reason, func.count(Donation.id), func.sum(NET)), year, organisation_id, since
        ).group_by(reason)
    )
    found = [Unreceipted(r, n, int(c)) for r, n, c in rows]
    return sorted(found, key=lambda row: REASONS.index(row.reason))


def unreceipted_gifts(year: int, organisation_id: int | None, reason: str):
    """The year's gifts without a receipt for `reason` (one line of the reconciliation,
    gift by gift), oldest first."""
    return (
        _without_receipt(select(Donation), year, organisation_id)
        .where(_reason() == reason)
        .order_by(Donation.received_on, Donation.id)
    )


def issue_missing(
    year: int,
    organisation_id: int | None,
    reason: str,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Issue the receipts of the year's gifts that lack one for `reason` (one of ISSUABLE),
    one committed transaction per BATCH gifts, each mailed to its donor (the thank-you went
    out without it); returns how many were issued. Re-running issues only what is still
    missing: a gift that has a receipt meanwhile is skipped, never receipted twice."""
    if reason not in ISSUABLE:
        raise ValueError(f"receipts are not issued in bulk for {reason!r}")
    ids = db.session.scalars(
        unreceipted_gifts(year, organisation_id, reason).with_only_columns(Donation.id)
    ).all()
    app = current_app._get_current_object()
    issued = 0
    for start in range(0, len(ids), BATCH):
        for donation_id in ids[start : start + BATCH]:
            if issuing.current_receipt(donation_id) is not None:
                continue
            receipt = issuing.issue_for_gift(donation_id)
            if receipt is not None:
                issued += 1
                receipt_signals.receipt_send_requested.send(app, receipt_id=receipt.id)
        db.session.commit()
        if progress:
            progress(min(start + BATCH, len(ids)), len(ids))
    return issued


def _person_gifts(organisation_id: int):
    return and_(
        Donation.organisation_id == organisation_id,
        Donation.method.in_([m.value for m in TRACEABLE]),  # payments.methods: no cash
        Donor.kind == DonorKind.PERSON,
    )


def valid_tax_code(code: str | None) -> bool:
    """A natural person's codice fiscale with the right check character (omocodia too)."""
    return bool(code) and len(code) == 16 and codicefiscale.is_valid(code)


@dataclass
class Holder:
    """A natural person the communication reports, by codice fiscale."""

    code: str
    name: str
    gifts_cents: int = 0
    refunds: dict = None  # year of the refunded gift -> cents

    def __post_init__(self):
        self.refunds = defaultdict(int)


def _holders_of(joint: aliased, *columns):
    return select(
        *columns,
        Donor.id,
        func.upper(Donor.codice_fiscale),
        Donor.kind,
        joint.id,
        func.upper(joint.codice_fiscale),
        joint.kind,
        Donation.id,
    )


def _split(cents: int, row, holders: dict, names: dict, add) -> None:
    """Credit `cents` to the gift's donor, or half to each holder of a joint account; only
    natural persons with a codice fiscale count (the others are listed apart)."""
    donor_id, code, kind, joint_id, joint_code, joint_kind = row[-7:-1]
    parts = [(donor_id, code, kind, cents)]
    if joint_id is not None:
        first, second = content.joint_shares(cents)
        parts = [(donor_id, code, kind, first), (joint_id, joint_code, joint_kind, second)]
    for holder_id, tax_code, holder_kind, share in parts:
        if holder_kind != DonorKind.PERSON or not valid_tax_code(tax_code) or share <= 0:
            continue
        holder = holders.setdefault(tax_code, Holder(tax_code, names.get(holder_id, "")))
        add(holder, share)


def precompilata_holders(year: int, organisation_id: int) -> list[Holder]:
    """Per codice fiscale: the gifts of the year (net of the refunds made on them within the
    year), and the refunds of earlier years' gifts recorded in this year, with the year of
    the gift. Natural persons and traceable money only; a joint account's gift half to each
    holder; codici fiscali whose check character is wrong are left out (see left_out_rows).

    Refunds are dated by their Refund row (staff refunds, and Stripe's through the
    charge.refunded webhook); only those whose money went back count (a failed or canceled
    Stripe refund stays a row with its status and changes nothing). A refund made after the
    year belongs to the data set of its own year, so a year's data set does not change once
    sent; a refund known only from a total on the gift (a lost dispute) is counted against
    the gift's own year."""
    joint = aliased(Donor)
    start, end = _rome_midnight(date(year, 1, 1)), _rome_midnight(date(year + 1, 1, 1))
    later = (
        select(Refund.donation_id, func.sum(Refund.amount_cents).label("cents"))
        .where(Refund.created_at >= end, Refund.status.in_([s.value for s in REFUND_HOLDING]))
        .group_by(Refund.donation_id)
        .subquery()
    )
    # A later refund asked of Stripe and not yet confirmed is in no total: cap at the gift.
    given = NET + func.coalesce(later.c.cents, 0)
    kept = case((given > Donation.amount_cents, Donation.amount_cents), else_=given)
    gifts = db.session.execute(
        _holders_of(joint, kept, YEAR)
        .join(Donor, Donor.id == Donation.donor_id)
        .outerjoin(joint, joint.id == Donation.joint_donor_id)
        .outerjoin(later, later.c.donation_id == Donation.id)
        .where(
            _person_gifts(organisation_id),
            Donation.status.in_([Status.SUCCEEDED, Status.REFUNDED]),
            Donation.received_on >= date(year, 1, 1),
            Donation.received_on < date(year + 1, 1, 1),
        )
        .order_by(Donation.id)
    ).all()
    refunds = db.session.execute(
        _holders_of(joint, Refund.amount_cents, YEAR)
        .select_from(Refund)
        .join(Donation, Donation.id == Refund.donation_id)
        .join(Donor, Donor.id == Donation.donor_id)
        .outerjoin(joint, joint.id == Donation.joint_donor_id)
        .where(
            _person_gifts(organisation_id),
            # Refunds of gifts that counted (not of one in review, or refused in review).
            Donation.status.in_([Status.SUCCEEDED, Status.REFUNDED]),
            Refund.status.in_([s.value for s in REFUND_HOLDING]),
            Refund.created_at >= start,
            Refund.created_at < end,
            Donation.received_on < date(year, 1, 1),
        )
        .order_by(Refund.id)
    ).all()
    ids = {r[2] for r in gifts + refunds} | {r[5] for r in gifts + refunds if r[5]}
    names = dict(
        db.session.execute(
            select(Donor.id, Donor.first_name + " " + Donor.last_name).where(Donor.id.in_(ids))
        ).all()
    )
    holders: dict[str, Holder] = {}
    for row in gifts:

        def add_gift(holder: Holder, share: int) -> None:
            holder.gifts_cents += share

        _split(int(row[0]), row, holders, names, add_gift)
    for row in refunds:
        gift_year = int(row[1])

        def add_refund(holder: Holder, share: int, gift_year=gift_year) -> None:
            holder.refunds[gift_year] += share

        _split(int(row[0]), row, holders, names, add_refund)
    return [holders[code] for code in sorted(holders)]


def precompilata_rows(year: int, organisation_id: int) -> list[list]:
    """The communication's detail data: per codice fiscale a gift record (the year's total)
    and a refund record per year of refunded gifts; amounts in cents."""
    rows = []
    for holder in precompilata_holders(year, organisation_id):
        if holder.gifts_cents > 0:
            rows.append([holder.code, GIFT_RECORD, year, holder.gifts_cents])
        for gift_year in sorted(holder.refunds):
            rows.append([holder.code, REFUND_RECORD, gift_year, holder.refunds[gift_year]])
    return rows


def precompilata_totals(rows: list[list]) -> list[list]:
    """Totals apart from the data: per record type, the codici fiscali and the amount."""
    out = []
    for record, label in ((GIFT_RECORD, "Erogazioni"), (REFUND_RECORD, "Rimborsi")):
        mine = [row for row in rows if row[1] == record]
        out.append([label, len({row[0] for row in mine}), italian_amount(sum(r[3] for r in mine))])
    return out


def _with_amounts(rows: list[list]) -> list[list]:
    return [[*row[:-1], italian_amount(row[-1])] for row in rows]


def prospetto_csv(year: int, organisation: Organisation) -> str:
    """The prospetto: the organisation's record, the detail records, their totals, in three
    blocks separated by an empty line. Not the file the Agenzia receives (see the module)."""
    rows = precompilata_rows(year, organisation.id)
    ente = [
        organisation.codice_fiscale,
        organisation.name,
        year,
        TIPOLOGIA_ENTE.get(organisation.entity_type, "non previsto"),
    ]
    return (
        to_csv(PROSPETTO_ENTE_HEADER, [ente])
        + "\r\n"
        + to_csv(PROSPETTO_HEADER, _with_amounts(rows)).lstrip("\ufeff")
        + "\r\n"
        + to_csv(TOTALS_HEADER, precompilata_totals(rows)).lstrip("\ufeff")
    )


def worksheet_csv(year: int, organisation_id: int) -> str:
    """The treasurer's worksheet: the same records with each donor's name; totals apart,
    after an empty line."""
    data = []
    for holder in precompilata_holders(year, organisation_id):
        if holder.gifts_cents > 0:
            data.append(
                [holder.code, holder.name, GIFT_RECORD, year, italian_amount(holder.gifts_cents)]
            )
        for gift_year in sorted(holder.refunds):
            cents = holder.refunds[gift_year]
            data.append([holder.code, holder.name, REFUND_RECORD, gift_year, italian_amount(cents)])
    totals = precompilata_totals(precompilata_rows(year, organisation_id))
    return to_csv(WORKSHEET_HEADER, data) + "\r\n" + to_csv(TOTALS_HEADER, totals).lstrip("\ufeff")


def left_out_rows(year: int, organisation_id: int) -> list[list]:
    """Natural persons whose traceable gifts of the year cannot be reported: no codice
    fiscale, or one whose check character is wrong. The treasurer asks them for it."""
    rows = db.session.execute(
        select(Donor, func.count(Donation.id), func.sum(NET))
        .join(Donation, Donation.donor_id == Donor.id)
        .where(_person_gifts(organisation_id), GIFT, _in_year(year))
        .group_by(Donor.id)
        .order_by(Donor.name_key, Donor.id)
    ).all()
    out = []
    for donor, gifts, cents in rows:
        code = (donor.codice_fiscale or "").upper()
        if valid_tax_code(code):
            continue
        reason = BAD_TAX_CODE if code else NO_TAX_CODE
        out.append(
            [donor.id, donor.display_name, donor.email, code, reason, gifts, italian_amount(cents)]
        )
    return out


def left_out_csv(year: int, organisation_id: int) -> str:
    return to_csv(LEFT_OUT_HEADER, left_out_rows(year, organisation_id))


def record(user: User | None, what: str, **detail) -> None:
    """The audit entry of an export (personal data leaves Legami); committed at once."""
    audit.record(user, f"receipts.export.{what}", "receipts", **detail)
    db.session.commit()


def find_organisation(slug: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def find_campaign(slug: str) -> Campaign | None:
    return db.session.scalar(select(Campaign).where(Campaign.slug == slug))
