"""Webhook throughput: 5,000 signed payment_intent.succeeded events for distinct pending card
gifts, then the same 5,000 again (repeats), posted to Legami under gunicorn (2 workers),
beside a bare Flask route in the same server. Checks every gift succeeded exactly once.

    python bench/webhooks.py              # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/legami_bench python bench/webhooks.py

Not a test: it prints figures; the last line is the headline.
"""

import hashlib
import hmac
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import get, gunicorn, instance, load

GIFTS = 5_000
SECRET = "whsec_bench"
TARGET = 0.3
# Webhooks wait on the database (a durable commit each); more workers than cores overlap the
# waits. The bare route runs on the same server, so the ratio stays like for like.
WORKERS = 4


def prepare(env: dict) -> list[tuple[int, str]]:
    """Migrate, then insert the pending gifts in bulk; returns (donation id, intent id)."""
    import os

    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from campaigns.models import Campaign
    from donors.models import Donor
    from legami import create_app
    from legami.extensions import db
    from payments.models import Donation
    from tests import factories

    app = create_app()
    with app.app_context():
        upgrade()
        campaign = factories.campaign(goal_cents=100_000_000)
        donor = Donor(email="bench@example.org", first_name="Bench", last_name="Mark")
        db.session.add(donor)
        db.session.commit()
        db.session.execute(
            insert(Donation),
            [
                {
                    "token": f"bench{i:06d}",
                    "campaign_id": campaign.id,
                    "organisation_id": campaign.organisation_id,
                    "donor_id": donor.id,
                    "amount_cents": 1000 + i,
                    "method": "card",
                    "stripe_payment_intent_id": f"pi_bench_{i:06d}",
                }
                for i in range(GIFTS)
            ],
        )
        db.session.commit()
        rows = db.session.execute(
            select(Donation.id, Donation.stripe_payment_intent_id, Donation.amount_cents)
        ).all()
        db.engine.dispose()
        assert db.session.get(Campaign, campaign.id).raised_cents == 0
    return rows


def signed(url: str, body: dict) -> urllib.request.Request:
    payload = json.dumps(body).encode()
    stamp = int(time.time())
    mac = hmac.new(SECRET.encode(), b"%d.%s" % (stamp, payload), hashlib.sha256).hexdigest()
    return urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={mac}"},
    )


def verify(env: dict) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from legami import create_app
    from legami.extensions import db
    from payments.models import Donation, PaymentEvent

    with create_app().app_context():
        succeeded = db.session.scalar(
            select(func.count()).select_from(Donation).where(Donation.status == "succeeded")
        )
        events = db.session.scalar(select(func.count()).select_from(PaymentEvent))
        from campaigns.models import Campaign

        gifts = db.session.scalars(select(Campaign)).one().gift_count
        db.engine.dispose()
    return succeeded, events, gifts


def main() -> None:
    with instance({"STRIPE_WEBHOOK_SECRET": SECRET, "SMTP_URL": ""}) as (_, env):
        rows = prepare(env)
        with gunicorn(env, workers=WORKERS) as url:
            load(get(url + "/bench/bare", 200))
            bare_rate, statuses = load(get(url + "/bench/bare", GIFTS))
            assert set(statuses) == {200}
            hook = url + "/payments/stripe/webhook"
            events = [
                {
                    "id": f"evt_bench_{i:06d}",
                    "type": "payment_intent.succeeded",
                    "created": int(time.time()),
                    "data": {
                        "object": {
                            "id": intent,
                            "object": "payment_intent",
                            "amount": amount,
                            "amount_received": amount,
                            "currency": "eur",
                            "metadata": {"donation_id": str(donation_id)},
                            "latest_charge": f"ch_bench_{i:06d}",
                            "status": "succeeded",
                        }
                    },
                }
                for i, (donation_id, intent, amount) in enumerate(rows)
            ]
            first_rate, first = load([signed(hook, e) for e in events])
            repeat_rate, repeats = load([signed(hook, e) for e in events])
        succeeded, stored, gifts = verify(env)
    print(f"bare route:        {bare_rate:8.1f} requests/s")
    print(f"webhooks (new):    {first_rate:8.1f} events/s   statuses {sorted(set(first))}")
    print(f"webhooks (repeat): {repeat_rate:8.1f} events/s   statuses {sorted(set(repeats))}")
    print(
        f"gifts succeeded {succeeded} of {GIFTS}; events stored {stored}; "
        f"campaign gift count {gifts}"
    )
    ok = succeeded == GIFTS == stored == gifts and set(first) == set(repeats) == {200}
    print("every gift succeeded exactly once" if ok else "MISMATCH: see the figures above")
    print(f"webhook events vs bare route: {first_rate / bare_rate:.2f} (target >= {TARGET})")


if __name__ == "__main__":
    main()
