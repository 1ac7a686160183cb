"""What importing one parsed row would do, decided from what the database knows about a batch
of rows (fetched in a few queries), and the reasons shown for it.

Rows are matched on the normalised e-mail (primary or further address). A row creates a
donor, updates one, is skipped (nothing new, or the same address or donor as an earlier row
of the file) or is rejected with its reasons. An import only adds: it never empties a field
or removes a tag. Consent:

- a row that consents grants newsletter consent, dated as the file dates it, unless the
  address is suppressed (unsubscribed, bounced or erased: whatever the file says, no import
  gives it back) or the donor withdrew it after the file's opt-in;
- a row that unsubscribed (Mailchimp's unsubscribed members, an opt-out flag) withdraws
  consent, dated when it happened, and suppresses the address;
- a row that bounced (Mailchimp's cleaned members, CiviCRM's on hold) suppresses the address.

A person needs a name unless the row is about a list member (it subscribes, unsubscribes or
bounces); an organisation always needs its name.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, func, select

from donors.import_presets import TARGETS
from donors.import_rows import DONOR_FIELDS, Parsed
from donors.models import (
    DERIVED_KEYS,
    ConsentAction,
    ConsentEvent,
    ConsentPurpose,
    Donor,
    DonorEmail,
    DonorKind,
    ImportOutcome,
    Suppression,
    SuppressionReason,
    Tag,
    donor_tags,
    email_hash,
    fold,
)
from legami.extensions import db
from legami.i18n import when
from legami.sql import among

REASONS = {
    "no_email": _l("No e-mail address"),
    "bad_email": _l("Not a valid e-mail address"),
    "bad_codice_fiscale": _l("Not a valid codice fiscale"),
    "bad_partita_iva": _l("Not a valid partita IVA"),
    "bad_kind": _l("Neither a person nor an organisation: %(detail)s"),
    "bad_province": _l("The province is not two letters: %(detail)s"),
    "bad_country": _l("The country is not a two-letter code: %(detail)s"),
    "bad_consent": _l("The consent is neither yes nor no: %(detail)s"),
    "bad_flag": _l("Neither yes nor no: %(detail)s"),
    "bad_time": _l("Not a date and time: %(detail)s"),
    "too_long": _l("Too long: %(detail)s"),
    "lost_character": _l(
        "A character was lost before this file reached us (it shows as \ufffd): %(detail)s"
    ),
    "missing_name": _l(
        "No name: a person needs a last name unless the row subscribes, unsubscribes or "
        "bounces; an organisation always needs its name"
    ),
    "suppressed": _l("This address was erased or unsubscribed: it is not imported again"),
    "already_suppressed": _l("The address is already suppressed"),
    "duplicate": _l("Same e-mail as row %(detail)s"),
    "no_change": _l("Nothing new"),
    "changes": _l("Changes: %(detail)s"),
    "consent": _l("Newsletter consent"),
    "unsubscribed": _l(
        "Unsubscribed (%(detail)s): newsletter consent withdrawn and the address suppressed"
    ),
    "bounced": _l("Bounced (%(detail)s): the address is suppressed"),
    "consent_suppressed": _l(
        "Newsletter consent not imported: the address is suppressed (unsubscribed, bounced "
        "or erased) and only the person can subscribe it again"
    ),
    "consent_withdrawn_later": _l(
        "Newsletter consent not imported: the donor withdrew it after the file's opt-in"
    ),
}
UNKNOWN_TIME = _l("date unknown")


@dataclass
class Lookup:
    """What the database knows about one batch's addresses, fetched in a few queries.
    Donors are plain rows (id, email, erased_at, newsletter_consent, notes and the fields
    a row can set, and their derived keys), not ORM objects."""

    donors: dict[str, Row]
    tags: dict[int, list[str]]
    suppressed: set[str]
    withdrawn: dict[int, datetime]

    @classmethod
    def fetch(cls, emails: set[str]) -> "Lookup":
        addresses = sorted(emails)
        columns = [
            Donor.id,
            Donor.email,
            Donor.erased_at,
            Donor.newsletter_consent,
            Donor.notes,
            *(getattr(Donor, name) for name in (*DONOR_FIELDS, *DERIVED_KEYS)),
        ]
        donors = {
            row.email: row
            for row in db.session.execute(select(*columns).where(among(Donor.email, addresses)))
        }
        further = db.session.execute(
            select(DonorEmail.email.label("address"), *columns)
            .join(Donor, DonorEmail.donor_id == Donor.id)
            .where(among(DonorEmail.email, addresses))
        )
        for row in further:
            donors.setdefault(row.address, row)
        ids = sorted({d.id for d in donors.values()})
        tags: dict[int, list[str]] = {}
        for donor_id, name in db.session.execute(
            select(donor_tags.c.donor_id, Tag.name)
            .join(Tag, Tag.id == donor_tags.c.tag_id)
            .where(among(donor_tags.c.donor_id, ids))
            .order_by(Tag.name)
        ):
            tags.setdefault(donor_id, []).append(name)
        hashes = {email_hash(e): e for e in emails}
        suppressed = {
            hashes[h]
            for h in db.session.scalars(
                select(Suppression.email_hash).where(among(Suppression.email_hash, hashes))
            )
        }
        withdrawn = dict(
            db.session.execute(
                select(ConsentEvent.donor_id, func.max(ConsentEvent.occurred_at))
                .where(
                    among(ConsentEvent.donor_id, ids),
                    ConsentEvent.purpose == ConsentPurpose.NEWSLETTER,
                    ConsentEvent.action == ConsentAction.WITHDRAWN,
                )
                .group_by(ConsentEvent.donor_id)
            ).all()
        )
        return cls(donors, tags, suppressed, withdrawn)


@dataclass
class Plan:
    """A row's outcome and reasons, and for a real run what to write: the new donor's values
    or the changed ones, tags and note to add, consent to grant or withdraw, the suppression
    reason."""

    outcome: ImportOutcome
    reasons: list[str]
    email: str = ""
    donor: Row | None = None
    values: dict[str, str] = field(default_factory=dict)
    new_tags: list[str] = field(default_factory=list)
    note: str = ""
    grant: bool = False
    withdraw: bool = False
    suppress: str | None = None


def _time_detail(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _leaving_reasons(parsed: Parsed, withdraw: bool, suppress: str | None) -> list[str]:
    reasons = []
    if withdraw or suppress == SuppressionReason.UNSUBSCRIBE:
        reasons.append(f"unsubscribed:{_time_detail(parsed.unsubscribed_at)}")
    elif suppress == SuppressionReason.HARD_BOUNCE:
        reasons.append(f"bounced:{_time_detail(parsed.bounced_at)}")
    return reasons


def _suppression_reason(parsed: Parsed) -> str | None:
    if parsed.unsubscribed:
        return SuppressionReason.UNSUBSCRIBE
    if parsed.bounced:
        return SuppressionReason.HARD_BOUNCE
    return None


def _plan_new(number: int, parsed: Parsed, suppressed: bool, seen: dict[str, int]) -> Plan:
    email, leaving = parsed.email, _suppression_reason(parsed)
    if suppressed:
        if leaving:
            seen[email] = number
            return Plan(ImportOutcome.SKIP, ["already_suppressed"], email)
        return Plan(ImportOutcome.REJECT, ["suppressed"], email)
    values = dict(parsed.values)
    if "kind" not in values:
        organisation = values.get("organisation_name") and not values.get("last_name")
        values["kind"] = DonorKind.ORGANISATION if organisation else DonorKind.PERSON
    if values["kind"] == DonorKind.ORGANISATION:
        named = bool(values.get("organisation_name"))
    else:
        named = bool(values.get("last_name")) or parsed.about_newsletter
    if not named:
        return Plan(ImportOutcome.REJECT, ["missing_name"], email)
    seen[email] = number
    grant = bool(parsed.consent) and not leaving
    reasons = ["consent"] if grant else []
    reasons += _leaving_reasons(parsed, parsed.unsubscribed, leaving)
    if parsed.consent and leaving:
        reasons.append("consent_suppressed")
    return Plan(
        ImportOutcome.CREATE,
        reasons,
        email,
        values=values,
        new_tags=parsed.tags,
        note=parsed.notes,
        grant=grant,
        withdraw=parsed.unsubscribed,
        suppress=leaving,
    )


def plan_row(number: int, parsed: Parsed, lookup: Lookup, seen: dict[str, int]) -> Plan:
    """What importing this row would do. `seen` maps each address, and each donor found
    (`donor:<id>`), to the first row that had it: a later row with either is a repeat."""
    if parsed.problems:
        return Plan(ImportOutcome.REJECT, parsed.problems, parsed.email)
    email = parsed.email
    if email in seen:
        return Plan(ImportOutcome.SKIP, [f"duplicate:{seen[email]}"], email)
    donor = lookup.donors.get(email)
    suppressed = email in lookup.suppressed
    if donor is None:
        return _plan_new(number, parsed, suppressed, seen)
    if donor.erased_at is not None:
        return Plan(ImportOutcome.REJECT, ["suppressed"], email, donor)
    if f"donor:{donor.id}" in seen:
        return Plan(ImportOutcome.SKIP, [f"duplicate:{seen[f'donor:{donor.id}']}"], email, donor)
    values = dict(parsed.values)
    kind = values.get("kind") or donor.kind
    if kind == DonorKind.ORGANISATION and not (
        values.get("organisation_name") or donor.organisation_name
    ):
        return Plan(ImportOutcome.REJECT, ["missing_name"], email, donor)
    seen[email] = seen[f"donor:{donor.id}"] = number
    changed = {
        name: values[name]
        for name in DONOR_FIELDS
        if name in values and values[name] != getattr(donor, name)
    }
    known = {fold(t) for t in lookup.tags.get(donor.id, [])}
    new_tags = [t for t in parsed.tags if fold(t) not in known]
    note = parsed.notes if parsed.notes and parsed.notes not in donor.notes else ""

    leaving = _suppression_reason(parsed)
    withdrawn = lookup.withdrawn.get(donor.id)
    given_at = parsed.confirm_time or parsed.consent_time
    withdrew_later = withdrawn is not None and (given_at is None or withdrawn >= given_at)
    wants = bool(parsed.consent) and not donor.newsletter_consent
    grant = wants and not leaving and not suppressed and not withdrew_later
    unsubscribed_at = parsed.unsubscribed_at
    withdraw = parsed.unsubscribed and (
        donor.newsletter_consent
        or withdrawn is None
        or (unsubscribed_at is not None and withdrawn < unsubscribed_at)
    )
    suppress = leaving if leaving and not suppressed else None

    fields_changed = [*changed, *(["tags"] if new_tags else []), *(["notes"] if note else [])]
    reasons = [f"changes:{','.join(fields_changed)}"] if fields_changed else []
    reasons += ["consent"] if grant else []
    reasons += _leaving_reasons(parsed, withdraw, suppress)
    outcome = ImportOutcome.UPDATE if reasons else ImportOutcome.SKIP
    if not reasons:
        reasons = ["already_suppressed"] if leaving else ["no_change"]
    if wants and not grant:
        suppressed_now = suppressed or leaving
        reasons.append("consent_suppressed" if suppressed_now else "consent_withdrawn_later")
    return Plan(outcome, reasons, email, donor, changed, new_tags, note, grant, withdraw, suppress)


def _detail(code: str, detail: str) -> str:
    if code in ("changes", "too_long", "lost_character"):
        return ", ".join(str(TARGETS.get(name, name)) for name in detail.split(","))
    if code in ("unsubscribed", "bounced"):
        return when(datetime.fromisoformat(detail)) if detail else str(UNKNOWN_TIME)
    return detail


def describe(reason: str) -> str:
    """A row's stored reasons (codes) in the reader's language."""
    described = []
    for part in filter(None, reason.split("; ")):
        code, _, detail = part.partition(":")
        message = REASONS.get(code)
        described.append(str(message) % {"detail": _detail(code, detail)} if message else part)
    return "; ".join(described)
