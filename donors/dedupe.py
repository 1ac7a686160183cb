"""Duplicate candidates: pairs of donors that may be one person, found in SQL.

Three rules, each a join on indexed columns of values stored normalised (e-mail NFKC and
case-folded, codice fiscale upper-case, name folded for accents and case in
`Donor.name_key`): the same e-mail (primary or further), the same codice fiscale, the same
name in the same postal code. Forgotten donors take part in none.
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


def _donor_pairs(reason: Reason, key, present):
    """Pairs of live donors whose `key(donor)` is equal and `present(donor)` holds."""
    a, b = aliased(Donor), aliased(Donor)
    return select(a.id, b.id, literal(reason.value)).where(
        a.id < b.id,
        a.erased_at.is_(None),
        b.erased_at.is_(None),
        present(a),
        present(b),
        *(left == right for left, right in zip(key(a), key(b), strict=True)),
    )


def _pairs():
    """(low, high, reason) for every rule a pair meets; a pair may appear more than once."""
    return union_all(
        _email_pairs(),
        _donor_pairs(
            Reason.CODICE_FISCALE,
            lambda d: [d.codice_fiscale],
            lambda d: d.codice_fiscale != "",
        ),
        _donor_pairs(
            Reason.NAME_POSTAL_CODE,
            lambda d: [d.name_key, d.postal_code],
            lambda d: (d.name_key != "") & (d.postal_code != ""),
        ),
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
