"""Duplicate candidates: pairs of donors that may be one person, found in SQL.

Each rule is a self-join on indexed columns of values stored normalised (e-mail NFKC and
case-folded, codice fiscale upper-case; name, swapped name, town, mailbox and phone keys kept
by the model's event, see `Donor` and `donors.match_keys`):

- the same e-mail: one donor's further address is another's primary;
- the same codice fiscale;
- the same name (accents and case aside) in the same postal code;
- the same name with first and last swapped (`Rossi Maria` and `Maria Rossi`);
- the same mailbox: Gmail's dots, `+tag` sub-addresses, googlemail.com for gmail.com;
- the same phone number, once in E.164 form (`0372 111222` and `+39 0372-111222`);
- the same name in the same town when one of the two has no postal code.

A pair lists every rule it meets. Forgotten donors take part in none.
"""

import enum
from dataclasses import dataclass

from sqlalchemy import case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from donors.models import Donor, DonorEmail
from donors.paging import RowsPagination, paginate_rows
from legami.extensions import db


class Reason(enum.StrEnum):
    EMAIL = "email"
    CODICE_FISCALE = "codice_fiscale"
    NAME_POSTAL_CODE = "name_postal_code"
    SWAPPED_NAME = "swapped_name"
    MAILBOX = "mailbox"
    PHONE = "phone"
    NAME_TOWN = "name_town"


@dataclass(frozen=True)
class Candidate:
    first: Donor
    second: Donor
    reasons: tuple[Reason, ...]


def _email_pairs():
    """A further address of one donor that is another's primary. Addresses are stored
    normalised and each column is unique, so no other pairing can share one."""
    owner, primary = aliased(Donor), aliased(Donor)
    first = owner.id < primary.id
    return (
        select(
            case((first, owner.id), else_=primary.id).label("low"),
            case((first, primary.id), else_=owner.id).label("high"),
            literal(Reason.EMAIL.value),
        )
        .select_from(DonorEmail)
        .join(owner, owner.id == DonorEmail.donor_id)
        .join(primary, primary.email == DonorEmail.email)
        .where(owner.id != primary.id, owner.erased_at.is_(None), primary.erased_at.is_(None))
    )


def _donor_pairs(reason: Reason, *conditions):
    """Pairs of live donors (a, b), a.id < b.id, meeting every `condition(a, b)`; each rule's
    conditions are symmetric, so the order of the two says nothing."""
    a, b = aliased(Donor), aliased(Donor)
    return select(a.id, b.id, literal(reason.value)).where(
        a.id < b.id,
        a.erased_at.is_(None),
        b.erased_at.is_(None),
        *(condition(a, b) for condition in conditions),
    )


def _same(column: str):
    """Both have this key, and it is equal."""
    return lambda a, b: (getattr(a, column) == getattr(b, column)) & (getattr(a, column) != "")


RULES = {
    Reason.CODICE_FISCALE: (
        lambda a, b: (a.codice_fiscale == b.codice_fiscale) & (a.codice_fiscale != ""),
    ),
    Reason.NAME_POSTAL_CODE: (_same("name_key"), _same("postal_code")),
    # Both have first and last names (the key is empty otherwise); `Maria Maria` is not a
    # swap of itself.
    Reason.SWAPPED_NAME: (
        lambda a, b: (a.swapped_name_key == b.name_key) & (a.swapped_name_key != ""),
        lambda a, b: a.name_key != b.name_key,
    ),
    Reason.MAILBOX: (_same("mailbox_key"),),
    Reason.PHONE: (_same("phone_key"),),
    Reason.NAME_TOWN: (
        _same("name_key"),
        _same("town_key"),
        lambda a, b: or_(a.postal_code == "", b.postal_code == ""),
    ),
}


def _pairs():
    """(low, high, reason) for every rule a pair meets; a pair may appear more than once."""
    return union_all(
        _email_pairs(),
        *(_donor_pairs(reason, *conditions) for reason, conditions in RULES.items()),
    ).subquery("pairs")


def candidates_query(donor_id: int | None = None):
    """One row per pair (low id, high id, then a 0/1 flag per reason), in id order."""
    pairs = _pairs()
    low, high, reason_column = pairs.c
    flags = [
        func.max(case((reason_column == reason.value, 1), else_=0)).label(reason.value)
        for reason in Reason
    ]
    query = select(low, high, *flags).group_by(low, high)
    if donor_id is not None:
        query = query.where(or_(low == donor_id, high == donor_id))
    return query.order_by(low, high)


def candidates_page(per_page: int) -> RowsPagination:
    """This request's page of candidates, its items made `Candidate`s."""
    page = paginate_rows(candidates_query(), per_page)
    page.items = _as_candidates(page.items)
    return page


def candidates_for(donor_id: int) -> list[Candidate]:
    return _as_candidates(db.session.execute(candidates_query(donor_id)).all())


def _as_candidates(rows) -> list[Candidate]:
    ids = {i for row in rows for i in (row.low, row.high)}
    donors = {d.id: d for d in db.session.scalars(select(Donor).where(Donor.id.in_(ids)))}
    return [
        Candidate(
            donors[row.low],
            donors[row.high],
            tuple(reason for reason in Reason if row._mapping[reason.value]),
        )
        for row in rows
    ]
