"""Donor import from CSV or XLSX: keep the upload, map its columns, check every row (the dry
run), then apply it in batches, one transaction each.

Rows are matched on the normalised e-mail (primary or further address). A row creates a donor,
updates one (history kept in DonorChange), is skipped (nothing new, or the same address as an
earlier row of the file) or is rejected with its reasons. An import only adds: it never empties
a field, removes a tag or withdraws consent, so importing the same file again changes nothing.
Cells are kept as text: a value such as `=HYPERLINK(...)` is stored as written, never evaluated.
"""

import codecs
import csv
import io
import ipaddress
import re
import threading
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import selectinload

from donors import consent
from donors.identity import DonorDetails, apply_changes, find_or_create, normalise_email
from donors.import_presets import IGNORE, PRESETS, TARGETS, TIMEZONES, initial_mapping
from donors.models import (
    ConsentAction,
    ConsentEvent,
    ConsentPurpose,
    ConsentSource,
    Donor,
    DonorChange,
    DonorEmail,
    DonorKind,
    DonorSource,
    ImportJob,
    ImportOutcome,
    ImportRow,
    ImportStatus,
    Suppression,
    Tag,
    email_hash,
    fold,
)
from legami import audit
from legami.extensions import db
from legami.i18n import LANGUAGES
from legami.identifiers import InvalidIdentifier, normalise_codice_fiscale, normalise_partita_iva
from legami.models import User
from legami.timeutil import now_utc
from legami.validation import Invalid

BATCH_SIZE = 500
SUFFIXES = (".csv", ".txt", ".xlsx")
# Targets that several columns may feed (their values are joined); the others take one column.
REPEATABLE = {"tags", "notes", IGNORE}
# The donor fields a row can set, as DonorDetails names them.
DONOR_FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "organisation_name",
    "codice_fiscale",
    "partita_iva",
    "street",
    "postal_code",
    "town",
    "province",
    "country",
    "language",
    "phone",
)
FREE_TEXT = {"first_name", "last_name", "organisation_name", "street", "town"}
YES = {"yes", "y", "si", "s", "true", "1", "x", "ok", "subscribed", "iscritto", "iscritta"}
NO = {"no", "n", "false", "0", "unsubscribed", "non iscritto", "non iscritta"}
KINDS = {
    DonorKind.PERSON: {"person", "persona", "persona fisica", "individual", "privato", "privata"},
    DonorKind.ORGANISATION: {
        "organisation",
        "organization",
        "organizzazione",
        "ente",
        "azienda",
        "impresa",
        "associazione",
        "company",
        "persona giuridica",
    },
}
COUNTRY_NAMES = {"italia": "IT", "italy": "IT"}
LANGUAGE_NAMES = {"italiano": "it", "italian": "it", "inglese": "en", "english": "en"}
ITALIAN_TIMES = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y")

REASONS = {
    "no_email": _l("No e-mail address"),
    "bad_email": _l("Not a valid e-mail address"),
    "bad_codice_fiscale": _l("Not a valid codice fiscale"),
    "bad_partita_iva": _l("Not a valid partita IVA"),
    "bad_kind": _l("Neither a person nor an organisation: %(detail)s"),
    "bad_province": _l("The province is not two letters: %(detail)s"),
    "bad_country": _l("The country is not a two-letter code: %(detail)s"),
    "bad_consent": _l("The consent is neither yes nor no: %(detail)s"),
    "bad_time": _l("Not a date and time: %(detail)s"),
    "too_long": _l("Too long: %(detail)s"),
    "missing_name": _l("No name: a person needs a last name, an organisation its name"),
    "suppressed": _l("This address was erased or unsubscribed: it is not imported again"),
    "duplicate": _l("Same e-mail as row %(detail)s"),
    "no_change": _l("Nothing new"),
    "changes": _l("Changes: %(detail)s"),
    "consent": _l("Newsletter consent"),
    "consent_kept_off": _l(
        "Consent not imported: the donor withdrew it later or the address is suppressed"
    ),
}


class UnreadableFile(Exception):
    pass


# Reading the file -----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 with or without a BOM; otherwise Windows-1252, as Excel saves CSV in Italy."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    """The one of `,` `;` and tab that splits the header line into the most columns."""
    header = text.split("\n", 1)[0]
    return max(",;\t", key=lambda d: len(next(csv.reader([header], delimiter=d), [])))


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    # data_only=False: a formula cell is read as its text and never evaluated.
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
    finally:
        workbook.close()


def _records(path: Path) -> Iterator[list[str]]:
    """Every record of the file, the header first, as text cells."""
    if path.suffix.lower() == ".xlsx":
        return _xlsx_rows(path)
    return _csv_rows(path.read_bytes())


def read_file(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The headers, and the non-blank data rows with their row number in the file (the
    header is row 1), as a spreadsheet numbers them."""
    records = _records(path)
    try:
        headers = [h.strip() for h in next(records)]
    except StopIteration:
        return [], iter(())
    except Exception as exc:  # a damaged or foreign file: openpyxl and zipfile raise many kinds
        raise UnreadableFile(str(exc)) from exc
    while headers and not headers[-1]:
        headers.pop()
    return headers, _data_rows(records)


def _data_rows(records: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    try:
        for number, cells in enumerate(records, start=2):
            if any(cell.strip() for cell in cells):
                yield number, cells
    except Exception as exc:  # as above, and csv.Error for a broken CSV
        raise UnreadableFile(str(exc)) from exc


def stored_file(job: ImportJob) -> Path:
    return Path(current_app.instance_path) / job.stored_path


def create_job(filename: str, data: bytes, preset: str, user_id: int | None) -> ImportJob:
    """Keep the upload under instance/imports/ and propose a mapping from the preset."""
    name = Path(filename.replace("\\", "/")).name or "import.csv"
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise Invalid({"file": _l("Upload a CSV or XLSX file.")})
    if preset not in PRESETS:
        raise Invalid({"preset": _l("Choose a preset.")})
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{uuid.uuid4().hex}{suffix}"
    path = folder / stored
    path.write_bytes(data)
    try:
        headers, rows = read_file(path)
        total = sum(1 for _ in rows)
    except UnreadableFile as exc:
        path.unlink()
        raise Invalid({"file": _l("This file cannot be read as CSV or XLSX.")}) from exc
    if not headers:
        path.unlink()
        raise Invalid({"file": _l("The file is empty.")})
    job = ImportJob(
        filename=name[:255],
        stored_path=f"imports/{stored}",
        preset=preset,
        mapping=initial_mapping(headers, preset),
        total_rows=total,
        created_by_id=user_id,
    )
    db.session.add(job)
    db.session.flush()
    return job


def preview(job: ImportJob, samples: int = 3) -> list[tuple[str, list[str]]]:
    """Each column's header with its first few values, for the mapping page."""
    headers, rows = read_file(stored_file(job))
    first = [cells for _, cells in islice(rows, samples)]
    return [
        (header, [row[i].strip() for row in first if i < len(row) and row[i].strip()])
        for i, header in enumerate(headers)
    ]


def set_mapping(job: ImportJob, mapping: dict) -> None:
    """Check and keep a mapping; a dry run made with another mapping is dropped."""
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED):
        raise Invalid({"mapping": _l("This import has already run.")})
    headers, _ = read_file(stored_file(job))
    columns = list(mapping.get("columns", []))
    if len(columns) != len(headers) or any(c not in TARGETS for c in columns):
        raise Invalid({"mapping": _l("Choose what each column holds.")})
    if "email" not in columns:
        raise Invalid({"mapping": _l("One column must hold the e-mail address.")})
    repeated = sorted({c for c in columns if columns.count(c) > 1} - REPEATABLE)
    if repeated:
        fields = LazyString(lambda: ", ".join(str(TARGETS[c]) for c in repeated))
        raise Invalid({"mapping": _l("Only one column can hold: %(fields)s.", fields=fields)})
    if mapping.get("timezone") not in TIMEZONES:
        raise Invalid({"mapping": _l("Choose the time zone of the file's times.")})
    job.mapping = {
        "columns": columns,
        "consent_all": bool(mapping.get("consent_all")),
        "timezone": mapping["timezone"],
    }
    job.status = ImportStatus.UPLOADED
    db.session.execute(delete(ImportRow).where(ImportRow.job_id == job.id, ImportRow.dry_run))


# Reading one row ------------------------------------------------------------------------------


@dataclass
class Parsed:
    """One row's values, cleaned; `problems` holds the reasons to reject it."""

    email: str = ""
    values: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    consent: bool | None = None
    consent_time: datetime | None = None
    consent_ip: str = ""
    confirm_time: datetime | None = None
    confirm_ip: str = ""
    problems: list[str] = field(default_factory=list)


def _clean(value: str, free_text: bool) -> str:
    """NFC for names and places (accents kept), NFKC for codes (full-width digits become
    digits); surrounding and repeated spaces dropped."""
    text = unicodedata.normalize("NFC" if free_text else "NFKC", value)
    return " ".join(text.split())


def _split_tags(text: str) -> list[str]:
    """`"Donatori 2023","Volontari"` (Mailchimp) or `Donatori 2023, Volontari; Soci`."""
    parts = next(csv.reader([text], skipinitialspace=True), [])
    return [_clean(t, True) for p in parts for t in p.split(";") if t.strip()]


def _split_address(text: str) -> dict[str, str]:
    """Mailchimp's address cell: street, (more street,) town, province, postal code and
    country, separated by two or more spaces."""
    parts = [p for p in (_clean(p, True) for p in re.split(r"\s{2,}", text)) if p]
    found = {}
    if len(parts) > 1 and re.fullmatch(r"[A-Za-z]{2}", parts[-1]):
        found["country"] = parts.pop()
    if len(parts) > 1 and re.fullmatch(r"\d{4,5}", parts[-1]):
        found["postal_code"] = parts.pop()
    if len(parts) > 1 and re.fullmatch(r"[A-Za-z]{2}", parts[-1]):
        found["province"] = parts.pop()
    if len(parts) > 1:
        found["town"] = parts.pop()
    if parts:
        found["street"] = ", ".join(parts)
    return found


def _parse_time(text: str, zone: ZoneInfo) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        for fmt in ITALIAN_TIMES:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""


def _check_email(text: str, parsed: Parsed) -> None:
    if not text:
        parsed.problems.append("no_email")
        return
    parsed.email = normalise_email(text)
    try:
        validate_email(parsed.email, check_deliverability=False)
    except EmailNotValidError:
        parsed.problems.append("bad_email")
    if len(parsed.email) > Donor.email.type.length:
        parsed.problems.append("too_long:email")


def _clean_values(values: dict[str, str], parsed: Parsed) -> None:
    """Codes to their canonical form; anything that cannot be is a reason to reject."""
    if "kind" in values:
        word = fold(values["kind"])
        kind = next((k for k, words in KINDS.items() if word in words), None)
        if kind is None:
            parsed.problems.append(f"bad_kind:{values.pop('kind')}")
        else:
            values["kind"] = kind
    if "codice_fiscale" in values:
        try:
            values["codice_fiscale"] = normalise_codice_fiscale(values["codice_fiscale"])
        except InvalidIdentifier:
            parsed.problems.append("bad_codice_fiscale")
            del values["codice_fiscale"]
    if "partita_iva" in values:
        try:
            values["partita_iva"] = normalise_partita_iva(values["partita_iva"])
        except InvalidIdentifier:
            parsed.problems.append("bad_partita_iva")
            del values["partita_iva"]
    if "country" in values:
        country = COUNTRY_NAMES.get(fold(values["country"]), values["country"].upper())
        if re.fullmatch(r"[A-Z]{2}", country):
            values["country"] = country
        else:
            parsed.problems.append(f"bad_country:{values.pop('country')}")
    if "province" in values:
        province = values["province"].upper()
        if re.fullmatch(r"[A-Z]{2}", province):
            values["province"] = province
        else:
            parsed.problems.append(f"bad_province:{values.pop('province')}")
    postal_code = values.get("postal_code", "")
    if postal_code.isdigit() and len(postal_code) < 5 and values.get("country", "IT") == "IT":
        # A spreadsheet that took the CAP for a number dropped its leading zeros.
        values["postal_code"] = postal_code.zfill(5)
    if "language" in values:
        word = fold(values["language"])
        code = LANGUAGE_NAMES.get(word, word.replace("_", "-").split("-")[0])
        # A language the site does not speak is left out, not a reason to reject the row.
        if code in LANGUAGES:
            values["language"] = code
        else:
            del values["language"]
    for name, value in values.items():
        if len(value) > Donor.__table__.c[name].type.length:
            parsed.problems.append(f"too_long:{name}")


def _consent(text: str, parsed: Parsed) -> None:
    word = fold(text)
    if word in YES:
        parsed.consent = True
    elif word in NO:
        parsed.consent = False
    else:
        parsed.problems.append(f"bad_consent:{text}")


def parse_row(cells: list[str], mapping: dict) -> Parsed:
    """A row's cells, by the mapping, as donor values; what is wrong with it in `problems`."""
    parsed = Parsed()
    zone = ZoneInfo(mapping["timezone"])
    given: dict[str, str] = {}
    notes: list[str] = []
    for index, target in enumerate(mapping["columns"]):
        raw = cells[index] if index < len(cells) else ""
        if target == IGNORE or not raw.strip():
            continue
        if target == "tags":
            parsed.tags.extend(_split_tags(raw))
        elif target == "notes":
            notes.append(unicodedata.normalize("NFC", raw).strip())
        elif target == "address":
            given[target] = raw  # split on its runs of spaces first
        else:
            given[target] = _clean(raw, target in FREE_TEXT)
    _check_email(given.pop("email", ""), parsed)
    address = _split_address(given.pop("address", ""))
    values = {**address, **{k: v for k, v in given.items() if k in DONOR_FIELDS}}
    _clean_values(values, parsed)
    parsed.values = values
    unique_tags = {fold(t): t for t in reversed(parsed.tags)}
    parsed.tags = [unique_tags[k] for k in dict.fromkeys(fold(t) for t in parsed.tags)]
    for tag in parsed.tags:
        if len(tag) > Tag.name.type.length:
            parsed.problems.append("too_long:tags")
    parsed.notes = "\n".join(notes)
    if "consent" in given:
        _consent(given["consent"], parsed)
    elif mapping.get("consent_all"):
        parsed.consent = True
    for name in ("consent_time", "confirm_time"):
        if name in given:
            try:
                setattr(parsed, name, _parse_time(given[name], zone))
            except ValueError:
                parsed.problems.append(f"bad_time:{given[name][:40]}")
    parsed.consent_ip = _ip(given.get("consent_ip", ""))
    parsed.confirm_ip = _ip(given.get("confirm_ip", ""))
    return parsed


# Deciding what to do with a row ---------------------------------------------------------------


@dataclass
class Lookup:
    """What the database knows about one batch's addresses, fetched in a few queries."""

    donors: dict[str, Donor]
    suppressed: set[str]
    withdrawn: dict[int, datetime]

    @classmethod
    def fetch(cls, emails: set[str]) -> "Lookup":
        addresses = sorted(emails)
        donors = {
            d.email: d
            for d in db.session.scalars(
                select(Donor).where(Donor.email.in_(addresses)).options(selectinload(Donor.tags))
            )
        }
        further = db.session.execute(
            select(DonorEmail.email, Donor)
            .join(Donor, DonorEmail.donor_id == Donor.id)
            .where(DonorEmail.email.in_(addresses))
            .options(selectinload(Donor.tags))
        )
        for address, donor in further:
            donors.setdefault(address, donor)
        hashes = {email_hash(e): e for e in emails}
        suppressed = {
            hashes[h]
            for h in db.session.scalars(
                select(Suppression.email_hash).where(Suppression.email_hash.in_(list(hashes)))
            )
        }
        withdrawn = dict(
            db.session.execute(
                select(ConsentEvent.donor_id, func.max(ConsentEvent.occurred_at))
                .where(
                    ConsentEvent.donor_id.in_(sorted({d.id for d in donors.values()})),
                    ConsentEvent.purpose == ConsentPurpose.NEWSLETTER,
                    ConsentEvent.action == ConsentAction.WITHDRAWN,
                )
                .group_by(ConsentEvent.donor_id)
            ).all()
        )
        return cls(donors, suppressed, withdrawn)


@dataclass
class Plan:
    outcome: ImportOutcome
    reasons: list[str]
    email: str = ""
    donor: Donor | None = None
    values: dict[str, str] = field(default_factory=dict)
    new_tags: list[str] = field(default_factory=list)
    note: str = ""
    grant_consent: bool = False


def _has_name(values: dict[str, str], donor: Donor | None) -> bool:
    def value(name):
        return values.get(name) or (getattr(donor, name) if donor else "")

    if value("kind") == DonorKind.ORGANISATION:
        return bool(value("organisation_name"))
    return bool(value("last_name"))


def plan_row(number: int, parsed: Parsed, lookup: Lookup, seen: dict[str, int]) -> Plan:
    """What importing this row would do. `seen` maps each address, and each donor found
    (`donor:<id>`), to the first row that had it: a later row with either is a repeat."""
    if parsed.problems:
        return Plan(ImportOutcome.REJECT, parsed.problems, parsed.email)
    email = parsed.email
    if email in seen:
        return Plan(ImportOutcome.SKIP, [f"duplicate:{seen[email]}"], email)
    donor = lookup.donors.get(email)
    suppressed = email in lookup.suppressed or (donor is not None and donor.is_erased)
    values = dict(parsed.values)
    if donor is None:
        if suppressed:
            return Plan(ImportOutcome.REJECT, ["suppressed"], email)
        if "kind" not in values:
            organisation = values.get("organisation_name") and not values.get("last_name")
            values["kind"] = DonorKind.ORGANISATION if organisation else DonorKind.PERSON
        if not _has_name(values, None):
            return Plan(ImportOutcome.REJECT, ["missing_name"], email)
        seen[email] = number
        grant = bool(parsed.consent)
        return Plan(
            ImportOutcome.CREATE,
            ["consent"] if grant else [],
            email,
            values=values,
            new_tags=parsed.tags,
            note=parsed.notes,
            grant_consent=grant,
        )
    if donor.is_erased:
        return Plan(ImportOutcome.REJECT, ["suppressed"], email, donor)
    if f"donor:{donor.id}" in seen:
        return Plan(ImportOutcome.SKIP, [f"duplicate:{seen[f'donor:{donor.id}']}"], email, donor)
    if not _has_name(values, donor):
        return Plan(ImportOutcome.REJECT, ["missing_name"], email, donor)
    seen[email] = seen[f"donor:{donor.id}"] = number
    changed = [
        name for name in DONOR_FIELDS if name in values and values[name] != getattr(donor, name)
    ]
    known = {fold(t.name) for t in donor.tags}
    new_tags = [t for t in parsed.tags if fold(t) not in known]
    note = parsed.notes if parsed.notes and parsed.notes not in donor.notes else ""
    withdrawn = lookup.withdrawn.get(donor.id)
    given_at = parsed.confirm_time or parsed.consent_time
    withdrew_later = withdrawn is not None and (given_at is None or withdrawn >= given_at)
    wants = bool(parsed.consent) and not donor.newsletter_consent
    grant = wants and not suppressed and not withdrew_later
    fields_changed = changed + (["tags"] if new_tags else []) + (["notes"] if note else [])
    reasons = [f"changes:{','.join(fields_changed)}"] if fields_changed else []
    reasons += ["consent"] if grant else []
    outcome = ImportOutcome.UPDATE if reasons else ImportOutcome.SKIP
    if not reasons:
        reasons = ["no_change"]
    if wants and not grant:
        reasons.append("consent_kept_off")
    return Plan(outcome, reasons, email, donor, values, new_tags, note, grant)


def describe(reason: str) -> str:
    """A row's stored reasons (codes) in the reader's language."""
    described = []
    for part in filter(None, reason.split("; ")):
        code, _, detail = part.partition(":")
        if code in ("changes", "too_long"):
            detail = ", ".join(str(TARGETS.get(name, name)) for name in detail.split(","))
        message = REASONS.get(code)
        described.append(str(message) % {"detail": detail} if message else part)
    return "; ".join(described)


# Applying a row -------------------------------------------------------------------------------


class Tags:
    """The tags by folded name; a new one is created the first time a row needs it."""

    def __init__(self):
        self.by_key = {fold(t.name): t for t in db.session.scalars(select(Tag))}

    def get(self, name: str) -> Tag:
        key = fold(name)
        if key not in self.by_key:
            self.by_key[key] = Tag(name=name)
        return self.by_key[key]


def _grant_consent(donor: Donor, parsed: Parsed, job: ImportJob, user: User | None) -> None:
    """Consent as the file dates it: given at OPTIN_TIME (or CONFIRM_TIME), confirmed at
    CONFIRM_TIME, from the confirming IP if known."""
    event = consent.grant(
        donor,
        ConsentSource.IMPORT,
        ip=parsed.confirm_ip or parsed.consent_ip,
        user=user,
        note=f"import: {job.filename}",
        occurred_at=parsed.consent_time or parsed.confirm_time or now_utc(),
    )
    event.confirmed_at = parsed.confirm_time
    # The privacy notice the person saw was the old list's, not ours: its version is unknown.
    event.notice_version = ""


def _apply(plan: Plan, parsed: Parsed, job: ImportJob, tags: Tags, user: User | None) -> Donor:
    source = f"import:{job.id}:{job.filename}"[:100]
    details = DonorDetails(email=plan.email, **{"language": "", "kind": "", **plan.values})
    donor = find_or_create(
        details, source, created_from=DonorSource.IMPORT, source_detail=job.filename[:200]
    )
    if plan.new_tags:
        before = ", ".join(t.name for t in donor.tags)
        donor.tags.extend(tags.get(name) for name in plan.new_tags)
        if plan.outcome == ImportOutcome.UPDATE:
            after = ", ".join(t.name for t in donor.tags)
            donor.changes.append(
                DonorChange(field="tags", old_value=before, new_value=after, source=source)
            )
    if plan.note:
        if plan.outcome == ImportOutcome.UPDATE:
            apply_changes(donor, {"notes": f"{donor.notes}\n\n{plan.note}".strip()}, source)
        else:
            donor.notes = plan.note
    if plan.grant_consent:
        _grant_consent(donor, parsed, job, user)
    return donor


# Runs -----------------------------------------------------------------------------------------


def _batches(rows, size: int):
    while batch := list(islice(rows, size)):
        yield batch


def _process(job: ImportJob, dry_run: bool, progress: Callable[[int], None] | None) -> None:
    db.session.execute(
        delete(ImportRow).where(ImportRow.job_id == job.id, ImportRow.dry_run == dry_run)
    )
    job.processed_rows = job.created = job.updated = job.skipped = job.rejected = 0
    job.error = ""
    db.session.commit()
    _, rows = read_file(stored_file(job))
    seen: dict[str, int] = {}
    tags = None if dry_run else Tags()
    user = db.session.get(User, job.created_by_id) if job.created_by_id else None
    for batch in _batches(rows, BATCH_SIZE):
        parsed = [(number, parse_row(cells, job.mapping)) for number, cells in batch]
        lookup = Lookup.fetch({p.email for _, p in parsed if p.email and not p.problems})
        records, counts = [], Counter()
        for number, row in parsed:
            plan = plan_row(number, row, lookup, seen)
            donor = plan.donor
            if not dry_run and plan.outcome in (ImportOutcome.CREATE, ImportOutcome.UPDATE):
                donor = _apply(plan, row, job, tags, user)
            counts[plan.outcome] += 1
            records.append(
                {
                    "job_id": job.id,
                    "dry_run": dry_run,
                    "row_number": number,
                    "outcome": plan.outcome,
                    "reason": "; ".join(plan.reasons)[:300],
                    "email": plan.email[:254],
                    "donor_id": donor.id if donor is not None else None,
                }
            )
        db.session.execute(insert(ImportRow), records)
        job.processed_rows += len(batch)
        job.created += counts[ImportOutcome.CREATE]
        job.updated += counts[ImportOutcome.UPDATE]
        job.skipped += counts[ImportOutcome.SKIP]
        job.rejected += counts[ImportOutcome.REJECT]
        db.session.commit()
        if progress:
            progress(len(batch))


def _guarded(job_id: int, dry_run: bool, progress) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    try:
        _process(job, dry_run, progress)
    except Exception as exc:
        db.session.rollback()
        job = db.session.get(ImportJob, job_id)
        job.status = ImportStatus.FAILED
        job.error = str(exc)[:2000] or exc.__class__.__name__
        job.finished_at = now_utc()
        db.session.commit()
        raise
    return job


def check(job_id: int, progress: Callable[[int], None] | None = None) -> ImportJob:
    """The dry run: every row's outcome and reasons, stored as ImportRow(dry_run=True); no
    donor is touched."""
    job = db.session.get(ImportJob, job_id)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED):
        raise Invalid({"status": _l("This import has already run.")})
    job = _guarded(job_id, True, progress)
    job.status = ImportStatus.CHECKED
    db.session.commit()
    return job


def claim(job_id: int) -> bool:
    """Mark the job running, unless it runs or ran already (a second click does nothing)."""
    claimed = db.session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job_id,
            ImportJob.status.in_(
                [ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED]
            ),
        )
        .values(status=ImportStatus.RUNNING, finished_at=None)
    )
    db.session.commit()
    return claimed.rowcount == 1


def run(job_id: int, progress: Callable[[int], None] | None = None) -> ImportJob:
    """The real run of a claimed job: one transaction per batch of rows."""
    job = _guarded(job_id, False, progress)
    job.status = ImportStatus.DONE
    job.finished_at = now_utc()
    user = db.session.get(User, job.created_by_id) if job.created_by_id else None
    audit.record(
        user,
        "donors.import",
        f"import_job:{job.id}",
        filename=job.filename,
        created=job.created,
        updated=job.updated,
        skipped=job.skipped,
        rejected=job.rejected,
    )
    db.session.commit()
    return job


def run_in_background(app, job_id: int) -> threading.Thread:
    """Run a claimed job in a thread with its own app context; the request returns at once."""

    def work():
        with app.app_context():
            try:
                run(job_id)
            except Exception:
                app.logger.exception("donor import %s failed", job_id)

    thread = threading.Thread(target=work, name=f"donor-import-{job_id}")
    thread.start()
    return thread


def outcome_counts(job_id: int, dry_run: bool) -> dict[str, int]:
    counts = dict(
        db.session.execute(
            select(ImportRow.outcome, func.count())
            .where(ImportRow.job_id == job_id, ImportRow.dry_run == dry_run)
            .group_by(ImportRow.outcome)
        ).all()
    )
    return {outcome.value: counts.get(outcome.value, 0) for outcome in ImportOutcome}


def rows_query(job_id: int, dry_run: bool, outcome: str | None):
    query = select(ImportRow).where(ImportRow.job_id == job_id, ImportRow.dry_run == dry_run)
    if outcome in set(ImportOutcome):
        query = query.where(ImportRow.outcome == outcome)
    return query.order_by(ImportRow.row_number)
