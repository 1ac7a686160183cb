"""The one way Legami sends mail: SMTP when SMTP_URL is set, else `.eml` files in the outbox.

SMTP_URL: `smtp://user:pass@host:587` (STARTTLS when the server offers it;
`?starttls=required` refuses to go on without it) or `smtps://user:pass@host:465`.
"""

import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from legami.timeutil import now_utc


class MailConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls_required: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> "SmtpSettings":
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailConfigError(f"SMTP_URL must be smtp://host[:port] or smtps://…, not {url!r}")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            starttls_required=query.get("starttls", [""])[0] == "required",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def connect(settings: SmtpSettings, timeout: float = 30) -> smtplib.SMTP:
    """An open, authenticated SMTP connection; callers may send many messages on it."""
    context = ssl.create_default_context()
    if settings.implicit_tls:
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    try:
        if not settings.implicit_tls:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif settings.starttls_required:
                smtp.quit()
                raise MailConfigError("the SMTP server does not offer STARTTLS")
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        smtp.close()  # a refused login or handshake must not leak the socket
        raise
    return smtp


def prepare(message: EmailMessage) -> EmailMessage:
    """Fill the headers every message needs."""
    if "From" not in message:
        message["From"] = current_app.config["MAIL_FROM"]
    if "Date" not in message:
        message["Date"] = format_datetime(now_utc())
    if "Message-ID" not in message:
        domain = urlsplit(current_app.config["BASE_URL"]).hostname or "legami.local"
        message["Message-ID"] = make_msgid(domain=domain)
    return message


def send(message: EmailMessage) -> str:
    """Send one message now; returns its Message-ID."""
    prepare(message)
    url = current_app.config["SMTP_URL"]
    if url:
        with connect(SmtpSettings.from_url(url)) as smtp:
            smtp.send_message(message)
    else:
        write_to_outbox(message)
    return message["Message-ID"]


def outbox_path() -> Path:
    return Path(current_app.config["OUTBOX_FOLDER"])


def write_to_outbox(message: EmailMessage) -> Path:
    # policy SMTP: CRLF line ends, as a real server would receive them.
    return write_bytes_to_outbox(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))


def write_bytes_to_outbox(data: bytes) -> Path:
    folder = outbox_path()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{now_utc():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    path = folder / name
    path.write_bytes(data)
    return path
