"""Receipt rendering: N receipts through Legami's path (receipts.pdf.render: snapshot ->
template -> WeasyPrint with the shared fonts and stylesheet) beside the same HTML rendered by
bare WeasyPrint in a loop, on one core; then the time for 10,000 annual receipts on all
cores, extrapolated from the N receipts rendered in a pool of os.cpu_count() worker
processes, each with its own app.

    python bench/receipts.py            # 200 receipts, SQLite in a temporary folder
    python bench/receipts.py --n 500

Not a test: it prints figures and exits 0 even when short of the targets. The last line is
the headline.

The bare baseline gets the HTML Legami produced (rendered beforehand, outside the timing) and
its own fresh default setup: one FontConfiguration and one CSS parsed from
templates/receipts/receipt.css, the default URL fetcher, no Legami code. So the ratio charges
Legami with what it adds per receipt: reading the snapshot, formatting, the QR code, the
template, the local-only URL fetcher and the lock. The two take turns in rounds, so a burst
of other load on the machine lands on both.

The annual issuing (`legami receipts issue-annual`) is not in the tree yet: the 10,000-receipt
figure uses one-gift receipts, the same page as a donor's annual receipt with one gift.
"""

import argparse
import os
import sys
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, instance

STATIC = str(ROOT / "static")
STYLESHEET = str(ROOT / "templates" / "receipts" / "receipt.css")
ROUNDS = 4
WARM_UP = 3
ANNUAL = 10_000
TARGET_RATIO = 0.8
TARGET_SECONDS = 600
# A valid personal codice fiscale, so the receipts print one as most would.
CODICE_FISCALE = "RSSMRA85T10A562S"


def prepare(count: int) -> list[int]:
    """Migrate, then an organisation, a campaign and `count` donors with a succeeded gift
    each, and their receipts issued; returns the receipt ids."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from legami import create_app
    from legami.extensions import db
    from receipts import issuing
    from receipts.models import Receipt
    from tests import factories

    with create_app().app_context():
        upgrade()
        campaign = factories.campaign()
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


def one_core(ids: list[int]) -> tuple[float, float]:
    """Receipts per second through Legami's path and through bare WeasyPrint."""
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
            pdf.render(receipts[0])
            bare(pages[0])
        legami_seconds = bare_seconds = 0.0
        for k in range(ROUNDS):
            started = time.perf_counter()
            for receipt in receipts[k::ROUNDS]:
                pdf.render(receipt)
            legami_seconds += time.perf_counter() - started
            started = time.perf_counter()
            for page in pages[k::ROUNDS]:
                bare(page)
            bare_seconds += time.perf_counter() - started
        db.engine.dispose()
    return len(ids) / legami_seconds, len(ids) / bare_seconds


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

    data = pdf.render(db.session.get(Receipt, receipt_id))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="receipts to render (default 200)")
    count = parser.parse_args().n
    workers = os.cpu_count() or 1
    # No SMTP: a developer's .env must not make the run reach a mail server.
    with instance({"SMTP_URL": ""}) as (_, env):
        os.environ.update(env)
        ids = prepare(count)
        legami_rate, bare_rate = one_core(ids)
        parallel_seconds = all_cores(ids, workers)
    parallel_rate = count / parallel_seconds
    print(f"{count} one-gift receipts, A4, SQLite; one core, {ROUNDS} alternating rounds")
    print(f"Legami path (receipts.pdf.render): {legami_rate:7.1f} receipts/s")
    print(f"bare WeasyPrint, same HTML:        {bare_rate:7.1f} receipts/s")
    print(
        f"{workers} worker processes, own app each: {parallel_rate:7.1f} receipts/s "
        f"({count} in {parallel_seconds:.1f} s); 10,000 extrapolated from them"
    )
    print(
        f"10,000 receipts on {workers} cores: {ANNUAL / parallel_rate:.0f} s "
        f"(target < {TARGET_SECONDS} s)"
    )
    print(
        f"receipt render vs bare WeasyPrint: {legami_rate / bare_rate:.2f} "
        f"(target >= {TARGET_RATIO})"
    )


if __name__ == "__main__":
    main()
