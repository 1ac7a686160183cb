"""Configuration from environment variables, with an optional `.env` file."""

import os
import secrets
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent


def load_config(instance_path: Path, overrides: dict | None = None) -> dict:
    """Build the Flask config; `overrides` (tests) win over the environment."""
    load_dotenv(ROOT / ".env")
    env = os.environ
    instance_path.mkdir(parents=True, exist_ok=True)
    config = {
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'legami.sqlite'}",
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "SMTP_URL": env.get("SMTP_URL", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "Legami <noreply@legami.local>"),
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        "UPLOAD_FOLDER": str(instance_path / "uploads"),
        "OUTBOX_FOLDER": str(instance_path / "outbox"),
        "MAX_IMAGE_BYTES": int(env.get("MAX_IMAGE_BYTES", 5 * 1024 * 1024)),
        # Larger than the image limit so an oversize upload reaches the form's own message.
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("BASE_URL", "").startswith("https://"),
        "REMEMBER_COOKIE_SECURE": env.get("BASE_URL", "").startswith("https://"),
        "BABEL_DEFAULT_LOCALE": "it",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Rome",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "legami" / "translations"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "PAGE_CACHE_SECONDS": float(env.get("PAGE_CACHE_SECONDS", "2")),
        # How long a worker keeps the fundraising dashboard's figures (donors.dashboard_cache).
        "DASHBOARD_CACHE_SECONDS": float(env.get("DASHBOARD_CACHE_SECONDS", "60")),
        "API_PAGE_SIZE": 20,
        # The privacy notice (art. 13 GDPR) shown where consent is asked, stored with it.
        "PRIVACY_NOTICE_VERSION": env.get("PRIVACY_NOTICE_VERSION", "2025-01"),
        "NEWSLETTER_CONFIRM_MAX_AGE": int(env.get("NEWSLETTER_CONFIRM_MAX_AGE", 7 * 24 * 3600)),
        "PORTAL_LINK_MAX_AGE": int(env.get("PORTAL_LINK_MAX_AGE", 30 * 60)),
        "PORTAL_SESSION_MAX_AGE": int(env.get("PORTAL_SESSION_MAX_AGE", 60 * 60)),
        # Donors with no gift, interaction or consent event for this many years are listed
        # for review (erasure); gift records themselves are kept ten years by law.
        "DONOR_RETENTION_YEARS": int(env.get("DONOR_RETENTION_YEARS", "10")),
        # A newsletter this late when a scheduler gets to it waits for staff instead.
        "NEWSLETTER_GRACE_SECONDS": int(env.get("NEWSLETTER_GRACE_SECONDS", "3600")),
        # How soon the scheduler process sees a newsletter staff (re)scheduled.
        "NEWSLETTER_SYNC_SECONDS": int(env.get("NEWSLETTER_SYNC_SECONDS", "10")),
        # Newsletters: the List-Unsubscribe mailto address (default `unsubscribe@` BASE_URL's
        # host) and the envelope sender for VERP bounces (`bounces+<delivery>@…`; unset: From).
        "NEWSLETTER_UNSUBSCRIBE_MAILTO": env.get("NEWSLETTER_UNSUBSCRIBE_MAILTO", ""),
        "NEWSLETTER_BOUNCE_ADDRESS": env.get("NEWSLETTER_BOUNCE_ADDRESS", ""),
        # Newsletter sending (mailing.sending): parallel SMTP connections, messages per minute
        # (0: no limit), how long a silent sender keeps its claim, tries per recipient on 4xx
        # answers (the first retry after NEWSLETTER_RETRY_SECONDS, then doubling), and the
        # messages recorded per commit (connections x batch bounds the duplicates of a crash).
        "NEWSLETTER_SMTP_CONNECTIONS": int(env.get("NEWSLETTER_SMTP_CONNECTIONS", "4")),
        "NEWSLETTER_RATE_PER_MINUTE": int(env.get("NEWSLETTER_RATE_PER_MINUTE", "0")),
        "NEWSLETTER_LEASE_SECONDS": int(env.get("NEWSLETTER_LEASE_SECONDS", "120")),
        # How long a job worker holds a job without reporting progress before another worker
        # may take it over (legami.jobs).
        "JOB_LEASE_SECONDS": int(env.get("JOB_LEASE_SECONDS", "60")),
        # Where files are stored (legami.storage): a folder; empty: the instance folder.
        "STORAGE_URL": env.get("STORAGE_URL", ""),
        "NEWSLETTER_MAX_ATTEMPTS": int(env.get("NEWSLETTER_MAX_ATTEMPTS", "6")),
        "NEWSLETTER_RETRY_SECONDS": float(env.get("NEWSLETTER_RETRY_SECONDS", "30")),
        "NEWSLETTER_BATCH": int(env.get("NEWSLETTER_BATCH", "20")),
    }
    config.update(overrides or {})
    return config


def _instance_secret(instance_path: Path) -> str:
    """A random key kept in the instance folder, so a demo install needs no setup."""
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
