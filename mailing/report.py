"""How a newsletter's send is going, and how it went: counted from its Delivery rows."""

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import and_, func, select

from donors.models import ConsentAction, ConsentEvent, ConsentPurpose
from legami.extensions import db
from legami.timeutil import now_utc
from mailing.models import Delivery, DeliveryStatus, Newsletter, NewsletterStatus


@dataclass
class Progress:
    status: str
    total: int
    sent: int
    failed: int
    bounced: int
    pending: int
    rate_per_minute: float | None  # since the send started; None before it did
    eta_seconds: int | None  # for the pending ones at that rate

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.bounced

    def as_json(self) -> dict:
        return {**asdict(self), "done": self.done}


def _counts(newsletter_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.newsletter_id == newsletter_id)
        .group_by(Delivery.status)
    ).all()
    return {status: count for status, count in rows}


def progress(newsletter: Newsletter, now: datetime | None = None) -> Progress:
    counts = _counts(newsletter.id)
    made = {s: counts.get(s, 0) for s in DeliveryStatus}
    total = newsletter.recipients_total or sum(made.values())
    done = made[DeliveryStatus.SENT] + made[DeliveryStatus.FAILED] + made[DeliveryStatus.BOUNCED]
    rate = eta = None
    if newsletter.started_at is not None:
        end = newsletter.finished_at or now or now_utc()
        minutes = max((end - newsletter.started_at).total_seconds(), 1) / 60
        rate = round(done / minutes, 1)
        pending = made[DeliveryStatus.PENDING]
        if rate and pending and newsletter.status == NewsletterStatus.SENDING:
            eta = round(pending / rate * 60)
    return Progress(
        status=newsletter.status,
        total=total,
        sent=made[DeliveryStatus.SENT],
        failed=made[DeliveryStatus.FAILED],
        bounced=made[DeliveryStatus.BOUNCED],
        pending=made[DeliveryStatus.PENDING],
        rate_per_minute=rate,
        eta_seconds=eta,
    )


@dataclass
class Report:
    progress: Progress
    failures: list[tuple[str, int]]  # reason, how many; most frequent first
    unsubscribed: int
    opened: int | None  # None: the newsletter did not track engagement
    clicked: int | None


def report(newsletter: Newsletter) -> Report:
    failures = db.session.execute(
        select(Delivery.last_error, func.count().label("n"))
        .where(
            Delivery.newsletter_id == newsletter.id,
            Delivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.BOUNCED]),
        )
        .group_by(Delivery.last_error)
        .order_by(func.count().desc(), Delivery.last_error)
    ).all()
    opened = clicked = None
    if newsletter.track_engagement:
        opened, clicked = db.session.execute(
            select(func.count(Delivery.opened_at), func.count(Delivery.clicked_at)).where(
                Delivery.newsletter_id == newsletter.id
            )
        ).one()
    return Report(
        progress=progress(newsletter),
        failures=[(reason, n) for reason, n in failures],
        unsubscribed=unsubscribed(newsletter),
        opened=opened,
        clicked=clicked,
    )


def unsubscribed(newsletter: Newsletter) -> int:
    """Recipients who withdrew newsletter consent after it reached them and before the next
    newsletter started going out: the unsubscribes this one caused."""
    if newsletter.started_at is None:
        return 0
    next_start = db.session.scalar(
        select(func.min(Newsletter.started_at)).where(
            Newsletter.started_at > newsletter.started_at, Newsletter.id != newsletter.id
        )
    )
    withdrawn = and_(
        ConsentEvent.donor_id == Delivery.donor_id,
        ConsentEvent.purpose == ConsentPurpose.NEWSLETTER,
        ConsentEvent.action == ConsentAction.WITHDRAWN,
        ConsentEvent.occurred_at > Delivery.sent_at,
    )
    if next_start is not None:
        withdrawn = and_(withdrawn, ConsentEvent.occurred_at < next_start)
    return db.session.scalar(
        select(func.count(func.distinct(Delivery.donor_id)))
        .select_from(Delivery)
        .join(ConsentEvent, withdrawn)
        .where(Delivery.newsletter_id == newsletter.id, Delivery.sent_at.is_not(None))
    )
