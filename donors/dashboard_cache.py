"""Giving figures (the fundraising dashboard's, the staff home's), computed at most once per
DASHBOARD_CACHE_SECONDS (60 by default) per worker process and choice of years and
organisation.

The dashboard's per-year donor figures (new, retained, lapsed) read every donor's years and
its charts every gift of the period: about a second at 100,000 donors and a million gifts;
the home's comparisons with last year read a year of totals. Staff open these pages far more
often than the figures move by much, so a worker keeps what it computed; the dashboard says
as of when, and `fresh=True` (its "refresh" link) computes them anew. As with the public
pages' micro-cache (legami.page_cache), nothing personal is kept: only totals. The home's
to-dos are never kept: they are read on each visit.
"""

from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from time import monotonic

from flask import current_app

from donors import dashboard
from legami.timeutil import now_utc

MAX_ENTRIES = 64


def kept(key: tuple, compute: Callable, fresh: bool = False) -> tuple:
    """(compute(), when it was computed), from this worker's store while younger than
    DASHBOARD_CACHE_SECONDS unless `fresh`."""
    ttl = current_app.config["DASHBOARD_CACHE_SECONDS"]
    store = current_app.extensions.setdefault("legami.dashboard_cache", OrderedDict())
    hit = store.get(key)
    if hit is not None and not fresh and hit[0] > monotonic():
        return hit[1], hit[2]
    computed = compute(), now_utc()
    if ttl:
        store[key] = (monotonic() + ttl, *computed)
        store.move_to_end(key)
        while len(store) > MAX_ENTRIES:
            store.popitem(last=False)
    return computed


def figures(
    year_from: int, year_to: int, organisation_id: int | None, today: date, fresh: bool = False
) -> tuple[dashboard.Dashboard, datetime]:
    """The dashboard's figures and when they were computed."""
    return kept(
        ("dashboard", year_from, year_to, organisation_id, today),
        lambda: dashboard.dashboard(year_from, year_to, organisation_id, today),
        fresh,
    )
