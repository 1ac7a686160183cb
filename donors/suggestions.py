"""Details from outside (a gift form) meet the donor's record: what fills it, what waits.

`take` never overwrites: it fills the record's empty fields and turns every differing value
into one pending `DonorSuggestion`. Only staff change the record from a suggestion
(`accept`, with the donor's history and the audit log), or drop it (`reject`, audited).
Callers commit.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from donors.identity import apply_changes
from donors.models import Donor, DonorSuggestion, SuggestionStatus, fold
from legami import audit
from legami.extensions import db
from legami.models import User
from legami.timeutil import now_utc
from legami.validation import Invalid

# The fields a gift form gives, in the order the donor's page shows them.
FIELDS = (
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
)


def _same(old: str, new: str) -> bool:
    return fold(old) == fold(new)


def take(donor: Donor, given: dict, source: str) -> DonorSuggestion | None:
    """Fill the donor's empty fields from `given` and suggest the differing ones.

    Given as the other kind (a person's address giving as their company), nothing is
    filled: the whole set is a suggestion, since it describes someone else. Values equal
    but for case, accents or spacing are not suggested. A forgotten donor takes nothing.
    """
    if donor.is_erased:
        return None
    given = {name: given[name] for name in FIELDS if given.get(name)}
    if given.get("kind", donor.kind) != donor.kind:
        fill, differ = {}, given
    else:
        fill = {name: value for name, value in given.items() if not getattr(donor, name)}
        differ = {
            name: value
            for name, value in given.items()
            if name not in fill and not _same(getattr(donor, name), value)
        }
    apply_changes(donor, fill, source)
    if not differ:
        return None
    suggestion = DonorSuggestion(donor_id=donor.id, values=differ, source=source)
    db.session.add(suggestion)
    return suggestion


def pending(donor_id: int) -> list[DonorSuggestion]:
    return db.session.scalars(
        select(DonorSuggestion)
        .where(
            DonorSuggestion.donor_id == donor_id,
            DonorSuggestion.status == SuggestionStatus.PENDING,
        )
        .order_by(DonorSuggestion.id)
    ).all()


def _pending(donor: Donor, suggestion_id: int) -> DonorSuggestion:
    suggestion = db.session.scalar(
        select(DonorSuggestion)
        .where(DonorSuggestion.id == suggestion_id, DonorSuggestion.donor_id == donor.id)
        .with_for_update()
    )
    if suggestion is None or suggestion.status != SuggestionStatus.PENDING:
        raise Invalid({"suggestion": _l("This suggestion was already dealt with.")})
    if donor.is_erased:
        raise Invalid({"donor": _l("This donor was forgotten: the record can no longer change.")})
    return suggestion


def _decide(suggestion: DonorSuggestion, status: SuggestionStatus, user: User) -> None:
    suggestion.status, suggestion.decided_at, suggestion.decided_by_id = status, now_utc(), user.id


def accept(donor: Donor, suggestion_id: int, user: User) -> list[str]:
    """Apply the suggested values to the record; returns the fields that changed."""
    suggestion = _pending(donor, suggestion_id)
    changed = apply_changes(donor, suggestion.values, f"staff:{user.email}")
    _decide(suggestion, SuggestionStatus.ACCEPTED, user)
    audit.record(
        user,
        "donor.suggestion.accept",
        f"donor:{donor.id}",
        suggestion=suggestion.id,
        source=suggestion.source,
        changed=changed,
    )
    return changed


def reject(donor: Donor, suggestion_id: int, user: User) -> None:
    suggestion = _pending(donor, suggestion_id)
    _decide(suggestion, SuggestionStatus.REJECTED, user)
    audit.record(
        user,
        "donor.suggestion.reject",
        f"donor:{donor.id}",
        suggestion=suggestion.id,
        source=suggestion.source,
    )
