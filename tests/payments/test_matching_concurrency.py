"""Concurrent gifts at a challenge's cap, on PostgreSQL: eight transfers confirmed at the same
moment by eight threads share exactly what the pool holds, never a cent more."""

import threading

import pytest
from sqlalchemy import func, select

from legami.extensions import db
from legami.timeutil import today_rome
from payments import treasury
from payments.matching_models import Challenge, MatchLine
from payments.models import Method, Status
from tests import factories
from tests.payments.matching import challenge, check_books

THREADS = 8


def _run_together(app, jobs) -> list[Exception]:
    barrier = threading.Barrier(len(jobs))
    errors = []

    def worker(job):
        with app.app_context():
            barrier.wait()
            try:
                job()
                db.session.commit()
            except Exception as exc:  # reported by the test
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


@pytest.mark.postgres
@pytest.mark.parametrize("cap_cents", [3_500, 7_999, 8_000, 100])
def test_concurrent_gifts_at_the_cap_never_over_commit(app, cap_cents):
    campaign = factories.campaign()
    found = challenge(campaign, cap_cents=cap_cents, position=1)
    second = challenge(campaign, cap_cents=2_345, ratio_percent=50, position=2)
    gifts = [
        factories.donation(
            campaign=campaign,
            method=Method.BANK_TRANSFER,
            status=Status.PENDING,
            received_on=None,
            amount_cents=1_000,
        ).id
        for _ in range(THREADS)
    ]
    day = today_rome()

    def confirm(donation_id):
        return lambda: treasury.confirm_transfer(donation_id, day, None)

    assert _run_together(app, [confirm(g) for g in gifts]) == []
    db.session.expire_all()
    for row, wanted in ((found, 1_000), (second, 500)):
        pool = db.session.get(Challenge, row.id)
        expected = min(pool.cap_cents, wanted * THREADS)
        assert pool.committed_cents == expected
        lines = db.session.scalar(
            select(func.sum(MatchLine.held_cents)).where(MatchLine.challenge_id == row.id)
        )
        assert lines == expected
    check_books(campaign.id)
