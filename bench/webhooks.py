"""Webhook throughput: 5,000 signed payment_intent.succeeded events for distinct pending card
gifts, then the same 5,000 again (repeats), posted to Legami under gunicorn (4 workers),
beside a bare Flask route in the same server. Checks every gift succeeded exactly once.
Runs on SQLite (a temporary folder) and then on PostgreSQL (a fresh database on the server
of LEGAMI_BENCH_POSTGRES, default postgres@127.0.0.1:5432, dropped afterwards).

    python bench/webhooks.py

Not a test: it prints figures; the last line is the headline, on PostgreSQL.
"""

import hashlib
import hmac
import json
import os
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import get, gunicorn, instance, load

GIFTS = 5_000
SECRET = "whsec_bench"
POSTGRES = os.environ.get("LEGAMI_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
TARGET = 0.3
# Webhooks wait on the database (a durable commit each); more workers than cores overlap the
# waits. The bare route runs on the same server, so the ratio stays like for like.
WORKERS = 4


def prepare(env: dict) -> list[tuple[int, str]]:
    """Migrate, then insert the pending gifts in bulk; returns (donation id, intent id)."""
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


@contextmanager
def postgres_database():
    """A fresh PostgreSQL database for one run, dropped afterwards; yields its URL."""
    import psycopg

    name = f"legami_bench_webhooks_{uuid.uuid4().hex[:8]}"
    admin = POSTGRES.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(extra: dict) -> dict:
    """One engine: the bare route, then the new events, then their repeats."""
    with instance({"STRIPE_WEBHOOK_SECRET": SECRET, "SMTP_URL": "", **extra}) as (_, env):
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
    ok = succeeded == GIFTS == stored == gifts and set(first) == set(repeats) == {200}
    return {
        "bare": bare_rate,
        "first": first_rate,
        "repeat": repeat_rate,
        "statuses": sorted(set(first) | set(repeats)),
        "counts": (succeeded, stored, gifts),
        "ok": ok,
    }


def main() -> None:
    results = {"SQLite": run({})}
    with postgres_database() as url:
        results["PostgreSQL"] = run({"DATABASE_URL": url})
    for engine, r in results.items():
        succeeded, stored, gifts = r["counts"]
        print(f"{engine}:")
        print(f"  bare route:        {r['bare']:8.1f} requests/s")
        print(f"  webhooks (new):    {r['first']:8.1f} events/s   statuses {r['statuses']}")
        print(f"  webhooks (repeat): {r['repeat']:8.1f} events/s")
        print(
            f"  gifts succeeded {succeeded} of {GIFTS}; events stored {stored}; "
            f"campaign gift count {gifts}"
        )
        print("  every gift succeeded exactly once" if r["ok"] else "  MISMATCH: see above")
        print(f"  webhook events vs bare route: {r['first'] / r['bare']:.2f}")
    pg = results["PostgreSQL"]
    print(
        f"webhook events vs bare route: {pg['first'] / pg['bare']:.2f} (target >= {TARGET})"
        + ("" if pg["ok"] and results["SQLite"]["ok"] else " MISMATCH")
    )


if __name__ == "__main__":
    main()
