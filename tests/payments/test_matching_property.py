"""Property: whatever happens to a campaign's gifts while two challenges match them (gifts
with and without an added fee, partial and full refunds, refunds that fail, lost disputes,
bank reversals and new confirmations, requests and the matchers' payments), the books stay
exact to the cent after every step: raised = the donors' net gifts; matched = the lines
still held by unsettled challenges; no pool above its cap; a settled challenge was paid
exactly what was asked."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legami.extensions import db
from legami.timeutil import today_rome
from legami.validation import Invalid
from payments import matching_settlement, transitions, treasury
from payments.models import Donation, Status
from tests import factories
from tests.payments.matching import challenge, check_books, transfer

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

GIFT = st.tuples(st.just("give"), st.integers(100, 20_000), st.integers(0, 3), st.booleans())
ON_GIFT = st.tuples(
    st.sampled_from(["refund", "fail_refund", "dispute_lost", "reverse", "confirm"]),
    st.integers(0, 20),
    st.integers(1, 100),
)
ON_POOL = st.tuples(st.sampled_from(["ask", "settle"]), st.integers(0, 1))
STEPS = st.lists(st.one_of(GIFT, GIFT, ON_GIFT, ON_GIFT, ON_POOL), min_size=1, max_size=20)


@EXAMPLES
@given(steps=STEPS, caps=st.tuples(st.integers(1, 30_000), st.integers(1, 30_000)))
def test_the_books_stay_exact_whatever_happens(app, steps, caps):
    with app.test_request_context():  # the services' messages format amounts
        _run(steps, caps)


def _run(steps, caps) -> None:
    today = today_rome()
    day = today - timedelta(days=2)
    campaign = factories.campaign()
    window = {"starts_on": today - timedelta(days=5), "ends_on": today - timedelta(days=1)}
    pools = [
        challenge(campaign, cap_cents=caps[0], position=1, **window),
        challenge(campaign, cap_cents=caps[1], ratio_percent=50, position=2, **window),
    ]
    donors = [factories.donor() for _ in range(4)]
    gifts: list[int] = []
    for step in steps:
        kind = step[0]
        if kind == "give":
            _, cents, who, fee = step
            fee_cents = min(cents // 10, 99) if fee else 0
            gifts.append(
                transfer(campaign, cents, donor=donors[who], day=day, fee_cents=fee_cents).id
            )
        elif kind in ("ask", "settle"):
            pool = pools[step[1]]
            try:
                if kind == "ask":
                    matching_settlement.ask(pool.id, None)
                else:
                    db.session.refresh(pool)
                    matching_settlement.settle(pool.id, pool.asked_cents or 0, today, "", None)
                db.session.commit()
            except Invalid:
                db.session.rollback()
        elif gifts:
            _apply(kind, db.session.get(Donation, gifts[step[1] % len(gifts)]), step[2], day)
        check_books(campaign.id)


def _apply(kind: str, gift: Donation, share: int, day) -> None:
    db.session.refresh(gift)
    try:
        if kind == "refund" and gift.status == Status.SUCCEEDED:
            treasury.refund(gift.id, max(1, gift.net_cents * share // 100), "prova", None)
        elif kind == "fail_refund":
            donation = transitions.lock(gift.id)
            lower = donation.refunded_cents * share // 100
            transitions.send(transitions.set_refunded_total(donation, lower))
        elif kind == "dispute_lost":
            donation = transitions.lock(gift.id)
            transitions.send(transitions.record_dispute(donation, "lost"))
        elif kind == "reverse":
            treasury.reverse_transfer(gift.id, day, None, "prova")
        elif kind == "confirm" and gift.status == Status.PENDING:
            treasury.confirm_transfer(gift.id, day, None)
        db.session.commit()
    except Invalid:
        db.session.rollback()
