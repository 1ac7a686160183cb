"""Find-or-create a donor by normalised e-mail; later details update without losing the old."""

import unicodedata
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from donors.models import Donor, DonorChange, DonorEmail, DonorKind, DonorSource
from legami.extensions import db


def normalise_email(email: str) -> str:
    """NFKC then case-fold: `Maria.Rossi@Example.IT` and its full-width twin are one donor."""
    return unicodedata.normalize("NFKC", email).strip().casefold()


@dataclass(frozen=True)
class DonorDetails:
    email: str
    kind: str = DonorKind.PERSON
    first_name: str = ""
    last_name: str = ""
    organisation_name: str = ""
    codice_fiscale: str | None = None
    partita_iva: str | None = None
    street: str = ""
    postal_code: str = ""
    town: str = ""
    province: str = ""
    language: str = "it"
    phone: str = ""
    country: str = ""


def find_existing(email: str) -> Donor | None:
    """The donor whose primary or further address is `email` (already normalised)."""
    donor = db.session.scalar(select(Donor).where(Donor.email == email))
    if donor is None:
        donor = db.session.scalar(select(Donor).join(DonorEmail).where(DonorEmail.email == email))
    return donor


def find_or_create(
    details: DonorDetails,
    source: str,
    *,
    created_from: DonorSource = DonorSource.CAMPAIGN,
    source_detail: str = "",
    update_existing: bool = True,
) -> Donor:
    """The donor with this e-mail, updated with any new non-empty details (history kept),
    unless `update_existing` is False: then an existing donor is returned as it is.

    A new donor gets the non-empty details (the model's defaults fill the rest) and where it
    came from (`created_from`, `source_detail`).
    """
    email = normalise_email(details.email)
    donor = find_existing(email)
    if donor is None:
        values = {f.name: getattr(details, f.name) for f in fields(details) if f.name != "email"}
        given = {name: value for name, value in values.items() if value}
        donor = Donor(**given, email=email, source=created_from, source_detail=source_detail)
        try:
            with db.session.begin_nested():
                db.session.add(donor)
        except IntegrityError:
            # Another request created the same donor a moment ago: use that one.
            donor = find_existing(email)
        else:
            return donor
    if update_existing:
        _update(donor, details, source)
    return donor


def _update(donor: Donor, details: DonorDetails, source: str) -> None:
    new = {f.name: getattr(details, f.name) for f in fields(details) if f.name != "email"}
    apply_changes(donor, {name: value for name, value in new.items() if value}, source)


def apply_changes(donor: Donor, values: dict, source: str) -> list[str]:
    """Set each field whose value differs, recording old and new in the donor's history.

    Returns the names of the fields that changed.
    """
    changed = []
    for name, new in values.items():
        old = getattr(donor, name)
        if new != old:
            donor.changes.append(
                DonorChange(field=name, old_value=old or "", new_value=new or "", source=source)
            )
            setattr(donor, name, new)
            changed.append(name)
    return changed
