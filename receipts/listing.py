"""The treasurer's receipt list: filters compiled to one query."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from legami import params
from receipts.models import Receipt


@dataclass(frozen=True)
class Filters:
    organisation_id: int | None = None
    year: int | None = None
    status: str | None = None
    missing_tax_code: bool = False
    disputed: bool = False

    @classmethod
    def from_args(cls, args) -> "Filters":
        return cls(
            organisation_id=params.arg("organisation", params.ID, args=args),
            year=params.arg("year", params.YEAR, args=args),
            status=args.get("status") or None,
            missing_tax_code=args.get("missing_tax_code") == "1",
            disputed=args.get("disputed") == "1",
        )


def query(filters: Filters):
    stmt = select(Receipt).options(joinedload(Receipt.donor), joinedload(Receipt.organisation))
    if filters.organisation_id:
        stmt = stmt.where(Receipt.organisation_id == filters.organisation_id)
    if filters.year:
        stmt = stmt.where(Receipt.year == filters.year)
    if filters.status:
        stmt = stmt.where(Receipt.status == filters.status)
    if filters.missing_tax_code:
        stmt = stmt.where(Receipt.missing_tax_code.is_(True))
    if filters.disputed:
        stmt = stmt.where(Receipt.disputed.is_(True))
    return stmt.order_by(Receipt.issued_at.desc(), Receipt.id.desc())
