"""Micro-cache of public pages for anonymous visitors, per worker process.

A campaign shared on social media brings many visitors at once; each page is rendered once
per `PAGE_CACHE_SECONDS` (2 s by default) and language, then served from memory. Only plain
GETs without query string, from visitors whose session holds at most their language (no
login, no flashed message), are cached, and only 200 responses that set no cookie; so the
cached HTML carries nothing personal. Figures on the page are at most that many seconds old.
"""

from collections import OrderedDict
from functools import wraps
from time import monotonic

from flask import Response, current_app, request, session

from legami.i18n import select_locale

MAX_PAGES = 512


def cached_page(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        ttl = current_app.config["PAGE_CACHE_SECONDS"]
        if not ttl or request.args or not set(session.keys()) <= {"lang"}:
            return view(*args, **kwargs)
        pages = current_app.extensions.setdefault("legami.page_cache", OrderedDict())
        key = (request.path, select_locale())
        hit = pages.get(key)
        if hit is not None and hit[0] > monotonic():
            return Response(hit[1], mimetype="text/html")
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and "Set-Cookie" not in response.headers:
            pages[key] = (monotonic() + ttl, response.get_data())
            pages.move_to_end(key)
            while len(pages) > MAX_PAGES:
                pages.popitem(last=False)
        return response

    return wrapper
