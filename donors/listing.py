"""The staff donor list: search by name, e-mail or codice fiscale, and its sort orders.

Giving figures are computed for the visible page only (`giving_figures.summaries`); sorting
by total or last gift needs them for every matching donor, so it groups those donors' gifts.
"""

from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select

from donors.giving_figures import GIFT, summary_columns
from donors.identity import normalise_email
from donors.models import Donor, DonorEmail, fold
from legami.extensions import db
from payments.models import Donation

SORTS = ("name", "last_gift", "total")


@dataclass(frozen=True)
class Search:
    q: str = ""
    sort: str = "name"

    @classmethod
    def from_args(cls, args) -> "Search":
        sort = args.get("sort", "")
        return cls(q=args.get("q", "").strip(), sort=sort if sort in SORTS else "name")


def matching(q: str) -> Select:
    """Donors whose name (accents and case aside), e-mail (primary or further) or codice
    fiscale / partita IVA holds `q`; erased donors are not found by name."""
    stmt = select(Donor)
    if not q:
        return stmt
    email = normalise_email(q)
    # Further addresses are looked up first: a subquery inside the OR would hide from the
    # planner how few donors match, and it would walk the whole name index for a page.
    further = db.session.scalars(
        select(DonorEmail.donor_id).where(DonorEmail.email.contains(email, autoescape=True))
    ).all()
    conditions = [Donor.email.contains(email, autoescape=True), Donor.id.in_(further)]
    name = fold(q)
    if name:
        conditions.append(
            and_(Donor.erased_at.is_(None), Donor.name_key.contains(name, autoescape=True))
        )
    code = "".join(q.split()).upper()
    if code.isalnum():
        conditions += [Donor.codice_fiscale.startswith(code), Donor.partita_iva.startswith(code)]
    return stmt.where(or_(*conditions))


def query(search: Search) -> Select:
    """The matching donors in the chosen order (name breaks ties, then id)."""
    stmt = matching(search.q)
    tie = (Donor.name_key, Donor.id)
    if search.sort == "name":
        return stmt.order_by(*tie)
    gifts = select(Donation.donor_id, *summary_columns()).where(GIFT)
    if search.q:
        gifts = gifts.where(Donation.donor_id.in_(matching(search.q).with_only_columns(Donor.id)))
    figures = gifts.group_by(Donation.donor_id).subquery()
    column = figures.c.last_gift_on if search.sort == "last_gift" else figures.c.total_cents
    return stmt.outerjoin(figures, figures.c.donor_id == Donor.id).order_by(
        column.desc().nulls_last(), *tie
    )
