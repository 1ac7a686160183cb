"""Newsletter sending: 20,000 personalised messages through mailing.sending.run (Delivery rows
read in chunks, each message composed, sent over C reused SMTP connections in threads,
recorded in batches) beside the same number of prebuilt messages sent with bare smtplib
over C reused connections, both to one aiosmtpd sink on loopback; and the sender's peak
memory at 2,000 and 20,000 recipients.

    python bench/newsletter.py
    python bench/newsletter.py --connections 8

Not a test: it prints figures and exits 0 even when short of the targets; the last line is
the headline.

Each size gets its own temporary SQLite instance, filled by a setup process (migrations,
consenting donors, one scheduled newsletter with an Italian and an English version); a fresh
sender process then claims it (freezing the Delivery rows) and runs it, timing `run` alone,
and reports its peak RSS (ru_maxrss), so the two sizes compare like for like. The sink is a
separate process (aiosmtpd, accepts everything, keeps nothing). The baseline gets the very
messages Legami composes for the 20,000 recipients, built beforehand outside the timing, and
sends their bytes with `sendmail` from C threads, each holding one connection: so the ratio
charges Legami with reading and recording the rows, composing each message and the thread
hand-off, not with the SMTP work both do.
"""

import argparse
import json
import os
import queue
import resource
import smtplib
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import free_port, instance

SIZES = (2_000, 20_000)
CONNECTIONS = 4
INSERT_CHUNK = 2_000
TARGET_RATIO = 0.7
TARGET_RSS = 1.2
BODY = """Cara/o {{ first_name | "amica, amico" }},

grazie: **l'orto di Cambonino è seminato**. In primavera le prime verdure andranno alla
mensa del quartiere; a giugno apriamo il laboratorio di compostaggio.

- 42 famiglie coinvolte
- 1.200 m² coltivati
- [il diario dell'orto](https://legami.example/campagne/orto)

A presto!
"""


def sink(port: int) -> None:
    """An SMTP server that accepts every message and keeps none (run as its own process)."""
    from aiosmtpd.controller import Controller

    class Accept:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Accept(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    controller.stop()


def setup(size: int) -> None:
    """Migrations, `size` consenting donors (one in five English), a scheduled newsletter."""
    from flask_migrate import upgrade

    from donors.models import Donor
    from legami import create_app
    from legami.extensions import db
    from legami.models import EntityType, Organisation
    from legami.timeutil import now_utc
    from mailing.models import Newsletter, NewsletterStatus, NewsletterVersion

    with create_app().app_context():
        upgrade()
        for start in range(0, size, INSERT_CHUNK):
            db.session.add_all(
                Donor(
                    email=f"donor{n:06d}@example.org",
                    first_name=f"Nome{n}",
                    last_name="Rossi",
                    language="en" if n % 5 == 0 else "it",
                    newsletter_consent=True,
                )
                for n in range(start, min(size, start + INSERT_CHUNK))
            )
            db.session.commit()
            db.session.expunge_all()
        organisation = Organisation(
            slug="legami-cremona",
            name="Legami Cremona ETS",
            entity_type=EntityType.OTHER_ETS,
            codice_fiscale="93000000000",
            street="Via Roma 1",
            postal_code="26100",
            town="Cremona",
            province="CR",
            legal_representative="Maria Verdi",
            email="info@legami.example",
        )
        db.session.add(organisation)
        db.session.add(
            Newsletter(
                organisation=organisation,
                title="Notizie dall'orto",
                from_name="Legami Cremona",
                from_email="notizie@legami.example",
                status=NewsletterStatus.SCHEDULED,
                scheduled_at=now_utc(),
                versions=[
                    NewsletterVersion(
                        language="it",
                        subject='Ciao {{ first_name | "amica, amico" }}, notizie dall\'orto',
                        preheader="Le prime verdure e il laboratorio di giugno",
                        body=BODY,
                    ),
                    NewsletterVersion(
                        language="en",
                        subject="Hello {{ first_name }}, news from the garden",
                        body="Dear {{ first_name }}, **thank you**: the garden is sown.",
                    ),
                ],
            )
        )
        db.session.commit()


def send() -> None:
    """Claim the newsletter and run it; prints the count, the seconds of `run`, peak RSS."""
    from legami import create_app
    from legami.timeutil import now_utc
    from mailing import sending

    with create_app().app_context():
        token = sending.claim(1, now_utc())
        started = time.perf_counter()
        outcome = sending.run(1, token)
        seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"sent": outcome.sent, "seconds": seconds, "rss_kib": peak_kib}))


def child(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"bench/newsletter.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def prebuilt(env: dict) -> list[tuple[str, str, object]]:
    """Legami's messages for every delivery of the newsletter, built before any timing."""
    os.environ.update(env)
    from sqlalchemy import select

    from legami import create_app
    from legami.extensions import db
    from mailing import compose
    from mailing.models import Delivery, Newsletter

    app = create_app()
    with app.app_context(), app.test_request_context("/", base_url=app.config["BASE_URL"]):
        prepared = compose.prepare(db.session.get(Newsletter, 1))
        rows = db.session.execute(select(Delivery).order_by(Delivery.id)).scalars()
        return [(prepared.envelope_from(r), r.email, prepared.render(r).data) for r in rows]


def bare_smtplib(port: int, messages: list, connections: int) -> float:
    """Messages per second: `connections` threads, one reused connection each."""
    work: queue.SimpleQueue = queue.SimpleQueue()
    for item in messages:
        work.put(item)

    def sender() -> None:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            while True:
                try:
                    envelope_from, to, data = work.get_nowait()
                except queue.Empty:
                    return
                smtp.sendmail(envelope_from, [to], data)

    threads = [threading.Thread(target=sender) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(messages) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--setup", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--send", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        return sink(args.sink)
    if args.setup:
        return setup(args.setup)
    if args.send:
        return send()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if server.stdout.readline().strip() != "ready":
            sys.exit("the SMTP sink did not start")
        settings = {
            "SMTP_URL": f"smtp://127.0.0.1:{port}",
            "SECRET_KEY": "bench",
            "BASE_URL": "https://legami.example",
            "NEWSLETTER_SMTP_CONNECTIONS": str(args.connections),
            "NEWSLETTER_RATE_PER_MINUTE": "0",
        }
        results = {}
        for size in SIZES:
            with instance(settings) as (_, env):
                child(env, "--setup", str(size))
                results[size] = json.loads(child(env, "--send").splitlines()[-1])
                if results[size]["sent"] != size:
                    sys.exit(f"sent {results[size]['sent']} of {size}")
                if size == SIZES[-1]:
                    messages = prebuilt(env)
        bare = bare_smtplib(port, messages, args.connections)
    finally:
        server.stdin.close()
        server.wait(30)

    largest, smallest = results[SIZES[-1]], results[SIZES[0]]
    legami = largest["sent"] / largest["seconds"]
    rss = largest["rss_kib"] / smallest["rss_kib"]
    print(
        f"{SIZES[-1]:,} recipients, {args.connections} SMTP connections, "
        f"aiosmtpd sink on 127.0.0.1, SQLite"
    )
    print(f"newsletter (sending.run)  {legami:8.0f} messages/s")
    print(f"bare smtplib, prebuilt    {bare:8.0f} messages/s")
    for size in SIZES:
        print(f"peak RSS at {size:>6,} recipients: {results[size]['rss_kib'] / 1024:6.1f} MiB")
    print(f"peak RSS {SIZES[-1]:,} vs {SIZES[0]:,}: {rss:.2f} (target <= {TARGET_RSS})")
    print(f"newsletter vs bare smtplib: {legami / bare:.2f} (target >= {TARGET_RATIO})")


if __name__ == "__main__":
    main()
