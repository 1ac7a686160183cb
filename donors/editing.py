"""Staff create and edit donors: details, further e-mails, tags, notes and interactions.

Every change to a donor's details is kept in its history (`DonorChange`), by the same logic
find-or-create uses (`identity.apply_changes`), with the source `staff:<user e-mail>`.
Each function checks its input, raises `Invalid` (nothing stored) or commits.
"""

from dataclasses import asdict, dataclass
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from donors.identity import apply_changes, normalise_email
from donors.models import (
    Donor,
    DonorChange,
    DonorEmail,
    DonorKind,
    DonorSource,
    Interaction,
    InteractionKind,
    Tag,
)
from legami.extensions import db
from legami.i18n import LANGUAGES
from legami.identifiers import InvalidIdentifier, normalise_codice_fiscale, normalise_partita_iva
from legami.models import User
from legami.validation import Invalid

TAG_LENGTH = 60


@dataclass(frozen=True)
class Record:
    """The details staff edit; `tags` is free text, comma-separated."""

    email: str
    kind: str = DonorKind.PERSON
    first_name: str = ""
    last_name: str = ""
    organisation_name: str = ""
    phone: str = ""
    codice_fiscale: str = ""
    partita_iva: str = ""
    street: str = ""
    postal_code: str = ""
    town: str = ""
    province: str = ""
    country: str = "IT"
    language: str = "it"
    notes: str = ""
    tags: str = ""


def _source(user: User) -> str:
    return f"staff:{user.email}"


def create(record: Record, user: User) -> Donor:
    values, tags = _clean(record, None)
    donor = Donor(**values, source=DonorSource.STAFF, source_detail=user.email)
    donor.tags = _tags(tags)
    db.session.add(donor)
    _commit({"email": _l("Another donor has this e-mail address.")})
    return donor


def update(donor: Donor, record: Record, user: User) -> list[str]:
    """Apply the edited details; returns the names of the fields that changed."""
    _not_erased(donor)
    values, tags = _clean(record, donor.id)
    source = _source(user)
    if values["email"] != donor.email:
        _swap_primary(donor, values["email"])
    changed = apply_changes(donor, values, source)
    if _set_tags(donor, _tags(tags), source):
        changed.append("tags")
    _commit({"email": _l("Another donor has this e-mail address.")})
    return changed


def add_email(donor: Donor, email: str, user: User) -> DonorEmail:
    _not_erased(donor)
    address = _email(email)
    if address == donor.email or any(e.email == address for e in donor.emails):
        raise Invalid({"email": _l("The donor already has this e-mail address.")})
    _email_free(address, donor.id)
    row = DonorEmail(email=address)
    donor.emails.append(row)
    donor.changes.append(
        DonorChange(field="emails", old_value="", new_value=address, source=_source(user))
    )
    _commit({"email": _l("Another donor has this e-mail address.")})
    return row


def remove_email(donor: Donor, email_id: int, user: User) -> None:
    _not_erased(donor)
    row = next((e for e in donor.emails if e.id == email_id), None)
    if row is None:
        raise Invalid({"email": _l("This donor has no such e-mail address.")})
    donor.emails.remove(row)
    donor.changes.append(
        DonorChange(field="emails", old_value=row.email, new_value="", source=_source(user))
    )
    db.session.commit()


def add_interaction(
    donor: Donor, kind: str, occurred_on: date | None, summary: str, user: User
) -> Interaction:
    _not_erased(donor)
    errors = {}
    if kind not in set(InteractionKind):
        errors["kind"] = _l("Choose the kind of contact.")
    if occurred_on is None:
        errors["occurred_on"] = _l("Give the date.")
    if not summary.strip():
        errors["summary"] = _l("Write what was said or done.")
    if errors:
        raise Invalid(errors)
    row = Interaction(
        donor_id=donor.id, kind=kind, occurred_on=occurred_on, summary=summary.strip(), user=user
    )
    db.session.add(row)
    db.session.commit()
    return row


def _not_erased(donor: Donor) -> None:
    if donor.is_erased:
        raise Invalid({"donor": _l("This donor was forgotten: the record can no longer change.")})


def _clean(record: Record, donor_id: int | None) -> tuple[dict, list[str]]:
    """The record's values as stored (trimmed, normalised, checked) and its tag names."""
    values = {k: v.strip() for k, v in asdict(record).items()}
    tags = values.pop("tags")
    errors = {}
    for name, value in values.items():
        limit = getattr(Donor.__table__.c[name].type, "length", None)
        if limit and len(value) > limit:
            errors[name] = _l("At most %(n)s characters.", n=limit)
    if values["kind"] not in set(DonorKind):
        errors["kind"] = _l("Choose a person or an organisation.")
    elif values["kind"] == DonorKind.PERSON and not values["last_name"]:
        errors["last_name"] = _l("A person needs a last name.")
    elif values["kind"] == DonorKind.ORGANISATION and not values["organisation_name"]:
        errors["organisation_name"] = _l("An organisation needs its name.")
    try:
        values["email"] = _email(values["email"])
        _email_free(values["email"], donor_id)
    except Invalid as invalid:
        errors.update(invalid.errors)
    for name, normalise in (
        ("codice_fiscale", normalise_codice_fiscale),
        ("partita_iva", normalise_partita_iva),
    ):
        try:
            values[name] = normalise(values[name]) if values[name] else None
        except InvalidIdentifier as exc:
            errors[name] = exc.args[0]
    if values["language"] not in LANGUAGES:
        errors["language"] = _l("Choose Italian or English.")
    values["province"] = values["province"].upper()
    if values["province"] and not (len(values["province"]) == 2 and values["province"].isalpha()):
        errors["province"] = _l("Two letters, e.g. CR.")
    values["country"] = values["country"].upper() or "IT"
    if not (len(values["country"]) == 2 and values["country"].isalpha()):
        errors["country"] = _l("Two letters, e.g. IT.")
    names = _tag_names(tags)
    if any(len(name) > TAG_LENGTH for name in names):
        errors["tags"] = _l("A tag has at most %(n)s characters.", n=TAG_LENGTH)
    if errors:
        raise Invalid(errors)
    return values, names


def _email(value: str) -> str:
    address = normalise_email(value)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid({"email": _l("This is not a valid e-mail address.")}) from exc
    return address


def _email_free(address: str, donor_id: int | None) -> None:
    """Refuse an address another donor has, as primary or further address.

    With no donor yet (`donor_id` None) the comparisons read `IS NOT NULL`: every donor.
    """
    taken = db.session.scalar(
        select(
            or_(
                exists().where(Donor.email == address, Donor.id != donor_id),
                exists().where(DonorEmail.email == address, DonorEmail.donor_id != donor_id),
            )
        )
    )
    if taken:
        raise Invalid({"email": _l("Another donor has this e-mail address.")})


def _swap_primary(donor: Donor, address: str) -> None:
    """A further address made primary: the old primary becomes a further one."""
    row = next((e for e in donor.emails if e.email == address), None)
    if row is not None:
        donor.emails.remove(row)
        donor.emails.append(DonorEmail(email=donor.email))


def _tag_names(text: str) -> list[str]:
    """Comma-separated names, trimmed, without repeats (case aside), in order."""
    names: dict[str, str] = {}
    for part in text.split(","):
        name = " ".join(part.split())
        if name:
            names.setdefault(name.casefold(), name)
    return list(names.values())


def _tags(names: list[str]) -> list[Tag]:
    """The tags with these names (an existing tag matches case aside); missing ones made."""
    tags = []
    for name in names:
        tag = db.session.scalar(select(Tag).where(func.lower(Tag.name) == name.lower()))
        if tag is None:
            tag = Tag(name=name)
            try:
                with db.session.begin_nested():
                    db.session.add(tag)
            except IntegrityError:
                # Made by someone else a moment ago: use that one.
                tag = db.session.scalar(select(Tag).where(Tag.name == name))
        tags.append(tag)
    return tags


def _set_tags(donor: Donor, tags: list[Tag], source: str) -> bool:
    old = ", ".join(t.name for t in donor.tags)
    new = ", ".join(sorted(t.name for t in tags))
    if {t.id for t in tags} == {t.id for t in donor.tags}:
        return False
    donor.tags = tags
    donor.changes.append(DonorChange(field="tags", old_value=old, new_value=new, source=source))
    return True


def _commit(messages: dict) -> None:
    """Commit; a unique key broken by a concurrent change reads as the given messages."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Invalid(messages) from exc
