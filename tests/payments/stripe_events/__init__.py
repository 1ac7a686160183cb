"""Stripe objects and events in the shapes Stripe publishes for each API version.

The JSON files beside this module are the objects of Stripe's own OpenAPI fixtures
(github.com/stripe/openapi, openapi/fixtures3.json, MIT licence) at the commits that publish
each version: 2022-08-01 (91252fd5), 2024-06-20 (deac9407), 2025-03-31.basil (76cae486) and
2026-07-29.dahlia (19be337d). `Shapes(version)` fills them with a test's ids and amounts and
applies the version's documented differences the fixtures do not show: since 2022-11-15 a
charge no longer lists its refunds; since 2025-03-31 an invoice has no `charge`,
`payment_intent`, `subscription` or `paid` (the subscription moved to
`parent.subscription_details`, the payments to `payments`, expanded only on request), and
PaymentIntents and charges no longer name their invoice.
"""

import copy
import json
import time
import uuid
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
VERSIONS = ("2022-08-01", "2024-06-20", "2025-03-31.basil", "2026-07-29.dahlia")
# Two versions on either side of the invoice change, for the tests that run in each.
TWO = ("2024-06-20", "2025-03-31.basil")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


@cache
def _fixtures(version: str) -> dict:
    return json.loads((HERE / f"{version}.json").read_text())


class Shapes:
    def __init__(self, version: str):
        self.version = version
        self.basil = version >= "2025-03-31"
        self.lists_refunds = version < "2022-11-15"

    def _base(self, name: str, **fields) -> dict:
        obj = copy.deepcopy(_fixtures(self.version)[name])
        obj.update(livemode=False, created=fields.pop("created", int(time.time())), metadata={})
        obj.update(fields)
        return obj

    def intent(
        self,
        intent_id: str,
        amount: int,
        currency: str = "eur",
        status: str = "succeeded",
        charge: str | None = None,
        metadata: dict | None = None,
    ) -> dict:
        obj = self._base(
            "payment_intent",
            id=intent_id,
            amount=amount,
            amount_received=amount if status == "succeeded" else 0,
            currency=currency,
            status=status,
            latest_charge=charge,
            client_secret=f"{intent_id}_secret_x",
            canceled_at=None,
        )
        obj["metadata"] = metadata or {}
        return obj

    def charge(
        self,
        charge_id: str,
        intent_id: str | None,
        amount: int,
        currency: str = "eur",
        refunds: list[dict] = (),
        amount_refunded: int | None = None,
        created: int | None = None,
    ) -> dict:
        live = [r for r in refunds if r["status"] in ("pending", "succeeded")]
        refunded = sum(r["amount"] for r in live) if amount_refunded is None else amount_refunded
        obj = self._base(
            "charge",
            id=charge_id,
            payment_intent=intent_id,
            amount=amount,
            amount_captured=amount,
            captured=True,
            paid=True,
            currency=currency,
            amount_refunded=refunded,
            refunded=refunded >= amount,
            status="succeeded",
            created=created or int(time.time()),
        )
        if self.lists_refunds:
            obj["refunds"] = {
                "object": "list",
                "data": list(refunds),
                "has_more": False,
                "url": f"/v1/charges/{charge_id}/refunds",
            }
        else:
            obj.pop("refunds", None)
        return obj

    def refund(
        self,
        refund_id: str,
        charge_id: str,
        intent_id: str | None,
        amount: int,
        currency: str = "eur",
        status: str = "succeeded",
        created: int | None = None,
    ) -> dict:
        return self._base(
            "refund",
            id=refund_id,
            charge=charge_id,
            payment_intent=intent_id,
            amount=amount,
            currency=currency,
            status=status,
            created=created or int(time.time()),
        )

    def dispute(
        self, dispute_id: str, charge_id: str, intent_id: str | None, amount: int, status: str
    ) -> dict:
        return self._base(
            "dispute",
            id=dispute_id,
            charge=charge_id,
            payment_intent=intent_id,
            amount=amount,
            currency="eur",
            status=status,
        )

    def invoice(
        self,
        invoice_id: str,
        subscription_id: str,
        amount_paid: int,
        currency: str = "eur",
        intent_id: str | None = None,
        charge_id: str | None = None,
        expand_payments: bool = False,
        paid_at: int | None = None,
    ) -> dict:
        paid_at = paid_at or int(time.time())
        obj = self._base(
            "invoice",
            id=invoice_id,
            amount_due=amount_paid,
            amount_paid=amount_paid,
            amount_remaining=0,
            currency=currency,
            status="paid",
            billing_reason="subscription_cycle",
            status_transitions={
                "finalized_at": paid_at,
                "marked_uncollectible_at": None,
                "paid_at": paid_at,
                "voided_at": None,
            },
        )
        obj["lines"]["data"] = []
        if self.basil:
            for gone in ("charge", "payment_intent", "paid", "paid_out_of_band", "subscription"):
                obj.pop(gone, None)
            obj["parent"] = {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"metadata": {}, "subscription": subscription_id},
            }
            if expand_payments:
                payment = self.invoice_payment(
                    new_id("inpay"), invoice_id, intent_id, amount_paid, currency, charge_id
                )
                obj["payments"] = {"object": "list", "data": [payment], "has_more": False}
        else:
            obj.update(
                charge=charge_id, payment_intent=intent_id, paid=True, subscription=subscription_id
            )
        return obj

    def invoice_payment(
        self,
        payment_id: str,
        invoice_id: str,
        intent_id: str | None,
        amount: int,
        currency: str = "eur",
        charge_id: str | None = None,
    ) -> dict:
        assert self.basil, "invoice payments exist since 2025-03-31"
        obj = self._base(
            "invoice_payment",
            id=payment_id,
            invoice=invoice_id,
            amount_paid=amount,
            amount_requested=amount,
            currency=currency,
            is_default=True,
            status="paid",
            status_transitions={"canceled_at": None, "paid_at": int(time.time())},
        )
        obj.pop("metadata", None)
        if intent_id:
            obj["payment"] = {"type": "payment_intent", "payment_intent": intent_id}
        else:
            obj["payment"] = {"type": "charge", "charge": charge_id}
        return obj

    def subscription(self, subscription_id: str, status: str) -> dict:
        return self._base("subscription", id=subscription_id, status=status)

    def event(
        self,
        type_: str,
        obj: dict,
        created: int | None = None,
        event_id: str | None = None,
        account: str | None = None,
    ) -> bytes:
        body = {
            "id": event_id or new_id("evt"),
            "object": "event",
            "api_version": self.version,
            "type": type_,
            "created": created or int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }
        if account:
            body["account"] = account
        return json.dumps(body).encode()
