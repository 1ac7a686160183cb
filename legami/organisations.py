"""Saving an organisation: identifiers validated, uniqueness checked, nothing half-stored."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from legami.extensions import db
from legami.identifiers import (
    InvalidIdentifier,
    normalise_codice_fiscale,
    normalise_iban,
    normalise_partita_iva,
)
from legami.models import EntityType, Organisation
from legami.uploads import save_image
from legami.validation import Invalid

FIELDS = (
    "name",
    "slug",
    "entity_type",
    "art83_eligible",
    "codice_fiscale",
    "partita_iva",
    "runts_number",
    "street",
    "postal_code",
    "town",
    "province",
    "legal_representative",
    "iban",
    "email",
)


def save_organisation(org: Organisation | None, data: dict, logo=None) -> Organisation:
    """Create (org=None) or update an organisation from cleaned form data. Raises Invalid."""
    errors: dict[str, str] = {}
    clean = {key: data.get(key) for key in FIELDS}
    clean["province"] = (clean["province"] or "").upper()
    clean["partita_iva"] = clean["partita_iva"] or None
    clean["iban"] = clean["iban"] or None
    clean["runts_number"] = clean["runts_number"] or None
    if clean["entity_type"] not in set(EntityType):
        errors["entity_type"] = _l("Choose an entity type.")
    for field, normalise in (
        ("codice_fiscale", normalise_codice_fiscale),
        ("partita_iva", normalise_partita_iva),
        ("iban", normalise_iban),
    ):
        if clean[field]:
            try:
                clean[field] = normalise(clean[field])
            except InvalidIdentifier as exc:
                errors[field] = str(exc)
    for field in ("slug", "codice_fiscale"):
        clash = db.session.scalar(
            select(Organisation).where(getattr(Organisation, field) == clean[field])
        )
        if clash is not None and clash is not org:
            errors.setdefault(field, _l("Another organisation already has this value."))
    if logo and logo.filename and not errors:
        clean["logo"] = save_image(logo, "logo")
    if errors:
        raise Invalid(errors)
    if org is None:
        org = Organisation()
        db.session.add(org)
    for key, value in clean.items():
        setattr(org, key, value)
    db.session.commit()
    return org
