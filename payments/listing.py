"""The treasurer's donation list: filters compiled to one query, its totals, and its CSV.

A gift is dated by the day it was received (money arrived, card charged); one not received
(pending, failed, cancelled) by the day it was entered, both in Europe/Rome."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from legami import params
from legami.csv_export import to_csv
from legami.extensions import db
from legami.money import cents_to_decimal
from legami.timeutil import ROME
from payments.models import Donation


@dataclass(frozen=True)
class Filters:
    campaign_id: int | None = None
    organisation_id: int | None = None
    method: str | None = None
    status: str | None = None
    frequency: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args) -> "Filters":
        def day(name):
            try:
                return date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None

        return cls(
            campaign_id=params.arg("campaign", params.ID, args=args),
            organisation_id=params.arg("organisation", params.ID, args=args),
            method=args.get("method") or None,
            status=args.get("status") or None,
            frequency=args.get("frequency") or None,
            date_from=day("from"),
            date_to=day("to"),
        )


def _rome_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ROME)


def _from(day: date):
    return or_(
        Donation.received_on >= day,
        and_(Donation.received_on.is_(None), Donation.created_at >= _rome_midnight(day)),
    )


def _to(day: date):
    return or_(
        Donation.received_on <= day,
        and_(
            Donation.received_on.is_(None),
            Donation.created_at < _rome_midnight(day + timedelta(1)),
        ),
    )


def _where(stmt, filters: Filters):
    if filters.campaign_id:
        stmt = stmt.where(Donation.campaign_id == filters.campaign_id)
    if filters.organisation_id:
        stmt = stmt.where(Donation.organisation_id == filters.organisation_id)
    if filters.method:
        stmt = stmt.where(Donation.method == filters.method)
    if filters.status:
        stmt = stmt.where(Donation.status == filters.status)
    if filters.frequency:
        stmt = stmt.where(Donation.frequency == filters.frequency)
    if filters.date_from:
        stmt = stmt.where(_from(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(_to(filters.date_to))
    return stmt


def query(filters: Filters):
    stmt = select(Donation).options(joinedload(Donation.donor), joinedload(Donation.campaign))
    return _where(stmt, filters).order_by(Donation.created_at.desc(), Donation.id.desc())


@dataclass(frozen=True)
class Totals:
    """The filtered donations' amounts: as given, refunded, and what was kept."""

    amount_cents: int
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


def totals(filters: Filters) -> Totals:
    amount, refunded = db.session.execute(
        _where(
            select(
                func.coalesce(func.sum(Donation.amount_cents), 0),
                func.coalesce(func.sum(Donation.refunded_cents), 0),
            ),
            filters,
        )
    ).one()
    return Totals(int(amount), int(refunded))


HEADER = [
    "id",
    "created",
    "received_on",
    "campaign",
    "donor",
    "email",
    "codice_fiscale",
    "method",
    "status",
    "amount_eur",
    "refunded_eur",
    "reference",
    "deductible",
]


def export_csv(donations) -> str:
    return to_csv(
        HEADER,
        (
            [
                d.id,
                d.created_at.astimezone(ROME).isoformat(timespec="seconds"),
                d.received_on.isoformat() if d.received_on else "",
                d.campaign.title,
                d.donor.display_name,
                d.donor.email,
                d.donor.codice_fiscale or "",
                d.method,
                d.status,
                str(cents_to_decimal(d.amount_cents)),
                str(cents_to_decimal(d.refunded_cents)),
                d.payment_reference or "",
                "yes" if d.deductible else "no",
            ]
            for d in donations
        ),
    )
