"""Page throughput: the home page and a campaign page with the demo data, served by gunicorn
(2 workers) beside a bare Flask route on the same server, each loaded with the same fixed
number of requests from loopback.

    python bench/pages.py

Not a test: it prints figures; the last line is the headline.
"""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import get, gunicorn, instance, load

REQUESTS = 3_000
WARM_UP = 200
CAMPAIGN = "/campagne/casa-e-orto-cambonino"
TARGET = 0.5


def main() -> None:
    with instance({"SMTP_URL": ""}) as (_, env):
        legami = Path(sys.executable).with_name("legami")
        subprocess.run([str(legami), "demo"], env=env, check=True, capture_output=True)
        with gunicorn(env, workers=2) as url:
            rates = {}
            for name, path in (
                ("bare route", "/bench/bare"),
                ("home page", "/"),
                ("campaign page", CAMPAIGN),
            ):
                load(get(url + path, WARM_UP))
                rate, statuses = load(get(url + path, REQUESTS))
                assert set(statuses) == {200}, (path, set(statuses))
                rates[name] = rate
                print(f"{name:14s} {rate:8.1f} requests/s")
    print(f"home page vs bare route: {rates['home page'] / rates['bare route']:.2f}")
    ratio = rates["campaign page"] / rates["bare route"]
    print(f"campaign page vs bare route: {ratio:.2f} (target >= {TARGET})")


if __name__ == "__main__":
    main()
