"""Page throughput: the home page and a campaign page with the demo data, served by gunicorn
(2 sync workers) beside a bare Flask route on the same server, each loaded with the same fixed
number of requests from loopback.

    python bench/pages.py
    PAGE_CACHE_SECONDS=0 python bench/pages.py    # every page rendered, no micro-cache

Not a test and not run in CI: it prints figures and exits 0 even when short of the target; it
exits non-zero only when the measurement itself fails (a non-200 answer, a stuck server).
The last line is the headline.

The baseline is `/bench/bare` (bench/app.py) registered on the real Legami app, so it passes
through the same WSGI server, request hooks (rate limiter, session, security headers) and
after-request work as the pages. A bare route in a separate plain Flask app would also charge
Legami's global hooks to the pages; sharing them keeps the ratio to what the pages themselves
cost: queries, templates, formatting. Public pages are served as in production, so the
anonymous-visitor micro-cache (PAGE_CACHE_SECONDS, 2 s by default) is on unless disabled.
"""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import get, gunicorn, instance, load

PAGES = {
    "bare route": "/bench/bare",
    "home page": "/",
    "campaign page": "/campagne/casa-e-orto-cambonino",
}
WORKERS = 2
WARM_UP = 100
REQUESTS = 2_000  # per page, in ROUNDS equal slices
# Rounds take turns between the pages, so a burst of other load on the machine lands on all
# of them rather than skewing whichever page happened to run at that moment.
ROUNDS = 4
CLIENTS = 8
# A round that is not done by then means the server is stuck; fail rather than hang.
ROUND_SECONDS = 120
TARGET = 0.5


def prepare(env: dict) -> None:
    """`legami demo` into the temporary instance: migrations, then the demo network."""
    legami = Path(sys.executable).with_name("legami")
    done = subprocess.run([str(legami), "demo"], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"legami demo failed:\n{done.stdout}{done.stderr}")


def measure(url: str) -> dict[str, float]:
    """Requests per second for each page, over all its rounds."""
    for path in PAGES.values():
        # Warm-up: imports, template compilation and the connection pool in both workers.
        load(get(url + path, WARM_UP), CLIENTS, ROUND_SECONDS)
    seconds = dict.fromkeys(PAGES, 0.0)
    per_round = REQUESTS // ROUNDS
    for _ in range(ROUNDS):
        for name, path in PAGES.items():
            rate, statuses = load(get(url + path, per_round), CLIENTS, ROUND_SECONDS)
            wrong = {s: statuses.count(s) for s in set(statuses) if s != 200}
            if wrong:
                raise SystemExit(f"{path}: non-200 answers {wrong}")
            seconds[name] += per_round / rate
    return {name: per_round * ROUNDS / spent for name, spent in seconds.items()}


def main() -> None:
    # No SMTP: a developer's .env must not make the demo or the pages reach a mail server.
    with instance({"SMTP_URL": ""}) as (_, env):
        prepare(env)
        with gunicorn(env, workers=WORKERS) as url:
            rates = measure(url)
    print(
        f"gunicorn {WORKERS} sync workers; {REQUESTS} requests per page in {ROUNDS} rounds "
        f"after {WARM_UP} warm-up, {CLIENTS} client threads on 127.0.0.1"
    )
    for name, rate in rates.items():
        print(f"{name:14s} {rate:8.1f} requests/s")
    bare = rates["bare route"]
    print(f"home page vs bare route: {rates['home page'] / bare:.2f}")
    print(f"campaign page vs bare route: {rates['campaign page'] / bare:.2f} (target >= {TARGET})")


if __name__ == "__main__":
    main()
