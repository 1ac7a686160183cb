"""The staff home's panel for matching challenges and fundraising pages: pages waiting for
approval, challenges whose window closed without a request, and the matchers' pledges
against what they paid. Three aggregates, whatever the number of gifts."""

from sqlalchemy import case, func, select

from legami.extensions import db
from legami.timeutil import today_rome
from payments.matching_models import Challenge
from payments.models import Donation
from payments.page_models import FundraisingPage, PageStatus


def panel(user) -> dict:
    pages_waiting = db.session.scalar(
        select(func.count()).where(FundraisingPage.status == PageStatus.PENDING)
    )
    to_request = db.session.scalar(
        select(func.count()).where(
            Challenge.ends_on < today_rome(),
            Challenge.asked_cents.is_(None),
            Challenge.committed_cents > 0,
        )
    )
    pledged, received = db.session.execute(
        select(
            func.coalesce(func.sum(Challenge.committed_cents), 0),
            func.coalesce(
                func.sum(
                    case(
                        (Donation.id.is_not(None), Donation.amount_cents - Donation.refunded_cents),
                        else_=0,
                    )
                ),
                0,
            ),
        ).outerjoin(Donation, Donation.id == Challenge.settled_donation_id)
    ).one()
    return {
        "pages_waiting": pages_waiting,
        "to_request": to_request,
        "pledged_cents": int(pledged),
        "received_cents": int(received),
    }
