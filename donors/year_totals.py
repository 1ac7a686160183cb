"""Keeping each donor's per-year gifts and net amount (DonorYearTotal) in step with donations.

Payments calls `add` with what a change of a donation adds, in the change's transaction;
this module imports nothing from payments. `giving_figures.rebuild_for` recomputes a
donor's rows from the donations when they move between donors (a merge).
"""

from functools import cache

from sqlalchemy import bindparam, update

from donors.models import DonorYearTotal
from legami.extensions import db
from legami.sql import upsert_insert


@cache
def _add_statement(dialect: str):
    # Built once per engine: it runs for every gift, next to the campaign's total.
    statement = upsert_insert(DonorYearTotal).values(
        donor_id=bindparam("b_donor"),
        year=bindparam("b_year"),
        gifts=bindparam("b_gifts"),
        net_cents=bindparam("b_cents"),
    )
    return statement.on_conflict_do_update(
        index_elements=["donor_id", "year"],
        set_={
            "gifts": DonorYearTotal.gifts + statement.excluded.gifts,
            "net_cents": DonorYearTotal.net_cents + statement.excluded.net_cents,
        },
    )


# A refund takes back from a year its gift was counted in, so the row is there; an upsert
# would not do: the row it proposes to insert, negative, fails the CHECKs before the conflict.
_TAKE_BACK = (
    update(DonorYearTotal)
    .where(
        DonorYearTotal.donor_id == bindparam("b_donor"), DonorYearTotal.year == bindparam("b_year")
    )
    .values(
        gifts=DonorYearTotal.gifts + bindparam("b_gifts"),
        net_cents=DonorYearTotal.net_cents + bindparam("b_cents"),
    )
)


def add(donor_id: int, year: int, cents: int, gifts: int) -> None:
    """Add (cents, gifts), or take back when negative, to the donor's year in the caller's
    transaction, atomically in SQL (concurrent gifts of one donor add up exactly)."""
    if not cents and not gifts:
        return
    statement = _TAKE_BACK if cents < 0 or gifts < 0 else _add_statement(db.engine.dialect.name)
    db.session.connection().execute(
        statement, {"b_donor": donor_id, "b_year": year, "b_gifts": gifts, "b_cents": cents}
    )
