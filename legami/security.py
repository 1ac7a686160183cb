"""Security headers on every response; the CSP admits Stripe.js and nothing else remote.

Pages full of personal data are never stored by a browser or a proxy (`Cache-Control:
no-store`): the back office (with the GDPR export), the donor portal, the pages a donor
reaches by a signed link (their gift, their unsubscription), and every API answer to a
bearer token.

Rate limits kept in process memory (`memory://`) are per process: with several workers they
multiply. Started with more than one (gunicorn's workers, or WEB_CONCURRENCY), Legami says so
loudly in its log unless the limits are shared (RATELIMIT_STORAGE_URI=redis://…).
"""

import logging
import os
import sys

from flask import g, request

log = logging.getLogger("legami")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' https://js.stripe.com",
        "frame-src https://js.stripe.com https://hooks.stripe.com",
        "connect-src 'self' https://api.stripe.com",
        "img-src 'self' data:",
        "style-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


PRIVATE_SECTIONS = ("/staff", "/portal", "/dona", "/disiscrizione")


def is_private() -> bool:
    section = "/" + request.path.split("/", 2)[1]
    return section in PRIVATE_SECTIONS or "api_user" in g


def worker_count() -> int:
    """How many web processes serve this app: gunicorn's workers, else WEB_CONCURRENCY, else 1."""
    if "gunicorn.arbiter" in sys.modules:
        from gunicorn.app.wsgiapp import WSGIApplication

        try:
            # The same options gunicorn read: its command line, config file and environment.
            return WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg.workers
        except (Exception, SystemExit):
            log.debug("gunicorn's configuration could not be read", exc_info=True)
    value = os.environ.get("WEB_CONCURRENCY", "")
    return int(value) if value.isascii() and value.isdigit() else 1


def warn_unshared_limits(app) -> None:
    if not app.config.get("RATELIMIT_ENABLED", True):
        return
    storage = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    workers = worker_count()
    if storage.startswith("memory://") and workers > 1:
        log.warning(
            "\n%s\nRATE LIMITS ARE NOT SHARED: %d worker processes each keep their own counts "
            "(RATELIMIT_STORAGE_URI=%s), so login, portal-link and gift-form limits are %d times "
            "looser. Set RATELIMIT_STORAGE_URI=redis://host:6379 (see the README's production "
            "guide).\n%s",
            "!" * 78,
            workers,
            storage,
            workers,
            "!" * 78,
        )


def init_app(app) -> None:
    warn_unshared_limits(app)

    @app.after_request
    def headers(response):
        if is_private():
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
