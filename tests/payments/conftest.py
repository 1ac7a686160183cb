"""A real localstripe server for the payments tests, and webhooks signed as Stripe signs them."""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from tests.conftest import free_port

WEBHOOK_SECRET = "whsec_test_legami"


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    process = subprocess.Popen(
        # --from-scratch: never load the state another run left in /tmp/localstripe.pickle
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/v1/customers", timeout=1)  # 401 without a key
        except urllib.error.HTTPError:
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"localstripe did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def stripe_app(app, localstripe):
    app.config.update(
        STRIPE_SECRET_KEY="sk_test_legami",
        STRIPE_PUBLISHABLE_KEY="pk_test_legami",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=localstripe,
    )
    return app


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256)
    return f"t={timestamp},v1={signature.hexdigest()}"


def event(type_: str, obj: dict, event_id: str | None = None) -> bytes:
    body = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "api_version": os.environ.get("STRIPE_API_VERSION", "2025-01-27"),
    }
    return json.dumps(body).encode()


def deliver(client, payload: bytes, signature: str | None = None):
    return client.post(
        "/payments/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": signature or sign(payload)},
        content_type="application/json",
    )
