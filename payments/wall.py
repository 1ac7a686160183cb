"""The donor wall: the latest gifts to a campaign, named only where the donor allowed it."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from legami.extensions import db
from payments.models import Donation, Status


@dataclass(frozen=True)
class WallEntry:
    name: str | None  # None: "Anonimo"
    amount_cents: int | None  # shown only with the name (the donor chose to be seen)
    dedication: str
    when: object


def recent_gifts(campaign, limit: int = 8) -> list[WallEntry]:
    rows = db.session.scalars(
        select(Donation)
        .where(Donation.campaign_id == campaign.id, Donation.status == Status.SUCCEEDED)
        .options(joinedload(Donation.donor))
        .order_by(Donation.succeeded_at.desc())
        .limit(limit)
    ).all()
    return [
        WallEntry(
            name=d.donor.display_name if d.show_name else None,
            amount_cents=d.amount_cents if d.show_name else None,
            dedication=d.dedication if d.show_name else "",
            when=d.succeeded_at,
        )
        for d in rows
    ]
