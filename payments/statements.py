"""Importing a bank statement: record its lines once, confirm the transfers they pay, undo
the confirmations the bank reverses, and say for every row what was done and why.

Guarantees:
- A file is read whole first (payments.camt, payments.bank_csv): a broken one raises Invalid
  before anything is written. The import is one transaction, committed by the caller.
- Imports for one organisation take turns (a row lock on the organisation), and a line
  already imported (same key, payments.bank_lines) is only reported: the same statement
  imported twice, even at the same moment, records each line once and confirms each gift
  once. Every import is kept (BankStatement) with its per-row notes.
- A credit confirms a pending bank transfer only when its causale holds the gift's reference
  (LG-…), and its amount and currency are the gift's, and the payer sent that currency. The
  gift's date is the payer's date when the statement gives one, else the booking date.
- A reversal (camt RvslInd, a CSV "storno", or a debit naming a gift's reference) takes back
  one earlier credit of the same amount and currency with the same EndToEndId or a common
  gift reference: the gift goes back to pending if nothing was issued for it yet, else it is
  refunded (treasury.reverse_transfer). A marked reversal imported before its credit waits
  for it; the credit then confirms nothing. Other debits are not gifts: noted, not stored.
"""

import re
from dataclasses import asdict, dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from legami import audit
from legami.extensions import db
from legami.models import Organisation
from legami.validation import Invalid
from payments import references, treasury
from payments.bank_lines import CREDIT, DEBIT, Line, Note, Parsed, keyed
from payments.labels import STATUS
from payments.models import (
    BankStatement,
    CsvMapping,
    Donation,
    LineStatus,
    Method,
    StatementLine,
    Status,
)

# How far apart a credit and the reversal that takes it back can be booked.
REVERSAL_WINDOW = timedelta(days=400)

REASONS = {
    "confirmed": _l("Confirmed the gift."),
    "by_hand": _l("Matched by hand."),
    "no_reference": _l("No gift reference (LG-…) in the causale."),
    "unknown_reference": _l("No gift has the reference %(detail)s."),
    "not_a_transfer": _l("The reference %(detail)s is not a bank transfer."),
    "currency": _l("Paid in %(detail)s: only a payment in the gift's currency confirms it."),
    "amount": _l("The amount differs from the promised gift (%(detail)s)."),
    "already": _l("The gift is not pending: %(detail)s."),
    "reversed": _l("Taken back by the reversal in row %(detail)s: confirms nothing."),
    "reversal_waiting": _l(
        "A reversal whose credit is not imported: when it is, this takes it back."
    ),
    "reversed_pending": _l("Reversal: the gift is pending again (no receipt had been issued)."),
    "reversed_refunded": _l("Reversal: the gift is refunded (its receipt was already issued)."),
    "reversed_other": _l("Reversal: the gift was %(detail)s already; nothing to undo."),
    "reversed_unmatched": _l("Reversal of a credit that confirmed no gift."),
}
NOTES = {
    "preamble": _l("Rows before the column titles: left out."),
    "titles": _l("The column titles again: left out."),
    "summary": _l("A balance or total row, not a transaction: left out (%(detail)s)."),
    "no_date": _l("A row without a date: left out (%(detail)s)."),
    "no_amount": _l("A row without an amount: left out."),
    "not_booked": _l("Not booked by the bank yet (%(detail)s): left out until it is."),
    "debit": _l("A debit, not a gift: left out."),
    "already_imported": _l("Already imported (statement #%(detail)s): nothing done."),
}


def explain(table: dict, code: str, detail: str = ""):
    """The text of a line's reason or a note (lines imported before these codes: as is)."""
    if code not in table:
        return code
    if code in ("already", "reversed_other"):
        detail = STATUS.get(detail, detail)
    return table[code] % {"detail": detail}


@dataclass(frozen=True)
class ImportResult:
    statement: BankStatement
    counts: dict[str, int]  # by LineStatus, plus "already" and "left_out"


def _lock(organisation_id: int) -> None:
    """Imports for one organisation take turns (FOR NO KEY UPDATE: gifts can still be made)."""
    db.session.execute(
        select(Organisation.id)
        .where(Organisation.id == organisation_id)
        .with_for_update(key_share=True)
    )


def _refs(text: str) -> set[str]:
    return set(references.find_references(text))


def _match(organisation_id: int, line: Line) -> tuple[str, str, str, Donation | None]:
    """(status, reason, detail, gift) for a credit."""
    found = references.find_references(line.description)
    if not found:
        return LineStatus.UNMATCHED, "no_reference", "", None
    donation = db.session.scalar(
        select(Donation)
        .where(Donation.payment_reference.in_(found), Donation.organisation_id == organisation_id)
        .limit(1)
    )
    if donation is None:
        return LineStatus.UNMATCHED, "unknown_reference", found[0], None
    if donation.method != Method.BANK_TRANSFER:
        return LineStatus.UNMATCHED, "not_a_transfer", donation.payment_reference, donation
    if line.sent_currency or line.currency != donation.currency:
        return LineStatus.UNMATCHED, "currency", line.sent_currency or line.currency, donation
    if donation.amount_cents != line.amount_cents:
        return LineStatus.UNMATCHED, "amount", donation.payment_reference, donation
    if donation.status != Status.PENDING:
        return LineStatus.UNMATCHED, "already", donation.status, donation
    return LineStatus.MATCHED, "confirmed", "", donation


def _paired(one: StatementLine, other: StatementLine) -> bool:
    """A credit and a reversal are of one payment: same EndToEndId, or a gift reference."""
    if one.end_to_end_id and one.end_to_end_id == other.end_to_end_id:
        return True
    return bool(_refs(one.description) & _refs(other.description))


def _counterparts(line: StatementLine, direction: str, earlier: bool):
    """Lines of the other side of a reversal: same organisation, amount and currency, booked
    within REVERSAL_WINDOW before (earlier=True) or after the line, not yet paired."""
    reversed_ids = select(StatementLine.reverses_id).where(StatementLine.reverses_id.is_not(None))
    window = (
        StatementLine.booked_on.between(line.booked_on - REVERSAL_WINDOW, line.booked_on)
        if earlier
        else StatementLine.booked_on.between(line.booked_on, line.booked_on + REVERSAL_WINDOW)
    )
    query = select(StatementLine).where(
        StatementLine.organisation_id == line.organisation_id,
        StatementLine.id != line.id,
        StatementLine.direction == direction,
        StatementLine.amount_cents == line.amount_cents,
        StatementLine.currency == line.currency,
        window,
    )
    if direction == CREDIT:
        query = query.where(
            StatementLine.status.in_((LineStatus.MATCHED, LineStatus.UNMATCHED)),
            StatementLine.id.not_in(reversed_ids),
        )
    else:
        query = query.where(
            StatementLine.status == LineStatus.UNMATCHED,
            StatementLine.reason == "reversal_waiting",
        )
    return [
        other
        for other in db.session.scalars(query.order_by(StatementLine.id))
        if _paired(line, other)
    ]


def _take_back(reversal: StatementLine, credit: StatementLine, user) -> None:
    reversal.reverses_id = credit.id
    reversal.status = LineStatus.REVERSAL
    if credit.status == LineStatus.MATCHED and credit.donation_id:
        outcome = treasury.reverse_transfer(
            credit.donation_id, reversal.booked_on, user, source=f"statement-line:{reversal.id}"
        )
        reversal.donation_id = credit.donation_id
        known = (Status.PENDING.value, Status.REFUNDED.value)
        reversal.reason = f"reversed_{outcome}" if outcome in known else "reversed_other"
        reversal.detail = "" if outcome in known else outcome
    else:
        reversal.reason = "reversed_unmatched"
    credit.status = LineStatus.IGNORED
    credit.reason = "reversed"
    credit.detail = f"{reversal.position} (#{reversal.statement_id})"


def _credit(row: StatementLine, line: Line, user) -> None:
    waiting = _counterparts(row, DEBIT, earlier=False)
    if waiting:
        _take_back(waiting[0], row, user)
        return
    status, reason, detail, donation = _match(row.organisation_id, line)
    if status == LineStatus.MATCHED and not treasury.confirm_transfer(
        donation.id,
        line.paid_on or line.booked_on,
        user,
        source=f"statement-line:{row.id}",
        currency=line.currency,
    ):
        db.session.refresh(donation)
        status, reason, detail = LineStatus.UNMATCHED, "already", donation.status
    row.status, row.reason, row.detail = status, reason, detail[:200]
    row.donation_id = donation.id if donation else None


def _debit(row: StatementLine, user) -> None:
    credits = _counterparts(row, CREDIT, earlier=True)
    if not credits:
        row.status, row.reason = LineStatus.UNMATCHED, "reversal_waiting"
        return
    # The most recent one, a confirmed one first.
    credits.sort(key=lambda c: (c.status == LineStatus.MATCHED, c.booked_on, c.id))
    _take_back(row, credits[-1], user)


def _is_reversal(line: Line, organisation_id: int) -> bool:
    """A marked reversal, or a debit naming a gift whose credit of that amount is on a
    statement: the money went back (a refund already recorded on the gift changes nothing
    more: treasury.reverse_transfer leaves a refunded gift as it is)."""
    if line.reversal:
        return True
    found = references.find_references(line.description)
    if not found:
        return False
    credit = db.session.scalar(
        select(StatementLine.id)
        .join(Donation, Donation.id == StatementLine.donation_id)
        .where(
            StatementLine.organisation_id == organisation_id,
            StatementLine.direction == CREDIT,
            StatementLine.amount_cents == line.amount_cents,
            Donation.payment_reference.in_(found),
        )
        .limit(1)
    )
    return credit is not None


def import_statement(
    organisation_id: int, filename: str, kind: str, parsed: Parsed, user
) -> ImportResult:
    """Record a read statement's new lines and act on each; the caller commits."""
    _lock(organisation_id)
    statement = BankStatement(
        organisation_id=organisation_id,
        filename=filename[:200],
        format=kind,
        imported_by_id=user.id if user else None,
    )
    db.session.add(statement)
    db.session.flush()
    lines = keyed(parsed.lines)
    known = dict(
        db.session.execute(
            select(StatementLine.line_key, StatementLine.statement_id).where(
                StatementLine.organisation_id == organisation_id,
                StatementLine.line_key.in_([key for key, _ in lines]),
            )
        ).all()
        if lines
        else []
    )
    notes = list(parsed.notes)
    counts = dict.fromkeys([*(s.value for s in LineStatus), "already", "left_out"], 0)
    for key, line in lines:
        if key in known:
            notes.append(Note(line.row, "already_imported", str(known[key])))
            counts["already"] += 1
            continue
        if line.direction == DEBIT and not _is_reversal(line, organisation_id):
            notes.append(Note(line.row, "debit"))
            continue
        row = StatementLine(
            statement=statement,
            organisation_id=organisation_id,
            line_key=key,
            position=line.row,
            direction=line.direction,
            booked_on=line.booked_on,
            paid_on=line.paid_on,
            amount_cents=line.amount_cents,
            currency=line.currency,
            description=line.description,
            payer=line.payer[:200],
            bank_reference=line.bank_reference[:100],
            end_to_end_id=line.end_to_end_id[:100],
            status=LineStatus.UNMATCHED,
        )
        db.session.add(row)
        db.session.flush()
        known[key] = statement.id
        if line.direction == CREDIT:
            _credit(row, line, user)
        else:
            _debit(row, user)
        db.session.flush()
    for line in statement.lines:
        counts[line.status] += 1
    counts["left_out"] = len(notes) - counts["already"]
    notes.sort(key=lambda note: [int(n) for n in re.findall(r"[0-9]+", note.row)])
    statement.notes = [asdict(note) for note in notes]
    audit.record(
        user,
        "statement.import",
        f"statement:{statement.id}",
        organisation=organisation_id,
        file=statement.filename,
        **counts,
    )
    return ImportResult(statement, counts)


def match_by_hand(line_id: int, donation: Donation, user) -> StatementLine:
    """The treasurer pairs a credit left to check with a pending transfer; the caller commits."""
    line = db.session.scalar(
        select(StatementLine)
        .where(StatementLine.id == line_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if line.status != LineStatus.UNMATCHED or line.direction != CREDIT:
        raise Invalid({"reference": _l("This line is already settled.")})
    if donation.method != Method.BANK_TRANSFER or donation.status != Status.PENDING:
        raise Invalid({"reference": _l("Choose a bank transfer that is still pending.")})
    if line.currency != donation.currency:
        raise Invalid({"reference": _l("The line is not in the gift's currency.")})
    if not treasury.confirm_transfer(
        donation.id,
        line.paid_on or line.booked_on,
        user,
        source=f"statement-line:{line.id}",
        currency=line.currency,
    ):
        raise Invalid({"reference": _l("Choose a bank transfer that is still pending.")})
    line.status, line.reason, line.detail = LineStatus.MATCHED, "by_hand", ""
    line.donation_id = donation.id
    return line


def saved_mapping(organisation_id: int) -> CsvMapping | None:
    return db.session.scalar(
        select(CsvMapping).where(CsvMapping.organisation_id == organisation_id)
    )


def save_mapping(organisation_id: int, **columns) -> CsvMapping:
    mapping = saved_mapping(organisation_id) or CsvMapping(organisation_id=organisation_id)
    for name, value in columns.items():
        setattr(mapping, name, value or "")
    db.session.add(mapping)
    db.session.flush()
    return mapping
