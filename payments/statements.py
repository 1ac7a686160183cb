"""Bank statements: read CSV (with a saved column mapping) or CAMT.053, match credits to
pending transfers by their reference and amount, confirm what matches, list the rest.

Importing the same statement twice changes nothing: each line has a key (the bank's own
reference, or a digest of its contents) that is unique per organisation.
"""

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from legami import audit
from legami.extensions import db
from legami.money import parse_decimal, parse_euros
from legami.validation import Invalid
from payments import references, treasury
from payments.models import (
    BankStatement,
    CsvMapping,
    Donation,
    LineStatus,
    Method,
    StatementLine,
    Status,
)


@dataclass(frozen=True)
class Credit:
    key: str
    booked_on: date
    amount_cents: int
    description: str
    payer: str


@dataclass(frozen=True)
class ImportResult:
    statement: BankStatement | None
    matched: int
    unmatched: int
    already_imported: int


def _digest(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element, *path):
    """The first descendant along `path`, ignoring the CAMT version's namespace."""
    current = [element]
    for name in path:
        current = [c for e in current for c in e if _local(c.tag) == name]
        if not current:
            return None
    return current[0]


def _text(element, *path) -> str:
    found = _find(element, *path)
    return (found.text or "").strip() if found is not None else ""


def read_camt053(data: bytes) -> list[Credit]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise Invalid({"file": _l("This is not a CAMT.053 XML statement.")}) from exc
    credits = []
    for entry in root.iter():
        if _local(entry.tag) != "Ntry" or _text(entry, "CdtDbtInd") != "CRDT":
            continue
        booked = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10]
        details = _find(entry, "NtryDtls", "TxDtls")
        description = " ".join(
            t.text.strip()
            for t in (details if details is not None else entry).iter()
            if _local(t.tag) == "Ustrd" and t.text
        ) or _text(entry, "AddtlNtryInf")
        payer = _text(details, "RltdPties", "Dbtr", "Nm") if details is not None else ""
        try:
            amount = parse_decimal(_text(entry, "Amt"))
            booked_on = date.fromisoformat(booked)
        except ValueError as exc:
            raise Invalid({"file": _l("A statement entry has no valid amount or date.")}) from exc
        key = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
        credits.append(
            Credit(
                key=key or _digest(booked, amount, description, payer),
                booked_on=booked_on,
                amount_cents=amount,
                description=description,
                payer=payer,
            )
        )
    return credits


def read_csv(data: bytes, mapping: CsvMapping) -> list[Credit]:
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text), delimiter=mapping.delimiter)
    needed = [mapping.date_column, mapping.amount_column, mapping.description_column]
    missing = [c for c in needed if c not in (reader.fieldnames or [])]
    if missing:
        raise Invalid(
            {"file": _l("The file has no column %(columns)s.", columns=", ".join(missing))}
        )
    credits = []
    for number, row in enumerate(reader, start=2):
        try:
            amount = parse_euros(row[mapping.amount_column])
            booked_on = datetime.strptime(
                row[mapping.date_column].strip(), mapping.date_format
            ).date()
        except ValueError as exc:
            raise Invalid(
                {"file": _l("Line %(n)s has no valid amount or date.", n=number)}
            ) from exc
        if amount <= 0:
            continue  # debits are not gifts
        description = row[mapping.description_column].strip()
        payer = row.get(mapping.payer_column, "").strip() if mapping.payer_column else ""
        # Two identical transfers on one day are two lines: the digest counts repeats too.
        base = _digest(booked_on, amount, description, payer)
        repeat = sum(1 for c in credits if c.key.startswith(base))
        credits.append(
            Credit(
                key=f"{base}-{repeat}",
                booked_on=booked_on,
                amount_cents=amount,
                description=description,
                payer=payer,
            )
        )
    return credits


def _match(organisation_id: int, credit: Credit) -> tuple[str, str, Donation | None]:
    found = references.find_references(credit.description)
    if not found:
        return LineStatus.UNMATCHED, "no Legami reference in the causale", None
    donation = db.session.scalar(
        select(Donation).where(
            Donation.payment_reference.in_(found), Donation.organisation_id == organisation_id
        )
    )
    if donation is None:
        return LineStatus.UNMATCHED, f"unknown reference {found[0]}", None
    if donation.method != Method.BANK_TRANSFER:
        return LineStatus.UNMATCHED, "the reference is not a bank transfer", donation
    if donation.amount_cents != credit.amount_cents:
        return LineStatus.UNMATCHED, "the amount differs from the promised gift", donation
    if donation.status != Status.PENDING:
        return LineStatus.UNMATCHED, f"the gift is already {donation.status}", donation
    return LineStatus.MATCHED, "", donation


def import_statement(
    organisation_id: int, filename: str, kind: str, credits: list[Credit], user
) -> ImportResult:
    keys = [c.key for c in credits]
    known = (
        set(
            db.session.scalars(
                select(StatementLine.line_key).where(
                    StatementLine.organisation_id == organisation_id,
                    StatementLine.line_key.in_(keys),
                )
            )
        )
        if keys
        else set()
    )
    fresh = [c for c in credits if c.key not in known]
    if not fresh:
        return ImportResult(None, 0, 0, len(credits))
    statement = BankStatement(
        organisation_id=organisation_id,
        filename=filename[:200],
        format=kind,
        imported_by_id=user.id if user else None,
    )
    db.session.add(statement)
    to_confirm = []
    counts = {LineStatus.MATCHED: 0, LineStatus.UNMATCHED: 0}
    for credit in fresh:
        status, reason, donation = _match(organisation_id, credit)
        if status == LineStatus.MATCHED and donation.id in {d for d, _ in to_confirm}:
            status, reason = LineStatus.UNMATCHED, "a second payment of the same gift"
        counts[status] += 1
        db.session.add(
            StatementLine(
                statement=statement,
                organisation_id=organisation_id,
                line_key=credit.key,
                booked_on=credit.booked_on,
                amount_cents=credit.amount_cents,
                description=credit.description,
                payer=credit.payer[:200],
                status=status,
                reason=reason,
                donation_id=donation.id if donation else None,
            )
        )
        if status == LineStatus.MATCHED:
            to_confirm.append((donation.id, credit.booked_on))
    audit.record(
        user,
        "statement.import",
        f"organisation:{organisation_id}",
        file=filename,
        lines=len(fresh),
        matched=counts[LineStatus.MATCHED],
    )
    db.session.commit()
    for donation_id, booked_on in to_confirm:
        treasury.confirm_transfer(donation_id, booked_on, user, source=f"statement:{statement.id}")
    return ImportResult(
        statement,
        counts[LineStatus.MATCHED],
        counts[LineStatus.UNMATCHED],
        len(credits) - len(fresh),
    )


def match_by_hand(line: StatementLine, donation: Donation, user) -> None:
    """The treasurer pairs an unmatched line with a pending transfer."""
    if line.status != LineStatus.UNMATCHED:
        raise Invalid({"donation": _l("This line is already settled.")})
    if donation.method != Method.BANK_TRANSFER or donation.status != Status.PENDING:
        raise Invalid({"donation": _l("Choose a bank transfer that is still pending.")})
    line.status = LineStatus.MATCHED
    line.donation_id = donation.id
    line.reason = "matched by hand"
    db.session.commit()
    treasury.confirm_transfer(donation.id, line.booked_on, user, source=f"line:{line.id}")


def saved_mapping(organisation_id: int) -> CsvMapping | None:
    return db.session.scalar(
        select(CsvMapping).where(CsvMapping.organisation_id == organisation_id)
    )


def save_mapping(organisation_id: int, **columns) -> CsvMapping:
    mapping = saved_mapping(organisation_id) or CsvMapping(organisation_id=organisation_id)
    for name, value in columns.items():
        setattr(mapping, name, value)
    db.session.add(mapping)
    db.session.flush()
    return mapping
