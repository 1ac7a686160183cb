"""Gapless numbering under concurrency: 8 threads issue 400 receipts for each of two
organisations at once, on PostgreSQL (row lock on the sequence row)."""

import queue
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from legami.extensions import db
from legami.timeutil import today_rome
from payments.models import Donation
from receipts import issuing
from receipts.models import Receipt
from tests import factories

PER_ORGANISATION = 400
THREADS = 8


@pytest.mark.postgres
def test_eight_threads_issue_gapless_numbers_for_two_organisations(app):
    today = today_rome()
    gifts = []
    for _ in range(2):
        campaign = factories.campaign()
        donor = factories.donor()
        rows = [
            Donation(
                campaign_id=campaign.id,
                organisation_id=campaign.organisation_id,
                donor_id=donor.id,
                amount_cents=1000 + n,
                method="card",
                status="succeeded",
                received_on=today,
                succeeded_at=datetime.now(UTC),
            )
            for n in range(PER_ORGANISATION)
        ]
        db.session.add_all(rows)
        db.session.commit()
        gifts += [(row.id, campaign.organisation_id) for row in rows]
    work = queue.Queue()
    # Interleave the two organisations so both sequences are contended at once.
    for pair in zip(gifts[:PER_ORGANISATION], gifts[PER_ORGANISATION:], strict=True):
        for donation_id, _ in pair:
            work.put(donation_id)
    barrier = threading.Barrier(THREADS)
    errors = []

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                while True:
                    try:
                        donation_id = work.get_nowait()
                    except queue.Empty:
                        return
                    issuing.issue_for_gift(donation_id)
                    db.session.commit()
            except Exception as exc:  # reported below, with the thread's failure
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    db.session.expire_all()
    rows = db.session.execute(
        select(Receipt.organisation_id, Receipt.number, Receipt.donation_id)
    ).all()
    assert len(rows) == 2 * PER_ORGANISATION
    for organisation_id in {org for _, org in gifts}:
        numbers = sorted(n for org, n, _ in rows if org == organisation_id)
        assert numbers == list(range(1, PER_ORGANISATION + 1))
    assert {d for _, _, d in rows} == {d for d, _ in gifts}
