"""The books of matching challenges: a match line per gift, a pool that never over-commits.

Rules (each applied inside the transaction that changed the gift, by payments' signals):
- A gift that succeeds is matched by every challenge of its campaign that counts it (its
  day in the window, one-off or monthly as chosen, a first-time donor when asked, never the
  matcher's own gift), in the challenges' stated order (position, then id): each matches the
  gift on its own terms, `ratio_percent` of what the donor gave (the gift without the fee
  they chose to add), floored to the cent, at most the per-gift ceiling, at most what is
  left in its pool. Nothing left, no line.
- A pool is taken with a conditional UPDATE (`committed + x <= cap`), retried on what the
  database says is left when another gift took it first: concurrent gifts at the cap get
  exactly what remained, and the CHECK on the row refuses anything beyond.
- A refund keeps the match in proportion to what stays given: a line holds
  floor(matched * (amount - refunded) / amount). A full refund, a lost dispute or a bank
  reversal (the gift pending again) holds nothing; a refund that failed, or a gift confirmed
  again, takes back what its pool still has room for. Released money returns to the pool.
- Once the matcher has paid (the challenge is settled) its lines stand as they are: the
  pledge became the matcher's own gift (payments.matching_settlement).
The campaign's matched figure (campaigns.totals) moves by each line's change in the same
transaction: it is always the sum of the lines still held by unsettled challenges.
"""

from datetime import date

from sqlalchemy import bindparam, exists, or_, select, update

from campaigns import totals
from legami.extensions import db
from legami.timeutil import today_rome
from payments import signals, success_facts
from payments.matching_models import Challenge, MatchLine
from payments.models import Donation, Status

_TAKE = (
    update(Challenge)
    .where(
        Challenge.id == bindparam("b_id"),
        Challenge.settled_donation_id.is_(None),
        Challenge.committed_cents + bindparam("b_cents") <= Challenge.cap_cents,
    )
    .values(committed_cents=Challenge.committed_cents + bindparam("b_cents"))
)
_GIVE_BACK = (
    update(Challenge)
    .where(Challenge.id == bindparam("b_id"), Challenge.settled_donation_id.is_(None))
    .values(committed_cents=Challenge.committed_cents - bindparam("b_cents"))
)


def take(challenge_id: int, wanted: int) -> int:
    """Take up to `wanted` cents from the pool; returns what was taken (0 when full).

    The read only proposes an amount; the UPDATE's condition decides, under the row lock,
    against the committed value. A refusal means another gift took first: read again.
    """
    connection = db.session.connection()
    while wanted > 0:
        room = connection.execute(
            select(Challenge.cap_cents - Challenge.committed_cents).where(
                Challenge.id == challenge_id, Challenge.settled_donation_id.is_(None)
            )
        ).scalar()
        cents = min(wanted, room or 0)
        if cents <= 0:
            return 0
        if connection.execute(_TAKE, {"b_id": challenge_id, "b_cents": cents}).rowcount == 1:
            return cents
    return 0


def give_back(challenge_id: int, cents: int) -> bool:
    """Return cents to the pool; False when the challenge was settled meanwhile (its lines
    then stand as the matcher paid them)."""
    result = db.session.connection().execute(_GIVE_BACK, {"b_id": challenge_id, "b_cents": cents})
    return result.rowcount == 1


def wanted_for(challenge: Challenge, base_cents: int) -> int:
    cents = base_cents * challenge.ratio_percent // 100
    if challenge.per_gift_ceiling_cents is not None:
        cents = min(cents, challenge.per_gift_ceiling_cents)
    return cents


def held_for(line: MatchLine, donation: Donation) -> int:
    """What a line should hold for its gift as the gift now stands (see the rules above)."""
    if donation.status not in (Status.SUCCEEDED, Status.REFUNDED):
        return 0
    return line.matched_cents * donation.net_cents // donation.amount_cents


def counts(challenge: Challenge, donation: Donation) -> bool:
    """Whether this challenge matches this succeeded gift."""
    if challenge.settled or donation.donor_id == challenge.matcher_id:
        return False
    if _settles_a_pledge(donation.id):
        return False
    if donation.received_on is None or not (
        challenge.starts_on <= donation.received_on <= challenge.ends_on
    ):
        return False
    monthly = donation.recurring_gift_id is not None
    if not (challenge.monthly if monthly else challenge.one_off):
        return False
    return not (challenge.first_time_only and _gave_before(donation))


def _settles_a_pledge(donation_id: int) -> bool:
    """A matcher's payment of its pledge is its own gift, never matched again."""
    return bool(
        db.session.scalar(select(exists().where(Challenge.settled_donation_id == donation_id)))
    )


def _gave_before(donation: Donation) -> bool:
    """An earlier gift of the donor to the same organisation that still stands."""
    earlier = (Donation.received_on < donation.received_on) | (
        (Donation.received_on == donation.received_on) & (Donation.id < donation.id)
    )
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Donation.donor_id == donation.donor_id,
                    Donation.organisation_id == donation.organisation_id,
                    Donation.status == Status.SUCCEEDED,
                    Donation.id != donation.id,
                    earlier,
                )
            )
        )
    )


def _move(line: MatchLine, target: int, reason: str) -> None:
    change = target - line.held_cents
    if change < 0 and not give_back(line.challenge_id, -change):
        return
    if change > 0:
        change = take(line.challenge_id, change)
    if change:
        line.held_cents += change
        totals.add_matched(line.campaign_id, line.donation_id, change)
    line.released_reason = "" if line.held_cents == line.matched_cents else reason


def apply(donation_id: int, new_lines: bool) -> None:
    """Bring the gift's match lines in line with the gift; with `new_lines` (the gift just
    succeeded) also match it by the challenges that count it and have no line for it yet."""
    donation = db.session.get(Donation, donation_id)
    if donation is None:
        return
    lines = db.session.scalars(
        select(MatchLine)
        .join(Challenge, Challenge.id == MatchLine.challenge_id)
        .where(MatchLine.donation_id == donation_id, Challenge.settled_donation_id.is_(None))
        .order_by(Challenge.position, Challenge.id)
    ).all()
    reason = "refund" if donation.status in (Status.SUCCEEDED, Status.REFUNDED) else "unconfirmed"
    for line in lines:
        _move(line, held_for(line, donation), reason)
    if not new_lines or donation.status != Status.SUCCEEDED or donation.net_cents <= 0:
        return
    matched = {line.challenge_id for line in lines}
    base = donation.amount_cents - donation.fee_cents
    for challenge in challenges_of(donation.campaign_id):
        if challenge.id in matched or not counts(challenge, donation):
            continue
        wanted = wanted_for(challenge, base)
        # A gift partly refunded before it was matched keeps its share, as held_for says.
        wanted = wanted * donation.net_cents // donation.amount_cents
        got = take(challenge.id, wanted)
        if got <= 0:
            continue
        line = MatchLine(
            challenge_id=challenge.id,
            donation_id=donation.id,
            campaign_id=donation.campaign_id,
            base_cents=base,
            matched_cents=got,
            held_cents=got,
        )
        db.session.add(line)
        totals.add_matched(donation.campaign_id, donation.id, got)
    db.session.flush()


def challenges_of(campaign_id: int) -> list[Challenge]:
    return list(
        db.session.scalars(
            select(Challenge)
            .where(Challenge.campaign_id == campaign_id)
            .order_by(Challenge.position, Challenge.id)
            .execution_options(populate_existing=True)
        )
    )


def running(campaign_id: int, day: date | None = None) -> list[Challenge]:
    """The challenges a campaign's page shows today: in their window, not settled."""
    day = day or today_rome()
    return [
        c for c in challenges_of(campaign_id) if c.starts_on <= day <= c.ends_on and not c.settled
    ]


def matched_for(donation_id: int) -> int:
    """What matchers pledged for this gift and still hold (the thank-you page says it)."""
    return sum(
        db.session.scalars(select(MatchLine.held_cents).where(MatchLine.donation_id == donation_id))
    )


# Work for a gift that succeeds: its campaign has a challenge, or the gift has lines already.
success_facts.register(
    "matching",
    or_(
        exists().where(Challenge.campaign_id == Donation.campaign_id),
        exists().where(MatchLine.donation_id == Donation.id),
    ),
)


def _on_succeeded(sender, donation_id: int, **_) -> None:
    if success_facts.may_have_work(donation_id, "matching"):
        apply(donation_id, new_lines=True)


def _on_changed(sender, donation_id: int, **_) -> None:
    apply(donation_id, new_lines=False)


def connect_signals(app) -> None:
    signals.donation_succeeded.connect(_on_succeeded, sender=app)
    for signal in (
        signals.donation_refunded,
        signals.donation_disputed,
        signals.donation_unconfirmed,
    ):
        signal.connect(_on_changed, sender=app)
