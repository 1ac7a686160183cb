"""The fundraising dashboard's figures, computed at most once per DASHBOARD_CACHE_SECONDS
(60 by default) per worker process and choice of years and organisation.

Its per-year donor figures (new, retained, lapsed) read every donor's years and its charts
every gift of the period: about a second at 100,000 donors and a million gifts. Staff open
the page far more often than the figures move by much, so a worker keeps what it computed;
the page says as of when, and `fresh=True` (the page's "refresh" link) computes them anew.
As with the public pages' micro-cache (legami.page_cache), nothing personal is kept: only
totals.
"""

from collections import OrderedDict
from datetime import date, datetime
from time import monotonic

from flask import current_app

from donors import dashboard
from legami.timeutil import now_utc

MAX_ENTRIES = 64


def figures(
    year_from: int, year_to: int, organisation_id: int | None, today: date, fresh: bool = False
) -> tuple[dashboard.Dashboard, datetime]:
    """The dashboard's figures and when they were computed."""
    ttl = current_app.config["DASHBOARD_CACHE_SECONDS"]
    kept = current_app.extensions.setdefault("legami.dashboard_cache", OrderedDict())
    key = (year_from, year_to, organisation_id, today)
    hit = kept.get(key)
    if hit is not None and not fresh and hit[0] > monotonic():
        return hit[1], hit[2]
    computed = dashboard.dashboard(year_from, year_to, organisation_id, today), now_utc()
    if ttl:
        kept[key] = (monotonic() + ttl, *computed)
        kept.move_to_end(key)
        while len(kept) > MAX_ENTRIES:
            kept.popitem(last=False)
    return computed
