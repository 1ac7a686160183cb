"""Card gifts paid through signed webhooks, and the text a PDF shows to pdftotext."""

import subprocess
import uuid

import pytest

from legami.extensions import db
from payments.models import Donation, Status
from receipts import issuing
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, deliver, event


@pytest.fixture
def webhooks(app):
    """The app accepting webhooks signed as the tests sign them (no Stripe server needed)."""
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app


def card_gift(client, campaign, amount_cents: int = 5000, **overrides) -> Donation:
    """A pending card gift, then Stripe's payment_intent.succeeded for it, delivered signed."""
    intent_id = f"pi_{uuid.uuid4().hex[:20]}"
    pending = factories.donation(
        campaign=campaign,
        amount_cents=amount_cents,
        status=Status.PENDING,
        received_on=None,
        stripe_payment_intent_id=intent_id,
        **overrides,
    )
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount_cents,
        "amount_received": amount_cents,
        "currency": "eur",
        "status": "succeeded",
        "metadata": {"donation_id": str(pending.id)},
        "latest_charge": f"ch_{uuid.uuid4().hex[:20]}",
    }
    answer = deliver(client, event("payment_intent.succeeded", intent))
    assert answer.status_code == 200, answer.text
    assert answer.json["outcome"] == "succeeded"
    db.session.commit()  # end the test's read snapshot: the webhook wrote from another session
    issuing.issue_due()  # what the scheduler does a few seconds later
    db.session.expire_all()
    return db.session.get(Donation, pending.id)


def refund(client, donation: Donation, refunded_total_cents: int) -> None:
    """Stripe's charge.refunded with the running total refunded on the gift's charge."""
    charge = {
        "id": donation.stripe_charge_id,
        "object": "charge",
        "payment_intent": donation.stripe_payment_intent_id,
        "amount": donation.amount_cents,
        "amount_refunded": refunded_total_cents,
    }
    assert deliver(client, event("charge.refunded", charge)).status_code == 200
    db.session.expire_all()


def dispute(client, donation: Donation, status: str) -> None:
    body = {
        "id": f"dp_{donation.id}",
        "object": "dispute",
        "charge": donation.stripe_charge_id,
        "payment_intent": donation.stripe_payment_intent_id,
        "amount": donation.amount_cents,
        "status": status,
    }
    kind = "charge.dispute.created" if status == "needs_response" else "charge.dispute.closed"
    assert deliver(client, event(kind, body)).status_code == 200
    db.session.expire_all()


def squeeze(text: str) -> str:
    """Whitespace (line breaks, no-break spaces) folded to single spaces."""
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    """What pdftotext extracts from the PDF, whitespace folded."""
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return squeeze(out.stdout.decode())


def pdf_info(data: bytes) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True)
    pairs = (line.split(":", 1) for line in out.stdout.decode().splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}
