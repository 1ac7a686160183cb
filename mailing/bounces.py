"""Reading the bounce mailbox: delivery status notifications (RFC 3464) and mails to the
List-Unsubscribe `mailto:` address.

A DSN whose recipient failed with a permanent status (5.x.x) marks the newsletter's delivery
`bounced` and suppresses the address; temporary ones (4.x.x, the server still retries) are
read and left alone. The delivery is found by the VERP envelope address the DSN came back to
(`bounces+{delivery}@…` in Delivered-To, X-Original-To or To) or by the original Message-ID
quoted in the returned headers (signed, see mailing.compose). A mail to the unsubscribe
address carries the signed token in its subject and withdraws consent as the link would.

Each message is committed on its own, then marked read (Maildir flag S, IMAP \\Seen): a
re-run skips it, and one interrupted between the two changes nothing the second time.
"""

import imaplib
import mailbox
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses
from urllib.parse import unquote, urlsplit

from sqlalchemy import update

from donors import consent
from legami.extensions import db
from legami.timeutil import now_utc
from mailing import compose
from mailing.models import Delivery, DeliveryStatus
from mailing.sending import suppress_hard_bounces


class Result:
    BOUNCED = "bounced"  # a hard bounce recorded now
    SOFT = "soft"  # a temporary failure: nothing to do
    UNSUBSCRIBED = "unsubscribed"
    KNOWN = "known"  # about a delivery already marked, or an unsubscribe already done
    OTHER = "other"  # not ours, or not a DSN


@dataclass
class Failure:
    recipient: str
    action: str  # failed, or delayed (the server keeps trying)
    status: str
    diagnostic: str

    @property
    def permanent(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")


_SUBJECT_TOKEN = re.compile(r"^\s*unsubscribe\s+(\S+)\s*$", re.IGNORECASE)


def process(raw: bytes) -> str:
    """Act on one message of the mailbox; returns a Result. Commits."""
    msg = message_from_bytes(raw, policy=policy.default)
    token = _SUBJECT_TOKEN.match(str(msg.get("Subject", "")))
    if token and not _is_report(msg):
        return _unsubscribe(token.group(1))
    failures = _failures(msg)
    if not failures:
        return Result.OTHER
    permanent = [f for f in failures if f.permanent]
    if not permanent:
        return Result.SOFT
    delivery = _delivery(msg)
    if delivery is None:
        return Result.OTHER
    failure = next(
        (f for f in permanent if f.recipient.casefold() == delivery.email.casefold()), None
    )
    if failure is None:  # the report is about someone else: not this delivery's bounce
        return Result.OTHER
    now = now_utc()
    marked = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status == DeliveryStatus.SENT)
        .values(
            status=DeliveryStatus.BOUNCED,
            bounced_at=now,
            last_error=f"{failure.status} {failure.diagnostic}".strip()[:1000],
        )
    ).rowcount
    suppress_hard_bounces(db.session.connection(), [delivery.email], now)
    db.session.commit()
    return Result.BOUNCED if marked else Result.KNOWN


def _is_report(msg: Message) -> bool:
    return msg.get_content_type() == "multipart/report"


def _failures(msg: Message) -> list[Failure]:
    """The recipients a DSN reports as failed or delayed, with their status codes."""
    if not _is_report(msg):
        return []
    failures = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # The first field group is about the message, the others each about a recipient.
        for group in part.get_payload()[1:]:
            action = str(group.get("Action", "")).strip().lower()
            if action not in ("failed", "delayed"):
                continue
            recipient = str(group.get("Final-Recipient") or group.get("Original-Recipient") or "")
            failures.append(
                Failure(
                    recipient=recipient.partition(";")[2].strip(),
                    action=action,
                    status=str(group.get("Status", "")).strip(),
                    diagnostic=" ".join(str(group.get("Diagnostic-Code", "")).split()),
                )
            )
    return failures


def _delivery(msg: Message) -> Delivery | None:
    for name in ("Delivered-To", "X-Original-To", "To"):
        for _, address in getaddresses(msg.get_all(name, [])):
            delivery_id = compose.delivery_from_verp(address)
            if delivery_id is not None:
                return db.session.get(Delivery, delivery_id)
    for part in msg.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            returned = part.get_payload(0) if part.is_multipart() else _headers(part)
            delivery_id = compose.delivery_from_message_id(str(returned.get("Message-ID", "")))
            if delivery_id is not None:
                return db.session.get(Delivery, delivery_id)
    return None


def _headers(part: Message) -> EmailMessage:
    return message_from_bytes(part.get_payload(decode=True) or b"", policy=policy.default)


def _unsubscribe(token: str) -> str:
    found = consent.from_unsubscribe_token(token)
    if found is None:
        return Result.OTHER
    donor, purpose = found
    changed = consent.unsubscribe(donor, purpose, ip="")
    db.session.commit()
    return Result.UNSUBSCRIBED if changed else Result.KNOWN


# --- Mailboxes ----------------------------------------------------------------------------

Step = Callable[[int], None]


def process_maildir(path: str, progress: Callable[[int], Step]) -> Counter:
    """Every unread message of a Maildir; `progress(total)` returns a per-message callback."""
    box = mailbox.Maildir(path, factory=None, create=False)
    keys = [key for key, msg in box.iteritems() if "S" not in msg.get_flags()]
    step = progress(len(keys))
    results = Counter()
    for key in keys:
        msg = box.get_message(key)
        results[process(box.get_bytes(key))] += 1
        msg.set_subdir("cur")
        msg.add_flag("S")
        box[key] = msg
        step(1)
    return results


def process_imap(url: str, progress: Callable[[int], Step]) -> Counter:
    """Every unseen message of an IMAP folder: imaps://user:password@host[:port]/FOLDER."""
    results = Counter()
    with _imap(url) as imap:
        _, data = imap.uid("SEARCH", None, "UNSEEN")
        uids = data[0].split()
        step = progress(len(uids))
        for uid in uids:
            _, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            results[process(next(_bodies(fetched)))] += 1
            imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            step(1)
    return results


def _bodies(fetched) -> Iterator[bytes]:
    for item in fetched:
        if isinstance(item, tuple):
            yield item[1]


@contextmanager
def _imap(url: str):
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValueError("expected imaps://user:password@host/FOLDER")
    client = (imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4)(
        parts.hostname, parts.port or (993 if parts.scheme == "imaps" else 143)
    )
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        client.select(unquote(parts.path.lstrip("/")) or "INBOX")
        yield client
    finally:
        client.logout()
