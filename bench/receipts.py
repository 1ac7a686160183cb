"""Receipt rendering: N receipts through Legami's path (receipts.pdf.sealed: snapshot ->
template -> WeasyPrint as PDF/A-3b with the shared fonts and stylesheet -> PAdES seal with a
2048-bit RSA certificate) beside the same HTML rendered by bare WeasyPrint in a loop (a plain
render: no PDF/A, no seal), on one core; or, measured, real annual receipts issued and stored
end to end on all cores.

    python bench/receipts.py                        # ratio: 200 receipts, SQLite
    python bench/receipts.py --n 500
    python bench/receipts.py --annual 10000         # measured annual run, os.cpu_count() workers
    python bench/receipts.py --annual 200 --workers 1

Both run on SQLite in a temporary folder (set DATABASE_URL to use another database; it must
be empty). Not a test: it prints figures and exits 0 even when short of the targets. The last
line is the headline.

Ratio mode: the bare baseline gets the HTML Legami produced (rendered beforehand, outside the
timing) and its own fresh default setup: one FontConfiguration and one CSS parsed from
templates/receipts/receipt.css, the default URL fetcher, no Legami code, a plain PDF. So the
ratio charges Legami with what it adds per receipt: reading the snapshot, formatting, the QR
code, the template, the local-only URL fetcher, the lock, PDF/A (XMP, output intent) and the
seal. It is printed with the seal (the headline) and without it (PDF/A only). The three take
turns receipt by receipt, so a burst of other load on the machine lands on all. It also prints an
extrapolated 10,000-receipt time from one-gift receipts rendered and sealed (not stored) in a
worker pool.

Annual mode: N donors, each with 3 to 6 succeeded gifts of last year (card, bank transfer,
cash; some partly refunded), most to one campaign of their own, some to the other two, of
one organisation whose policy is annual (each campaign a QR code on the receipt), written
with bulk inserts together with the campaign and donor year totals payments keeps; then the
clock runs around receipts.annual.issue_annual, the path of `legami receipts issue-annual`:
numbering and snapshots in this process, PDFs rendered and stored by the worker processes
(their start-up included). Stored PDFs take about 25 KB each in the temporary folder.
"""

import argparse
import os
import random
import secrets
import sys
import time
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, instance

STATIC = str(ROOT / "static")
STYLESHEET = str(ROOT / "templates" / "receipts" / "receipt.css")
WARM_UP = 3
ANNUAL = 10_000
TARGET_RATIO = 0.8
TARGET_SECONDS = 600
# A valid personal codice fiscale, so the receipts print one as most would.
CODICE_FISCALE = "RSSMRA85T10A562S"
SEAL_PASSWORD = "bench"
# Annual mode: gifts per donor, and rows per bulk INSERT.
GIFTS_PER_DONOR = (3, 6)
FAVOURITE = 0.75  # share of a donor's gifts to the campaign they follow
INSERT_CHUNK = 2_000


def _certificate() -> bytes:
    """A self-signed 2048-bit RSA certificate and key as PKCS#12 (password SEAL_PASSWORD)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench seal")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"bench", key, cert, None, serialization.BestAvailableEncryption(SEAL_PASSWORD.encode())
    )


def prepare(count: int) -> list[int]:
    """Migrate, then an organisation with a seal certificate, a campaign and `count` donors
    with a succeeded gift each, and their receipts issued; returns the receipt ids."""
    import io

    from flask_migrate import upgrade
    from sqlalchemy import select

    from legami import create_app
    from legami.extensions import db
    from receipts import issuing, seal
    from receipts.models import Receipt
    from tests import factories

    with create_app().app_context():
        upgrade()
        campaign = factories.campaign()
        seal.save_certificate(
            issuing.settings_for(campaign.organisation_id),
            io.BytesIO(_certificate()),
            SEAL_PASSWORD,
            None,
        )
        db.session.commit()
        for i in range(count):
            donor = factories.donor(codice_fiscale=CODICE_FISCALE)
            gift = factories.donation(donor=donor, campaign=campaign, amount_cents=2_000 + 37 * i)
            issuing.issue_for_gift(gift.id, requested=True)
            db.session.commit()
        ids = db.session.scalars(select(Receipt.id).order_by(Receipt.id)).all()
        db.engine.dispose()
    if len(ids) != count:
        sys.exit(f"expected {count} receipts, issued {len(ids)}")
    return list(ids)


def one_core(ids: list[int]) -> tuple[float, float, float]:
    """Receipts per second through Legami's path, sealed and not, and through bare
    WeasyPrint (a plain render of the same HTML)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from legami import create_app
    from legami.extensions import db
    from receipts import content, pdf
    from receipts.models import Receipt

    app = create_app()
    with app.app_context():
        receipts = [db.session.get(Receipt, i) for i in ids]
        template = app.jinja_env.get_template("receipts/receipt.html")
        pages = [template.render(**content.context(r)) for r in receipts]

        fonts = FontConfiguration()
        css = CSS(filename=STYLESHEET, font_config=fonts)

        def bare(page: str) -> bytes:
            return HTML(string=page, base_url=STATIC).write_pdf(
                stylesheets=[css], font_config=fonts
            )

        for _ in range(WARM_UP):
            pdf.sealed(receipts[0])
            pdf.render(receipts[0])
            bare(pages[0])
        if b"/ETSI.CAdES.detached" not in pdf.sealed(receipts[0]):
            raise SystemExit("the receipts were not sealed")
        # Each receipt in turn through the three paths, the order rotating: a burst of
        # other load on the machine (seconds long) lands on all three alike.
        seconds = [0.0, 0.0, 0.0]
        paths = [pdf.sealed, pdf.render, None]
        for k, (receipt, page) in enumerate(zip(receipts, pages, strict=True)):
            for which in ((k + shift) % 3 for shift in range(3)):
                started = time.perf_counter()
                if paths[which] is None:
                    bare(page)
                else:
                    paths[which](receipt)
                seconds[which] += time.perf_counter() - started
        sealed_seconds, unsealed_seconds, bare_seconds = seconds
        db.engine.dispose()
    count = len(ids)
    return count / sealed_seconds, count / unsealed_seconds, count / bare_seconds


_worker: dict = {}


def _start_worker(first_id: int) -> None:
    """A pool worker: its own app and app context, warmed up with one receipt."""
    from legami import create_app

    app = create_app()
    context = app.app_context()
    context.push()
    _worker["context"] = context
    _render(first_id)


def _render(receipt_id: int) -> int:
    from legami.extensions import db
    from receipts import pdf
    from receipts.models import Receipt

    data = pdf.sealed(db.session.get(Receipt, receipt_id))
    db.session.expunge_all()
    return len(data)


def all_cores(ids: list[int], workers: int) -> float:
    """Seconds to render the receipts in a pool of `workers` processes (after warm-up)."""
    with get_context("spawn").Pool(workers, initializer=_start_worker, initargs=(ids[0],)) as pool:
        # Wait until every worker has started and warmed up before the clock starts.
        pool.map(time.sleep, [0.5] * workers, chunksize=1)
        started = time.perf_counter()
        sizes = pool.map(_render, ids, chunksize=4)
        spent = time.perf_counter() - started
    if not all(sizes):
        raise SystemExit("a worker rendered an empty PDF")
    return spent


def _chunks(rows: list[dict]):
    for start in range(0, len(rows), INSERT_CHUNK):
        yield rows[start : start + INSERT_CHUNK]


def _gifts(rng: random.Random, year: int, donor_id: int, campaign_ids: list[int]) -> list[dict]:
    """A donor's year as payments leaves it: succeeded gifts, some partly refunded, most to
    the donor's own campaign, some to another."""
    from payments.methods import is_deductible
    from payments.models import Method, Status

    first_day = date(year, 1, 1)
    favourite = rng.choice(campaign_ids)
    rows = []
    for _ in range(rng.randint(*GIFTS_PER_DONOR)):
        amount = rng.randrange(1_000, 50_000, 50)
        method = rng.choices((Method.CARD, Method.BANK_TRANSFER, Method.CASH), (6, 3, 1))[0]
        received = first_day + timedelta(days=rng.randrange(365))
        rows.append(
            {
                "token": secrets.token_urlsafe(18),
                "campaign_id": favourite if rng.random() < FAVOURITE else rng.choice(campaign_ids),
                "donor_id": donor_id,
                "amount_cents": amount,
                "refunded_cents": amount // 2 if rng.random() < 0.05 else 0,
                "method": method,
                "status": Status.SUCCEEDED,
                "deductible": is_deductible(method),
                "received_on": received,
                "succeeded_at": datetime(
                    received.year, received.month, received.day, 10, tzinfo=UTC
                ),
            }
        )
    return rows


def prepare_annual(count: int, year: int) -> tuple[int, int]:
    """Migrate, then an organisation giving annual receipts, its campaigns (one for a pact,
    one for a lab) and `count` donors with their gifts of `year`, in bulk; returns the
    organisation's id and the number of gifts."""
    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select

    from campaigns.models import CampaignTotal
    from donors import giving_figures
    from donors.models import Donor, fold
    from legami import create_app
    from legami.extensions import db
    from payments.models import Donation
    from receipts.issuing import settings_for
    from receipts.models import Policy
    from tests import factories

    rng = random.Random(year)
    with create_app().app_context():
        upgrade()
        org = factories.organisation(art83_eligible=True)
        settings_for(org.id).policy = Policy.ANNUAL
        campaigns = [
            factories.campaign(organisation=org, pacts=[factories.pact()]),
            factories.campaign(organisation=org, labs=[factories.lab()]),
            factories.campaign(organisation=org),
        ]
        campaign_ids = [c.id for c in campaigns]
        people = [
            {
                "email": f"annual{i}@example.org",
                "first_name": "Maria",
                "last_name": f"Rossi {i}",
                "name_key": fold(f"Maria Rossi {i}"),
                "codice_fiscale": CODICE_FISCALE,
                "language": "en" if i % 20 == 0 else "it",
            }
            for i in range(count)
        ]
        for rows in _chunks(people):
            db.session.execute(insert(Donor), rows)
        gifts = [
            {**gift, "organisation_id": org.id}
            for donor_id in db.session.scalars(select(Donor.id).order_by(Donor.id))
            for gift in _gifts(rng, year, donor_id, campaign_ids)
        ]
        for rows in _chunks(gifts):
            db.session.execute(insert(Donation), rows)
        # The totals payments keeps as each gift succeeds, made here in one statement each.
        db.session.execute(
            insert(CampaignTotal).from_select(
                ("campaign_id", "slot", "raised_cents", "gift_count"),
                select(
                    Donation.campaign_id,
                    0,
                    func.sum(Donation.amount_cents - Donation.refunded_cents),
                    func.count(),
                ).group_by(Donation.campaign_id),
            )
        )
        db.session.execute(giving_figures.insert_year_totals())
        organisation_id = org.id
        db.session.commit()
        db.engine.dispose()
    return organisation_id, len(gifts)


def annual_run(year: int, organisation_id: int, workers: int) -> tuple[float, int, int]:
    """Seconds for receipts.annual.issue_annual, as `legami receipts issue-annual` runs it;
    returns (seconds, receipts issued, PDFs stored). Progress goes to stderr."""
    from legami import create_app
    from legami.extensions import db
    from receipts import annual

    shown = [0]

    def progress(done: int, total: int) -> None:
        tenth = 10 * done // total if total else 0
        if tenth > shown[0]:
            shown[0] = tenth
            print(f"  {done}/{total} (issued, then stored)", file=sys.stderr)

    with create_app().app_context():
        started = time.perf_counter()
        outcome = annual.issue_annual(year, organisation_id, workers, progress)
        spent = time.perf_counter() - started
        db.engine.dispose()
    return spent, outcome.issued, outcome.rendered


def annual_main(count: int, workers: int) -> None:
    from legami.timeutil import today_rome

    year = today_rome().year - 1
    started = time.perf_counter()
    organisation_id, gifts = prepare_annual(count, year)
    prepared = time.perf_counter() - started
    seconds, issued, stored = annual_run(year, organisation_id, workers)
    if issued != count or stored != count:
        print(f"expected {count} receipts issued and stored: {issued} issued, {stored} stored")
    print(f"{count} annual receipts of {year}, {gifts} gifts, A4, {_engine()}")
    print(f"prepared in {prepared:.1f} s (bulk inserts, not timed)")
    print(
        f"receipts.annual.issue_annual, {workers} worker processes: "
        f"{count / seconds:.1f} receipts/s ({count} in {seconds:.1f} s, issued and stored)"
    )
    print(
        f"{count:,} annual receipts on {workers} cores: {seconds:.0f} s "
        f"(target < {TARGET_SECONDS} s)"
    )


def _engine() -> str:
    return "PostgreSQL" if os.environ["DATABASE_URL"].startswith("postgresql") else "SQLite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="receipts to render (default 200)")
    parser.add_argument(
        "--annual", type=int, metavar="N", help="measure N real annual receipts instead"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="worker processes (all cores)"
    )
    args = parser.parse_args()
    count, workers = args.n, args.workers
    # No SMTP: a developer's .env must not make the run reach a mail server.
    with instance({"SMTP_URL": ""}) as (_, env):
        os.environ.update(env)
        if args.annual:
            annual_main(args.annual, workers)
            return
        ids = prepare(count)
        legami_rate, unsealed_rate, bare_rate = one_core(ids)
        parallel_seconds = all_cores(ids, workers)
    parallel_rate = count / parallel_seconds
    print(f"{count} one-gift receipts, A4, SQLite; one core, the three paths in turn")
    print(f"Legami, PDF/A-3b + seal (receipts.pdf.sealed): {legami_rate:7.1f} receipts/s")
    print(f"Legami, PDF/A-3b, no seal (receipts.pdf.render): {unsealed_rate:7.1f} receipts/s")
    print(f"bare WeasyPrint, same HTML, plain PDF:          {bare_rate:7.1f} receipts/s")
    print(
        f"receipt render vs bare WeasyPrint without the seal: {unsealed_rate / bare_rate:.2f} "
        f"(target >= {TARGET_RATIO})"
    )
    print(
        f"{workers} worker processes, own app each: {parallel_rate:7.1f} receipts/s "
        f"({count} in {parallel_seconds:.1f} s); 10,000 extrapolated from them"
    )
    print(
        f"10,000 receipts on {workers} cores: {ANNUAL / parallel_rate:.0f} s "
        f"(target < {TARGET_SECONDS} s)"
    )
    print(
        f"receipt render (PDF/A-3b, sealed) vs bare WeasyPrint: {legami_rate / bare_rate:.2f} "
        f"(target >= {TARGET_RATIO})"
    )


if __name__ == "__main__":
    main()
