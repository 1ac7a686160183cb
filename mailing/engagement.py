"""Opens and clicks, recorded once per delivery and only for newsletters that track them."""

from sqlalchemy import select, update

from legami.extensions import db
from legami.timeutil import now_utc
from mailing.models import Delivery, Newsletter

_TRACKED = select(Newsletter.id).where(Newsletter.track_engagement.is_(True))


def record_open(delivery_id: int) -> None:
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.opened_at.is_(None),
            Delivery.newsletter_id.in_(_TRACKED),
        )
        .values(opened_at=now_utc())
    )
    db.session.commit()


def record_click(delivery_id: int, newsletter_id: int) -> None:
    """A click is an open too (images are often blocked)."""
    now = now_utc()
    mine = (
        Delivery.id == delivery_id,
        Delivery.newsletter_id == newsletter_id,
        Delivery.newsletter_id.in_(_TRACKED),
    )
    db.session.execute(
        update(Delivery).where(*mine, Delivery.clicked_at.is_(None)).values(clicked_at=now)
    )
    db.session.execute(
        update(Delivery).where(*mine, Delivery.opened_at.is_(None)).values(opened_at=now)
    )
    db.session.commit()
