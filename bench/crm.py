"""CRM at scale: 100,000 donors and 1,000,000 gifts, then the staff's reads timed.

    python bench/crm.py                                   # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/legami_bench python bench/crm.py
    python bench/crm.py --donors 10000 --gifts 100000 --runs 20

The database named by DATABASE_URL (or --database-url) must exist and be empty: the script
migrates it, fills it (COPY on PostgreSQL, executemany in large batches on SQLite), runs
ANALYZE, and leaves the data there; `--reuse` times a database an earlier run filled.

The generated network: a few organisations, campaigns funding pacts and labs, donors in the
towns of the province of Cremona (some spelled in capitals, as imports leave them), languages,
tags, newsletter consent with its history, monthly donors (a gift a month while their monthly
gift runs), gifts over five years (each donor gives within a span of their own, so some lapse),
a few pending, failed and refunded, and some partly refunded.

Then, through the Flask test client as a logged-in administrator, it times the donor list
(plain and with a search), donor pages of random donors, the staff home, the fundraising
dashboard, and five segments (count and first page, through `donors.segments`), each after
warm-up; beside them, as the baseline, a plain `SELECT count(*) FROM donations`. It prints
p50 and p95 per query.

Not a test: it exits 0 even when short of the target, non-zero only when a measurement fails
(a page not answering 200). The last line is the headline: the worst p95 among the pages the
issues list (donor list, donor page, segments, staff home, fundraising dashboard), target
under 150 ms on PostgreSQL.
"""

import argparse
import bisect
import math
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import instance

TARGET_MS = 150
BENCH_USER = "bench-staff@example.org"
PASSWORD = "bench password"
PER_PAGE = 50
BATCH = 50_000
YEARS = 5
_FIRST_NAMES = (
    "Maria Anna Giulia Francesca Chiara Sara Laura Elena Paola Giovanna Lucia Martina Silvia "
    "Valentina Federica Alessia Nicoletta Bénédicte Marco Luca Giuseppe Giovanni Andrea "
    "Francesco Alessandro Matteo Stefano Paolo Davide Roberto Nicolò Niccolò Lorenzo Simone "
    "Fabio Massimo Pietro Emanuele Gabriele Tommaso"
)
FIRST_NAMES = _FIRST_NAMES.split()
_LAST_NAMES = (
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti "
    "De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani "
    "Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra "
    "Coppola De_Santis D'Angelo Marchetti Parisi Villa Conte Ferraro Ferri Fabbri Bianco "
    "Marini Grasso Valentini Messina Sala De_Angelis Gatti Pellegrini Palumbo Sanna Farina "
    "Rizzi Monti Foà Cattaneo Morelli Amato Silvestri Mazza Testa Grassi Pellegrino Carbone "
    "Giuliani Benedetti Barone Rossetti Caputo Montanari Guerra Palmieri Bernardi Martino "
    "Fiore De_Rosa Ferretti Bellini Basile Riva Donati Piras Vitali Battaglia Sartori Neri "
    "Costantini Milani Pagano Ruggiero Sorrentino D'Amico Orlando Damico Negri Crotti Zanoni"
)
LAST_NAMES = _LAST_NAMES.replace("_", " ").split()
# Town, postal code, province, weight; a few spelled as careless imports leave them.
TOWNS = (
    ("Cremona", "26100", "CR", 30),
    ("CREMONA", "26100", "CR", 2),
    ("Crema", "26013", "CR", 14),
    ("Casalmaggiore", "26041", "CR", 6),
    ("Soresina", "26015", "CR", 4),
    ("Castelleone", "26012", "CR", 4),
    ("Pizzighettone", "26026", "CR", 3),
    ("Soncino", "26029", "CR", 3),
    ("Rivolta d'Adda", "26027", "CR", 3),
    ("Pandino", "26025", "CR", 3),
    ("Vescovato", "26039", "CR", 2),
    ("Sospiro", "26048", "CR", 2),
    ("Piadena Drizzona", "26034", "CR", 2),
    ("Offanengo", "26010", "CR", 2),
    ("Spino d'Adda", "26016", "CR", 2),
    ("Casalbuttano ed Uniti", "26011", "CR", 2),
    ("Milano", "20121", "MI", 6),
    ("Brescia", "25121", "BS", 3),
    ("Lodi", "26900", "LO", 2),
    ("Mantova", "46100", "MN", 2),
    ("Piacenza", "29121", "PC", 2),
    ("", "", "", 3),
)
TAGS = (
    "volontario",
    "socio",
    "grande donatore",
    "azienda",
    "parrocchia",
    "scuola",
    "evento cena",
    "mercatino",
    "stampa",
    "ex beneficiario",
    "lascito",
    "ambasciatore",
)
AMOUNTS = ((500, 10), (1000, 25), (2000, 15), (2500, 12), (3000, 6), (5000, 14), (10000, 8))
ODD_AMOUNT = 5  # weight of an amount not on the usual list


def parse_args():
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--donors", type=int, default=int(env.get("CRM_BENCH_DONORS", 100_000)))
    parser.add_argument("--gifts", type=int, default=int(env.get("CRM_BENCH_GIFTS", 1_000_000)))
    parser.add_argument("--database-url", default=env.get("DATABASE_URL", ""))
    parser.add_argument("--runs", type=int, default=int(env.get("CRM_BENCH_RUNS", 40)))
    parser.add_argument("--warm-up", type=int, default=3)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--reuse", action="store_true", help="time the data an earlier run left in the database"
    )
    return parser.parse_args()


# --- generation -----------------------------------------------------------------------------


def bulk(connection, table, columns: tuple[str, ...], rows) -> int:
    """Insert `rows` (tuples in `columns` order): COPY on PostgreSQL, executemany on SQLite,
    the values passed through the columns' own bind processing. Returns the row count."""
    raw = connection.connection.driver_connection
    count = 0
    if connection.dialect.name == "postgresql":
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    processors = [table.c[c].type.bind_processor(connection.dialect) for c in columns]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    cursor = raw.cursor()
    batch = []
    for row in rows:
        batch.append(tuple(p(v) if p else v for p, v in zip(processors, row, strict=True)))
        if len(batch) == BATCH:
            cursor.executemany(sql, batch)
            count += len(batch)
            batch = []
    cursor.executemany(sql, batch)
    return count + len(batch)


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return lambda: rng.choices(values, weights)[0]


def network(rng: random.Random) -> dict:
    """Organisations, pacts, labs and campaigns (through the factories), and a staff user."""
    from legami.extensions import db
    from tests import factories

    organisations = [
        factories.organisation(name=name)
        for name in (
            "Legami Cremona ETS",
            "Casa del Quartiere APS",
            "Coop Sociale Il Ponte",
            "ODV Crema Insieme",
        )
    ]
    pacts = [factories.pact(title=f"Patto {n + 1}") for n in range(8)]
    labs = [factories.lab(title=f"Laboratorio {n + 1}") for n in range(6)]
    today = date.today()
    campaigns = []
    for n in range(24):
        start = today - timedelta(days=rng.randrange(YEARS * 365))
        campaign = factories.campaign(
            title=f"Campagna {n + 1}",
            organisation=organisations[n % len(organisations)],
            starts_on=start,
            ends_on=start + timedelta(days=rng.randrange(30, 400)),
        )
        campaign.pacts = rng.sample(pacts, rng.choice((0, 1, 1, 2, 3)))
        campaign.labs = rng.sample(labs, rng.choice((0, 0, 1, 2)))
        campaigns.append(campaign)
    db.session.commit()
    # An administrator: the staff home shows every role's panels.
    user = factories.user(roles=("admin",), password=PASSWORD, email=BENCH_USER)
    return {
        "campaigns": [(c.id, c.organisation_id) for c in campaigns],
        "pacts": [p.id for p in pacts],
        "user": user.email,
    }


def _email_part(text: str) -> str:
    from donors.models import fold

    return "".join(c for c in fold(text) if c.isalnum())


def generate(connection, rng: random.Random, donors: int, gifts: int, campaigns) -> dict:
    """Donors, tags, consents, monthly gifts, gifts and their thank-you mails."""

    from sqlalchemy import func, insert, select

    from campaigns.models import TOTAL_SLOTS, CampaignTotal
    from donors.giving_figures import insert_year_totals
    from donors.models import ConsentEvent, Donor, DonorYearTotal, Tag, donor_tags, fold
    from payments.methods import is_deductible
    from payments.models import Donation, RecurringGift

    counts = {}
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    first_day = today - timedelta(days=YEARS * 365)
    span = (today - first_day).days
    town = weighted(rng, [(t[:3], t[3]) for t in TOWNS])

    consent = [rng.random() < 0.4 for _ in range(donors)]

    def donor_rows():
        for i in range(1, donors + 1):
            organisation = rng.random() < 0.04
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            org_name = f"{last} {rng.choice(('Srl', 'Spa', 'Snc', 'Associazione'))}"
            name = org_name if organisation else f"{first} {last}"
            place, postal, province = town()
            erased = rng.random() < 0.001
            created = now - timedelta(days=rng.randrange(span + 400), seconds=rng.randrange(86400))
            yield (
                i,
                "organisation" if organisation else "person",
                "" if organisation else first,
                "" if organisation else last,
                org_name if organisation else "",
                fold(name),
                f"{_email_part(first)}.{_email_part(last)}.{i}@example.org",
                f"+39 3{rng.randrange(10**8, 10**9)}" if rng.random() < 0.3 else "",
                f"Via Roma {rng.randrange(1, 200)}" if place else "",
                postal,
                place,
                province,
                "IT",
                "en" if rng.random() < 0.08 else "it",
                rng.choice(("campaign",) * 17 + ("import", "import", "staff")),
                "",
                "",
                consent[i - 1],
                False,
                now if erased else None,
                created,
                created,
            )

    counts["donors"] = bulk(
        connection,
        Donor.__table__,
        (
            "id",
            "kind",
            "first_name",
            "last_name",
            "organisation_name",
            "name_key",
            "email",
            "phone",
            "street",
            "postal_code",
            "town",
            "province",
            "country",
            "language",
            "source",
            "source_detail",
            "notes",
            "newsletter_consent",
            "report_back_opt_out",
            "erased_at",
            "created_at",
            "updated_at",
        ),
        donor_rows(),
    )
    counts["tags"] = bulk(
        connection, Tag.__table__, ("id", "name"), ((n + 1, t) for n, t in enumerate(TAGS))
    )

    def tag_rows():
        for i in range(1, donors + 1):
            if rng.random() < 0.3:
                for tag in rng.sample(range(1, len(TAGS) + 1), rng.choice((1, 1, 2))):
                    yield i, tag

    counts["donor_tags"] = bulk(connection, donor_tags, ("donor_id", "tag_id"), tag_rows())

    def consent_rows():
        n = 0
        for i in range(1, donors + 1):
            if consent[i - 1]:
                n += 1
                when = now - timedelta(days=rng.randrange(span))
                yield (
                    n,
                    i,
                    "newsletter",
                    "granted",
                    rng.choice(("form", "import")),
                    "",
                    "2025-01",
                    when,
                    "",
                )

    counts["consent_events"] = bulk(
        connection,
        ConsentEvent.__table__,
        (
            "id",
            "donor_id",
            "purpose",
            "action",
            "source",
            "ip",
            "notice_version",
            "occurred_at",
            "note",
        ),
        consent_rows(),
    )

    campaign_of = weighted(rng, [(c, rng.randrange(1, 10)) for c in campaigns])
    amount_of = weighted(rng, [*AMOUNTS, (None, ODD_AMOUNT)])
    method_of = weighted(
        rng, (("card", 70), ("bank_transfer", 20), ("cash", 8), ("other_untraceable", 2))
    )

    # Monthly donors: 3%; a gift a month from the start until today or the cancellation.
    monthly = []
    for n, donor in enumerate(rng.sample(range(1, donors + 1), donors * 3 // 100)):
        start = first_day + timedelta(days=rng.randrange(span))
        status = rng.choices(("active", "cancelled", "past_due"), (75, 20, 5))[0]
        end = today if status != "cancelled" else start + timedelta(days=rng.randrange(30, 900))
        monthly.append(
            (
                n + 1,
                donor,
                campaign_of(),
                rng.choice((500, 1000, 1500, 2000, 3000)),
                status,
                start,
                min(end, today),
            )
        )
    counts["recurring_gifts"] = bulk(
        connection,
        RecurringGift.__table__,
        (
            "id",
            "token",
            "donor_id",
            "campaign_id",
            "amount_cents",
            "currency",
            "status",
            "created_at",
            "cancelled_at",
        ),
        (
            (
                n,
                f"benchrg{n}",
                donor,
                cid,
                cents,
                "EUR",
                status,
                datetime.combine(start, datetime.min.time(), UTC),
                datetime.combine(end, datetime.min.time(), UTC) if status == "cancelled" else None,
            )
            for n, donor, (cid, _), cents, status, start, end in monthly
        ),
    )

    # Each donor gives within a span of their own (so some lapse), some much more than others;
    # a few donors (newsletter sign-ups) never give.
    window = []
    weights = []
    for _ in range(donors):
        start = rng.randrange(span)
        length = max(1, min(int(rng.expovariate(1 / 700)), span - start))
        window.append((start, length))
        # Gifts in proportion to the span too, so that every year gets its share.
        generosity = 0 if rng.random() < 0.02 else min(rng.paretovariate(1.2), 200)
        weights.append(generosity * length)
    cumulative = list(_accumulate(weights))

    def gift(i, donor, day, cents, method, rg=None, campaign=None):
        cid, oid = campaign or campaign_of()
        roll = rng.random()
        if (
            rg is None
            and day > today - timedelta(days=20)
            and method == "bank_transfer"
            and roll < 0.5
        ):
            status = "pending"
        elif roll < 0.01:
            status = "failed"
        elif roll < 0.02:
            status = "refunded"
        else:
            status = "succeeded"
        refunded = cents if status == "refunded" else (cents // 2 if roll > 0.995 else 0)
        made = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
            seconds=rng.randrange(36000, 72000)
        )
        done = status in ("succeeded", "refunded")
        return (
            i,
            f"bench{i}",
            cid,
            oid,
            donor,
            rg,
            cents,
            0,
            refunded,
            "EUR",
            method,
            "monthly" if rg else "one_off",
            status,
            is_deductible(method),
            False,
            "",
            False,
            day if done else None,
            made if done else None,
            made,
        )

    def gift_rows():
        i = 0
        for rg, donor, campaign, cents, _status, start, end in monthly:
            day = start
            while day <= end and i < gifts:
                i += 1
                yield gift(i, donor, day, cents, "card", rg, campaign)
                day += timedelta(days=30)
        while i < gifts:
            i += 1
            donor = _pick(cumulative, rng.random() * cumulative[-1])
            start, length = window[donor]
            day = first_day + timedelta(days=start + rng.randrange(length))
            cents = amount_of() or rng.randrange(100, 50000)
            yield gift(i, donor + 1, day, cents, method_of())

    counts["donations"] = bulk(
        connection,
        Donation.__table__,
        (
            "id",
            "token",
            "campaign_id",
            "organisation_id",
            "donor_id",
            "recurring_gift_id",
            "amount_cents",
            "fee_cents",
            "refunded_cents",
            "currency",
            "method",
            "frequency",
            "status",
            "deductible",
            "show_name",
            "dedication",
            "newsletter_opt_in",
            "received_on",
            "succeeded_at",
            "created_at",
        ),
        gift_rows(),
    )
    # Each donor's gifts per year, as payments keeps them gift by gift.
    connection.execute(insert_year_totals())
    counts["donor_year_totals"] = connection.scalar(
        select(func.count()).select_from(DonorYearTotal)
    )
    # Each campaign's raised figure and gift count, as payments keeps them in its slots.
    slot = Donation.id % TOTAL_SLOTS
    per_slot = (
        select(
            Donation.campaign_id,
            slot,
            func.sum(Donation.amount_cents - Donation.refunded_cents),
            func.count().filter(Donation.status == "succeeded"),
        )
        .where(Donation.status.in_(("succeeded", "refunded")))
        .group_by(Donation.campaign_id, slot)
    )
    connection.execute(
        insert(CampaignTotal).from_select(
            ("campaign_id", "slot", "raised_cents", "gift_count"), per_slot
        )
    )
    counts["campaign_totals"] = connection.scalar(select(func.count()).select_from(CampaignTotal))
    # Every gift that succeeded was thanked by mail (the donor page's timeline shows them).
    counts["mail_jobs"] = connection.exec_driver_sql(
        "INSERT INTO mail_jobs (kind, donation_id, created_at, not_before, sent_at, attempts,"
        " last_error) SELECT 'thank_you', id, succeeded_at, succeeded_at, succeeded_at, 0, ''"
        " FROM donations WHERE succeeded_at IS NOT NULL"
    ).rowcount
    if connection.dialect.name == "postgresql":
        for table in ("donors", "tags", "consent_events", "recurring_gifts", "donations"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    return counts


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def _pick(cumulative: list[float], point: float) -> int:
    return min(bisect.bisect_right(cumulative, point), len(cumulative) - 1)


def fill(app, args, rng: random.Random) -> dict:
    """Migrate and fill the database (or, with --reuse, find what an earlier run left)."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from donors.models import Donor
    from legami.extensions import db
    from legami.models import User
    from payments.models import Donation

    with app.app_context():
        upgrade()
        present = db.session.scalar(select(func.count()).select_from(Donor))
        if present and not args.reuse:
            sys.exit("The database already holds donors: give an empty one, or --reuse.")
        started = time.perf_counter()
        made = {}
        if not present:
            net = network(rng)
            # End the session's transaction: an open snapshot would keep VACUUM from marking
            # the new rows visible to all, and index-only scans would visit the table.
            db.session.remove()
            with db.engine.begin() as connection:
                made = generate(connection, rng, args.donors, args.gifts, net["campaigns"])
            analyze(db.engine)
        user = db.session.scalar(select(User).where(User.email == BENCH_USER))
        found = {
            "donors": db.session.scalar(select(func.count()).select_from(Donor)),
            "gifts": db.session.scalar(select(func.count()).select_from(Donation)),
            "seconds": time.perf_counter() - started,
            "generated": made,
            "user": user.email,
            "max_donor": db.session.scalar(select(func.max(Donor.id))),
        }
        db.session.remove()
        db.engine.dispose()
    return found


def analyze(engine) -> None:
    """Planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) keep them
    in a running install; on PostgreSQL also the visibility map that index-only scans use."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


# --- timing ---------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed(fn, runs: int, warm_up: int) -> list[float]:
    """Milliseconds of `runs` calls after `warm_up` untimed ones."""
    for _ in range(warm_up):
        fn()
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


class Failed(Exception):
    pass


def page_getter(client, url_of):
    """A call that GETs the URL `url_of()` gives and checks the answer is 200."""

    def get():
        url = url_of()
        response = client.get(url)
        if response.status_code != 200:
            raise Failed(f"{url}: {response.status_code}")
        response.get_data()

    return get


def segment_definitions(app) -> list[tuple[str, dict]]:
    from sqlalchemy import func, select

    from campaigns.models import campaign_pacts
    from legami.extensions import db
    from legami.timeutil import today_rome

    with app.app_context():
        pact = db.session.scalar(
            select(campaign_pacts.c.pact_id)
            .group_by(campaign_pacts.c.pact_id)
            .order_by(func.count().desc(), campaign_pacts.c.pact_id)
            .limit(1)
        )
    year = today_rome().year
    return [
        (f"segment: LYBUNT {year}", {"lybunt": year}),
        (f"segment: gave to pact {pact}", {"pacts": [pact]}),
        ("segment: monthly donors", {"monthly": True}),
        (
            f"segment: total {year - 2}-{year - 1} >= 100 EUR",
            {"total": {"min_cents": 10_000, "year_from": year - 2, "year_to": year - 1}},
        ),
        ("segment: consent + town Crema", {"newsletter_consent": True, "towns": ["Crema"]}),
    ]


def measure(app, found: dict, args, rng: random.Random) -> tuple[list, list[str]]:
    """[(name, timings in ms, in the target?, note)] and what could not be timed."""
    from flask import url_for
    from sqlalchemy import select, text

    from donors.models import Donor
    from legami.extensions import db

    results, missing = [], []

    def in_context(fn):
        def call():
            with app.app_context():
                try:
                    return fn()
                finally:
                    db.session.remove()

        return call

    results.append(
        (
            "baseline: SELECT count(*) FROM donations",
            timed(
                in_context(lambda: db.session.execute(text("SELECT count(*) FROM donations"))),
                args.runs,
                args.warm_up,
            ),
            False,
            "",
        )
    )

    client = app.test_client()
    response = client.post("/staff/login", data={"email": found["user"], "password": PASSWORD})
    if response.status_code != 302:
        raise Failed(f"staff login: {response.status_code}")

    with app.app_context():
        emails = db.session.scalars(
            select(Donor.email).where(
                Donor.id.in_(rng.sample(range(1, found["max_donor"] + 1), 100))
            )
        ).all()
        db.session.remove()

    def url(endpoint, **values):
        with app.test_request_context():
            return url_for(endpoint, **values)

    pages = [
        ("donor list", "donors_staff.donors", lambda: url("donors_staff.donors"), True),
        (
            'donor list, search "rossi"',
            "donors_staff.donors",
            lambda: url("donors_staff.donors", q="rossi"),
            True,
        ),
        (
            "donor list, search by a donor's e-mail",
            "donors_staff.donors",
            lambda: url("donors_staff.donors", q=rng.choice(emails)),
            True,
        ),
        (
            "donor page (random donors)",
            "donors_staff.donor",
            lambda: url("donors_staff.donor", donor_id=rng.randint(1, found["max_donor"])),
            True,
        ),
        ("staff home (every panel)", "staff.dashboard", lambda: url("staff.dashboard"), True),
        (
            "fundraising dashboard (5 years)",
            "donor_dashboard.dashboard",
            lambda: url("donor_dashboard.dashboard"),
            True,
        ),
        (
            "fundraising dashboard, computed afresh",
            "donor_dashboard.dashboard",
            lambda: url("donor_dashboard.dashboard", fresh=1),
            False,
        ),
    ]
    for name, endpoint, url_of, in_target in pages:
        if endpoint not in app.view_functions:
            missing.append(f"{name} ({endpoint} is not in the app)")
            continue
        results.append(
            (name, timed(page_getter(client, url_of), args.runs, args.warm_up), in_target, "")
        )

    try:
        from donors import segments
    except ImportError:
        missing.append("segments (donors.segments is not in the app)")
        return results, missing
    for name, definition in segment_definitions(app):
        with app.app_context():
            size = segments.count(definition)
            db.session.remove()
        results.append(
            (
                f"{name}: live count",
                timed(in_context(lambda d=definition: segments.count(d)), args.runs, args.warm_up),
                True,
                f"{size:,} donors",
            )
        )
        results.append(
            (
                f"{name}: first page + total",
                timed(
                    in_context(lambda d=definition: segments.page(d, 1, PER_PAGE).items),
                    args.runs,
                    args.warm_up,
                ),
                True,
                "",
            )
        )
    return results, missing


def engine_label(app) -> str:
    from legami.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                version = connection.exec_driver_sql("SHOW server_version").scalar()
            label = f"PostgreSQL {version.split()[0]}"
        else:
            import sqlite3

            label = f"SQLite {sqlite3.sqlite_version}"
        db.engine.dispose()
    return label


def size_label(donors: int, gifts: int) -> str:
    def short(n: int) -> str:
        for unit, size in (("M", 1_000_000), ("k", 1_000)):
            if n >= size:
                return f"{n / size:g}{unit}"
        return str(n)

    return f"{short(donors)} donors / {short(gifts)} gifts"


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    extra = {"SMTP_URL": ""}
    if args.database_url:
        extra["DATABASE_URL"] = args.database_url
    with instance(extra) as (folder, env):
        os.environ.update(env)
        from legami import create_app

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
            },
            folder,
        )
        engine = engine_label(app)
        found = fill(app, args, rng)
        try:
            results, missing = measure(app, found, args, rng)
        except Failed as failure:
            sys.exit(f"measurement failed: {failure}")
        with app.app_context():
            from legami.extensions import db

            db.engine.dispose()
    sizes = size_label(found["donors"], found["gifts"])
    made = f"generated in {found['seconds']:.0f} s" if found["generated"] else "reused"
    print(f"{engine}; {found['donors']:,} donors, {found['gifts']:,} gifts ({made})")
    if found["generated"]:
        print("rows: " + ", ".join(f"{n:,} {table}" for table, n in found["generated"].items()))
    print(
        f"{args.runs} runs per query after {args.warm_up} warm-up; pages through the Flask test "
        "client as a logged-in administrator; segments as count + first page of "
        f"{PER_PAGE} through donors.segments"
    )
    baseline = results[0][1]
    base_p50, base_p95 = statistics.median(baseline), percentile(baseline, 0.95)
    print(f"{'query':52s} {'p50 ms':>8s} {'p95 ms':>8s}   baseline p50 / p95 ms")
    for name, spent, in_target, note in results:
        p50, p95 = statistics.median(spent), percentile(spent, 0.95)
        flag = "" if in_target or name.startswith("baseline") else "  (not in the target)"
        print(
            f"{name:52s} {p50:8.1f} {p95:8.1f}   {base_p50:.1f} / {base_p95:.1f}"
            f"{'  ' + note if note else ''}{flag}"
        )
    for what in missing:
        print(f"not timed: {what}")
    targeted = [percentile(spent, 0.95) for _, spent, in_target, _ in results if in_target]
    worst = max(targeted) if targeted else float("nan")
    name = engine.split()[0].lower()
    print(f"worst p95 (ms) on {name} at {sizes}: {worst:.0f} (target < {TARGET_MS})")


if __name__ == "__main__":
    main()
