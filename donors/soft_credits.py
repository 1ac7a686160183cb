"""Soft credits: what a fundraiser raised through their personal pages (payments' PageGift),
credited to them in the CRM beside, never instead of, the donors' own gifts.

Each query returns donor ids (a `donor_id` column) for the segments (donors.segments), and
`for_donor` gives the figures on a donor's record. A page's gifts count as the campaign
counts them: succeeded, net of refunds.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from donors.giving_figures import GIFT
from legami import params
from legami.extensions import db
from payments.models import Donation
from payments.page_models import FundraisingPage, PageGift

_NET = Donation.amount_cents - Donation.refunded_cents


def validate_minimum(value, key: str, errors: dict) -> dict:
    if not isinstance(value, dict) or set(value) - {"min_cents"}:
        errors[key] = _l("Must be an object with min_cents.")
        return {}
    cents = value.get("min_cents")
    if not isinstance(cents, int) or isinstance(cents, bool) or not 0 < cents <= params.COUNT.high:
        errors[f"{key}.min_cents"] = _l(
            "Must be a whole number from 1 to %(max)s.", max=params.COUNT.high
        )
        return {}
    return {"min_cents": cents}


def fundraisers() -> Select:
    """Owners of a page they confirmed by e-mail."""
    return select(FundraisingPage.owner_id.label("donor_id")).where(
        FundraisingPage.confirmed_at.is_not(None)
    )


def _raised_per_owner() -> Select:
    return (
        select(FundraisingPage.owner_id.label("donor_id"), func.sum(_NET).label("raised"))
        .join(PageGift, PageGift.page_id == FundraisingPage.id)
        .join(Donation, Donation.id == PageGift.donation_id)
        .where(GIFT)
        .group_by(FundraisingPage.owner_id)
    )


def raised_at_least(cents: int) -> Select:
    per_owner = _raised_per_owner().subquery()
    return select(per_owner.c.donor_id).where(per_owner.c.raised >= cents)


def gave_through_pages_of(owner_ids: list[int]) -> Select:
    return (
        select(Donation.donor_id)
        .join(PageGift, PageGift.donation_id == Donation.id)
        .join(FundraisingPage, FundraisingPage.id == PageGift.page_id)
        .where(GIFT, FundraisingPage.owner_id.in_(owner_ids))
    )


@dataclass(frozen=True)
class SoftCredit:
    pages: int
    raised_cents: int
    gifts: int


def for_donor(donor_id: int) -> SoftCredit:
    pages = db.session.scalar(
        select(func.count(FundraisingPage.id)).where(
            FundraisingPage.owner_id == donor_id, FundraisingPage.confirmed_at.is_not(None)
        )
    )
    raised, gifts = db.session.execute(
        select(func.coalesce(func.sum(_NET), 0), func.count(Donation.id))
        .join(PageGift, PageGift.donation_id == Donation.id)
        .join(FundraisingPage, FundraisingPage.id == PageGift.page_id)
        .where(GIFT, FundraisingPage.owner_id == donor_id)
    ).one()
    return SoftCredit(pages=pages, raised_cents=int(raised), gifts=int(gifts))
