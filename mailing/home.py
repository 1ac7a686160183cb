"""The staff home's newsletter to-dos: the next newsletter due to go out and who it goes to
(its segments, or every subscriber), and the newsletters whose time passed while nothing
sent them (late). Its number of recipients is on its own page: counting them is a query
over the donors, too slow for the home at a hundred thousand donors."""

from sqlalchemy import func, select

from legami.extensions import db
from mailing.models import Newsletter, NewsletterStatus


def next_scheduled() -> Newsletter | None:
    return db.session.scalar(
        select(Newsletter)
        .where(Newsletter.status == NewsletterStatus.SCHEDULED)
        .order_by(Newsletter.scheduled_at, Newsletter.id)
        .limit(1)
    )


def late() -> int:
    return db.session.scalar(select(func.count()).where(Newsletter.status == NewsletterStatus.LATE))


def panel(user) -> dict:
    return {"next_newsletter": next_scheduled(), "late_newsletters": late()}
