"""Two scheduler processes, and a sender killed half-way, against one PostgreSQL database; the
SMTP server counts what each address receives.

The guarantee (mailing.sending): at least once at the SMTP boundary; a crash can repeat only
the messages handed out and not yet recorded, at most connections x batch.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from donors.models import Donor
from legami.extensions import db
from legami.timeutil import now_utc
from mailing.models import Delivery, Newsletter, NewsletterStatus, NewsletterVersion
from tests import factories

pytestmark = pytest.mark.postgres

RECIPIENTS = 2_000
CONNECTIONS = 4
BATCH = 20
LEASE_SECONDS = 2

# What `legami scheduler` does when the newsletter's job fires, once the start file exists
# (so two processes reach the claim together).
SCHEDULER = """
import os, sys, time
from legami import create_app
from mailing import sending

app = create_app()
with app.app_context():
    while not os.path.exists(sys.argv[1]):
        time.sleep(0.005)
    print(sending.send_due(), flush=True)
"""


@pytest.fixture
def due_newsletter(app) -> Newsletter:
    db.session.add_all(
        Donor(
            email=f"p{n:04d}@example.org",
            first_name=f"P{n}",
            last_name="Rossi",
            newsletter_consent=True,
        )
        for n in range(RECIPIENTS)
    )
    newsletter = Newsletter(
        organisation=factories.organisation(),
        title="Notizie",
        status=NewsletterStatus.SCHEDULED,
        scheduled_at=now_utc() - timedelta(seconds=5),
        versions=[NewsletterVersion(language="it", subject="Ciao {{ first_name }}", body="Ciao!")],
    )
    db.session.add(newsletter)
    db.session.commit()
    return newsletter


def start_scheduler(database_url, smtp_url, folder: Path, go: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LEGAMI_INSTANCE": str(folder),
        "SECRET_KEY": "test-secret",
        "BASE_URL": "http://localhost",
        "SMTP_URL": smtp_url,
        "NEWSLETTER_SMTP_CONNECTIONS": str(CONNECTIONS),
        "NEWSLETTER_BATCH": str(BATCH),
        "NEWSLETTER_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    return subprocess.Popen(
        [sys.executable, "-c", SCHEDULER, str(go)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out.strip()


def received(smtp_server) -> Counter:
    return Counter(to for _, tos in smtp_server.envelopes for to in tos)


def statuses(newsletter) -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.newsletter_id == newsletter.id)
        .group_by(Delivery.status)
    )
    return dict(rows.all())


def test_two_scheduler_processes_send_each_address_exactly_once(
    database_url, smtp_server, due_newsletter, tmp_path
):
    go = tmp_path / "go"
    processes = [
        start_scheduler(database_url, smtp_server.url, tmp_path / f"instance-{n}", go)
        for n in range(2)
    ]
    go.touch()
    outputs = sorted(finished(process) for process in processes)

    assert outputs == ["0", str(RECIPIENTS)]  # one claimed it, the other found it taken
    counts = received(smtp_server)
    assert len(counts) == RECIPIENTS
    assert set(counts.values()) == {1}
    assert statuses(due_newsletter) == {"sent": RECIPIENTS}


def test_a_sender_killed_half_way_is_taken_over_with_duplicates_bounded(
    database_url, smtp_server, due_newsletter, tmp_path
):
    go = tmp_path / "go"
    go.touch()
    first = start_scheduler(database_url, smtp_server.url, tmp_path / "first", go)
    deadline = time.monotonic() + 60
    while len(smtp_server.envelopes) < RECIPIENTS // 2:
        assert time.monotonic() < deadline and first.poll() is None, first.stderr.read()
        time.sleep(0.002)
    first.send_signal(signal.SIGKILL)
    first.wait()
    time.sleep(0.2)  # the server finishes the last message it was reading
    at_kill = len(smtp_server.envelopes)
    assert at_kill < RECIPIENTS
    recorded = statuses(due_newsletter).get("sent", 0)
    # Sent but not recorded: what the next sender will send again.
    assert recorded <= at_kill <= recorded + CONNECTIONS * BATCH

    time.sleep(LEASE_SECONDS + 0.5)  # the dead sender's lease runs out
    second = start_scheduler(database_url, smtp_server.url, tmp_path / "second", go)
    assert int(finished(second)) == RECIPIENTS - recorded

    counts = received(smtp_server)
    assert len(counts) == RECIPIENTS  # nobody skipped
    duplicates = sum(counts.values()) - RECIPIENTS
    assert duplicates == at_kill - recorded <= CONNECTIONS * BATCH
    print(f"killed after {at_kill} received, {recorded} recorded: {duplicates} duplicates")
    assert statuses(due_newsletter) == {"sent": RECIPIENTS}
    db.session.refresh(due_newsletter)
    assert due_newsletter.status == NewsletterStatus.SENT
