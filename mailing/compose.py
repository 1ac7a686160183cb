"""A newsletter made into mail: rendered once per language, then filled in per recipient.

`prepare(newsletter)` does the expensive part once: Markdown (sanitised), the blocks
(`[[campaign:slug]]`, `[[pact:slug]]`, `[[lab:slug]]` as cards with their cover, in the
version's language or the Italian text; `[[update:id]]`, a campaign's update; and
`[[button:https://…|Label]]`), the branded HTML layout and the
plain-text part, each split at the places that differ per recipient. `Prepared.render(r)`
only joins strings, signs a few tokens and quoted-printable-encodes (C code) the two parts
into the bytes the server receives: no Jinja, no Markdown, no database, no email-package
message per recipient, so the sender keeps up with bare smtplib. `Prepared.message(r)` is the
same mail parsed back, for test sends and previews.

Tokens: `{{ first_name }}` is the donor's first name (empty when unknown);
`{{ first_name | "amica, amico" }}` uses the quoted text when the name is unknown. They work
in the subject, the preheader and the body.
"""

import binascii
import hashlib
import hmac
import html
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from html.parser import HTMLParser
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import select

from campaigns.models import Campaign, Lab, Pact, Update
from campaigns.progress import progress
from donors import consent
from donors.models import ConsentPurpose
from legami.extensions import db
from legami.markdown import render_markdown
from legami.models import Organisation
from mailing.models import Newsletter, NewsletterVersion

TOKEN = re.compile(r"\{\{\s*first_name\s*(?:\|\s*\"([^\"{}]*)\"\s*)?\}\}")
ANY_TOKEN = re.compile(r"\{\{.*?\}\}", re.S)
BLOCK = re.compile(r"^[ \t]*\[\[(campaign|pact|lab|update):([A-Za-z0-9_-]+)\]\][ \t]*$", re.M)
BLOCK_MODELS = {"campaign": Campaign, "pact": Pact, "lab": Lab}
BUTTON = re.compile(r"^[ \t]*\[\[button:(https?://[^\s|\]]+)\|([^\]\n]+)\]\][ \t]*$", re.M)

# Placeholders: letters and digits only, so Markdown, nh3 and HTML escaping leave them be.
_SLOT = re.compile(r"LGMx([a-z0-9]+)xLGM")
_BLOCK_PARAGRAPH = re.compile(r"<p>LGMxb(\d+)xLGM</p>")
_HREF = re.compile(r'href="(https?://[^"]+)"')

TRACKING_SALT = "legami-newsletter-tracking"
LINK_SALT = "legami-newsletter-link"


def _slot(name: str) -> str:
    return f"LGMx{name}xLGM"


class Recipient(Protocol):
    id: int  # the Delivery's id
    donor_id: int | None
    email: str
    first_name: str
    language: str


class _Template:
    """A string cut at its slots: filling is one join."""

    __slots__ = ("literals", "names")

    def __init__(self, text: str):
        pieces = _SLOT.split(text)
        self.literals = pieces[0::2]
        self.names = pieces[1::2]

    def fill(self, values: dict[str, str]) -> str:
        out = [self.literals[0]]
        for name, literal in zip(self.names, self.literals[1:], strict=True):
            out.append(values[name])
            out.append(literal)
        return "".join(out)


@dataclass(frozen=True)
class _Version:
    subject: _Template
    text: _Template
    html: _Template
    fallbacks: tuple[str, ...]  # per `fn<i>` slot: what stands for an unknown first name


def _tokens_to_slots(text: str, fallbacks: list[str]) -> str:
    def replace(match):
        fallbacks.append(match.group(1) or "")
        return _slot(f"fn{len(fallbacks) - 1}")

    return TOKEN.sub(replace, text)


def bad_tokens(text: str) -> list[str]:
    """The `{{ … }}` in a text that are not first-name tokens (for the composer's checks)."""
    return [found for found in ANY_TOKEN.findall(text or "") if not TOKEN.fullmatch(found)]


def block_refs(body: str) -> list[tuple[str, str]]:
    return BLOCK.findall(body or "")


def _load_blocks(refs: list[tuple[str, str]]) -> dict[tuple[str, str], object]:
    """The blocks' rows by (kind, slug or update id); a draft campaign has no public page, so
    neither it nor its updates are shown."""
    found = {}
    for kind, model in BLOCK_MODELS.items():
        slugs = {slug for k, slug in refs if k == kind}
        if slugs:
            for row in db.session.scalars(select(model).where(model.slug.in_(slugs))):
                if kind != "campaign" or row.is_public:
                    found[(kind, row.slug)] = row
    ids = {int(key) for k, key in refs if k == "update" and key.isdigit() and len(key) < 10}
    if ids:
        for row in db.session.scalars(select(Update).where(Update.id.in_(ids))):
            if row.campaign.is_public:
                found[("update", str(row.id))] = row
    return found


def missing_blocks(body: str) -> list[str]:
    """The block references with no public campaign, pact or lab behind them."""
    refs = block_refs(body)
    found = _load_blocks(refs)
    return [f"[[{kind}:{slug}]]" for kind, slug in refs if (kind, slug) not in found]


def _absolute(endpoint: str, **values) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def _button(url: str, label: str) -> tuple[str, str]:
    context = {"url": url, "label": label.strip()}
    return (
        render_template("mailing/newsletter/button.html", **context),
        render_template("mailing/newsletter/button.txt", **context).strip(),
    )


def _public_url(endpoint: str, language: str, **values) -> str:
    url = current_app.config["BASE_URL"] + url_for(endpoint, **values)
    return url + "?lang=en" if language == "en" else url


def render_block(kind: str, item, language: str) -> tuple[str, str]:
    """A block's HTML and text, rendered in the version's language (its cover, if any)."""
    endpoint = {"campaign": "campaigns.campaign", "pact": "campaigns.pact", "lab": "campaigns.lab"}
    if kind == "update":
        url = _public_url("campaigns.campaign", language, slug=item.campaign.slug) + "#updates"
    else:
        url = _public_url(endpoint[kind], language, slug=item.slug)
    cover = getattr(item, "cover", None)
    context = {
        "kind": kind,
        "item": item,
        "url": url,
        "cover_url": _absolute("uploads.serve", name=cover) if cover else None,
        "progress": progress(item) if kind == "campaign" else None,
    }
    return (
        render_template("mailing/newsletter/block.html", **context),
        render_template("mailing/newsletter/block.txt", **context).strip(),
    )


class _TextMaker(HTMLParser):
    """The plain-text part from the rendered body: paragraphs, lists, links as `label (url)`."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[str] = []
        self.lists: list[list[int]] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "blockquote", "pre", "table", "h1", "h2", "h3", "h4", "h5", "h6"):
            self.out.append("\n\n")
        elif tag in ("br", "tr"):
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            self.lists.append([0 if tag == "ol" else -1])
            self.out.append("\n")
        elif tag == "li":
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
                self.out.append(f"\n{'   ' * (len(self.lists) - 1)}{counter[0]}. ")
            else:
                self.out.append(f"\n{'   ' * (len(self.lists) - 1)}- ")
        elif tag == "hr":
            self.out.append("\n\n----------\n\n")
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        elif tag == "img":
            self.out.append(dict(attrs).get("alt") or "")

    def handle_endtag(self, tag):
        if tag == "a" and self.links:
            href = self.links.pop()
            if href and not href.startswith("mailto:"):
                self.out.append(f" ({href})")
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append("  ")

    def handle_data(self, data):
        if data.strip() or "\n" not in data:  # not the newlines between block tags
            self.out.append(data)

    def text(self) -> str:
        lines = [line.rstrip() for line in "".join(self.out).splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(fragment: str) -> str:
    maker = _TextMaker()
    maker.feed(fragment)
    maker.close()
    return maker.text()


def _link_serializer() -> URLSafeSerializer:
    return _serializer(current_app.secret_key, LINK_SALT)


def _tracking_serializer() -> URLSafeSerializer:
    return _serializer(current_app.secret_key, TRACKING_SALT)


@lru_cache(maxsize=8)
def _serializer(secret_key: str, salt: str) -> URLSafeSerializer:
    """Kept: making one costs a JSON round trip, and every mail signs a token."""
    return URLSafeSerializer(secret_key, salt=salt)


def tracking_token(delivery_id: int) -> str:
    return _tracking_serializer().dumps(delivery_id)


def delivery_from_tracking_token(token: str) -> int | None:
    try:
        value = _tracking_serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def link_token(newsletter_id: int, url: str) -> str:
    """A link of one newsletter, signed: the click redirect goes nowhere else."""
    return _link_serializer().dumps([newsletter_id, url])


def url_from_link_token(token: str) -> tuple[int, str] | None:
    try:
        newsletter_id, url = _link_serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(newsletter_id, int) or not isinstance(url, str):
        return None
    return newsletter_id, url


def _track_links(body_html: str, newsletter_id: int) -> str:
    base = current_app.config["BASE_URL"]

    def replace(match):
        url = html.unescape(match.group(1))
        path = url_for(
            "newsletter_tracking.click",
            token=_slot("dtok"),
            link=link_token(newsletter_id, url),
        )
        return f'href="{html.escape(base + path)}"'

    return _HREF.sub(replace, body_html)


def _render_version(newsletter: Newsletter, version, blocks: dict) -> _Version:
    language = version.language
    fallbacks: list[str] = []
    subject = _tokens_to_slots(version.subject, fallbacks)
    preheader = _tokens_to_slots(version.preheader or "", fallbacks)
    body = _tokens_to_slots(version.body or "", fallbacks)

    block_parts: list[tuple[str, str]] = []

    def block_slot(match):
        item = blocks.get((match.group(1), match.group(2)))
        if item is None:  # deleted after the draft was checked: leave it out
            return ""
        block_parts.append(render_block(match.group(1), item, language))
        return f"\n\n{_slot(f'b{len(block_parts) - 1}')}\n\n"

    def button_slot(match):
        block_parts.append(_button(match.group(1), match.group(2)))
        return f"\n\n{_slot(f'b{len(block_parts) - 1}')}\n\n"

    body = BUTTON.sub(button_slot, BLOCK.sub(block_slot, body))
    body_html = str(render_markdown(body))
    body_text = html_to_text(body_html)
    body_html = _BLOCK_PARAGRAPH.sub(lambda m: block_parts[int(m.group(1))][0], body_html)
    for index, (_html, text) in enumerate(block_parts):
        body_text = body_text.replace(_slot(f"b{index}"), text)
    if newsletter.track_engagement:
        body_html = _track_links(body_html, newsletter.id)

    context = {
        "newsletter": newsletter,
        "org": newsletter.organisation,
        "subject": subject,
        "preheader": preheader,
        "language": language,
        "unsubscribe_url": _slot("unsub"),
        "open_pixel": (
            current_app.config["BASE_URL"]
            + url_for("newsletter_tracking.pixel", token=_slot("dtok"))
            if newsletter.track_engagement
            else None
        ),
        "logo_url": (
            current_app.config["BASE_URL"]
            + url_for("uploads.serve", name=newsletter.organisation.logo)
            if newsletter.organisation.logo
            else None
        ),
    }
    page = render_template("mailing/newsletter/layout.html", body=Markup(body_html), **context)
    text = render_template("mailing/newsletter/layout.txt", body=body_text, **context)
    return _Version(
        subject=_Template(subject),
        text=_Template(text.strip() + "\n"),
        html=_Template(page),
        fallbacks=tuple(fallbacks),
    )


def _secret() -> bytes:
    return current_app.secret_key.encode()


def _mac(value: str) -> str:
    return hmac.new(_secret(), value.encode(), hashlib.sha256).hexdigest()[:8]


def _host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "legami.local"


CRLF = "\r\n"
LINE = 78  # a header line's length, as RFC 5322 recommends
# Base64 of 39 bytes in =?utf-8?b?…?= is 64 characters: after "Subject: " a line fits in 78.
ENCODED_WORD_BYTES = 39
_PART_HEADERS = (
    'Content-Type: text/{subtype}; charset="utf-8"'
    + CRLF
    + "Content-Transfer-Encoding: quoted-printable"
    + CRLF
    + CRLF
)


def message_id(newsletter_id: int, delivery_id: int) -> str:
    """`<nl{newsletter}.{delivery}.{mac}@host>`: a bounce quoting it finds the delivery."""
    core = f"nl{newsletter_id}.{delivery_id}"
    return f"<{core}.{_mac(core)}@{_host()}>"


_MESSAGE_ID = re.compile(r"<?nl(\d+)\.(\d+)\.([0-9a-f]{8})@[^>]*>?")


def delivery_from_message_id(value: str) -> int | None:
    match = _MESSAGE_ID.fullmatch((value or "").strip())
    if match is None:
        return None
    core = f"nl{match.group(1)}.{match.group(2)}"
    if not hmac.compare_digest(_mac(core), match.group(3)):
        return None
    return int(match.group(2))


_VERP = re.compile(r"<?([^+@<>]+)\+(\d+)@([^>]+)>?")


def delivery_from_verp(address: str) -> int | None:
    """The delivery of a VERP bounce address `bounces+{delivery}@domain`, if it is ours."""
    bounce = current_app.config.get("NEWSLETTER_BOUNCE_ADDRESS") or ""
    match = _VERP.fullmatch((address or "").strip())
    if match is None or "@" not in bounce:
        return None
    local, domain = bounce.rsplit("@", 1)
    if match.group(1).lower() != local.lower() or match.group(3).lower() != domain.lower():
        return None
    return int(match.group(2))


_SPACE_BEFORE_MARK = re.compile(r"\s+([,.;:!?])")


def tidy_subject(subject: str) -> str:
    """A subject as filled in for one recipient, without the stray spaces and commas an empty
    first name leaves ("{{first_name}}, news" -> "news", "Ciao {{first_name}}!" -> "Ciao!")."""
    return _SPACE_BEFORE_MARK.sub(r"\1", " ".join(subject.split())).lstrip(",;: ")


def _header(name: str, value: str) -> str:
    """One unstructured header line, CRLF-ended. An ASCII value is written as is (folded at
    spaces when long); any other is cut into base64 encoded words (RFC 2047) of whole
    characters. The email package's own folding parses every value: most of a message's cost."""
    value = value.replace("\r", " ").replace("\n", " ")
    if value.isascii() and "=?" not in value:
        return f"{name}: " + _fold_ascii(value, len(name) + 2) + CRLF
    data = value.encode()
    words, start = [], 0
    while start < len(data):
        end = min(start + ENCODED_WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        words.append(f"=?utf-8?b?{binascii.b2a_base64(data[start:end], newline=False).decode()}?=")
        start = end
    return f"{name}: " + (CRLF + " ").join(words) + CRLF


def _address_header(name: str, value: str) -> str:
    """An address header, folded by the email package (an encoded name, never the address)."""
    return SMTP.header_factory(name, value).fold(policy=SMTP)


def _fold_ascii(value: str, used: int) -> str:
    if used + len(value) <= LINE:
        return value
    lines, line = [], ""
    for word in value.split(" "):
        if line and used + len(line) + 1 + len(word) > LINE:
            lines.append(line)
            line, used = word, 1
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return (CRLF + " ").join(lines)


def _quoted_printable(content: str) -> str:
    """A text part's body: UTF-8, quoted-printable (C code), CRLF line ends."""
    data = content.replace("\r\n", "\n").replace("\r", "\n").encode()
    return binascii.b2a_qp(data, istext=True).decode("ascii").replace("\n", CRLF)


@lru_cache(maxsize=2)
def _date_header(second: int) -> str:
    return "Date: " + format_datetime(datetime.fromtimestamp(second, UTC)) + CRLF


class Rendered(NamedTuple):
    message_id: str
    data: bytes  # the whole message, CRLF line ends, ASCII: what the SMTP server receives


class Prepared:
    """One newsletter rendered, ready to be filled in for each recipient."""

    def __init__(self, newsletter: Newsletter, versions: dict[str, _Version]):
        self.newsletter_id = newsletter.id
        self.versions = versions
        # A report-back's unsubscribe link opts out of report-backs, not of the newsletter.
        self.purpose = (
            ConsentPurpose.REPORT_BACK
            if newsletter.report_back_campaign_id
            else ConsentPurpose.NEWSLETTER
        )
        from_email = newsletter.from_email or parseaddr(current_app.config["MAIL_FROM"])[1]
        from_name = newsletter.from_name or parseaddr(current_app.config["MAIL_FROM"])[0]
        self.from_email = from_email
        # "=_" never occurs in quoted-printable text, so one boundary serves every message.
        boundary = f"=_{uuid.uuid4().hex}"
        # Encoded once: the headers that are the same in every message.
        self.from_header = _address_header("From", str(Address(from_name, addr_spec=from_email)))
        reply_to = _address_header("Reply-To", newsletter.reply_to) if newsletter.reply_to else ""
        self.fixed_headers = (
            reply_to
            + "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
            + CRLF
            + "MIME-Version: 1.0"
            + CRLF
            + f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"{CRLF}{CRLF}'
        )
        self.text_start = f"--{boundary}{CRLF}{_PART_HEADERS.format(subtype='plain')}"
        self.html_start = f"{CRLF}--{boundary}{CRLF}{_PART_HEADERS.format(subtype='html')}"
        self.end = f"{CRLF}--{boundary}--{CRLF}"
        self.bounce = current_app.config.get("NEWSLETTER_BOUNCE_ADDRESS") or ""
        base = current_app.config["BASE_URL"]
        self.unsubscribe_url = _Template(base + url_for("consent.unsubscribe", token=_slot("t")))
        self.one_click_url = _Template(base + url_for("consent.one_click", token=_slot("t")))
        self.mac_key = _secret()
        self.host = _host()
        self.tracking = newsletter.track_engagement

    def version_for(self, language: str) -> _Version:
        return self.versions.get(language) or self.versions["it"]

    def envelope_from(self, recipient: Recipient) -> str:
        if self.bounce and "@" in self.bounce:
            local, domain = self.bounce.rsplit("@", 1)
            return f"{local}+{recipient.id}@{domain}"
        return self.from_email

    def render(self, recipient: Recipient) -> Rendered:
        version = self.version_for(recipient.language)
        token = consent.unsubscribe_token_for(recipient.donor_id or 0, self.purpose)
        unsubscribe = self.unsubscribe_url.fill({"t": token})
        name = recipient.first_name or ""
        text_values = {"unsub": unsubscribe}
        html_values = {"unsub": html.escape(unsubscribe)}
        for index, fallback in enumerate(version.fallbacks):
            text_values[f"fn{index}"] = name or fallback
            html_values[f"fn{index}"] = html.escape(name or fallback)
        if self.tracking:
            html_values["dtok"] = tracking_token(recipient.id)

        core = f"nl{self.newsletter_id}.{recipient.id}"
        mac = hmac.new(self.mac_key, core.encode(), hashlib.sha256).hexdigest()[:8]
        message_id = f"<{core}.{mac}@{self.host}>"
        one_click = self.one_click_url.fill({"t": token})
        mailto = consent.unsubscribe_mailto(token)
        to = recipient.email
        data = "".join(
            (
                self.from_header,
                f"To: {to}{CRLF}"
                if to.isascii() and to.isprintable()
                else _address_header("To", to),
                _header("Subject", tidy_subject(version.subject.fill(text_values))),
                _date_header(int(time.time())),
                f"Message-ID: {message_id}{CRLF}",
                f"List-Unsubscribe: <{one_click}>,{CRLF} <{mailto}>{CRLF}",
                self.fixed_headers,
                self.text_start,
                _quoted_printable(version.text.fill(text_values)),
                self.html_start,
                _quoted_printable(version.html.fill(html_values)),
                self.end,
            )
        )
        return Rendered(message_id, data.encode("ascii"))

    def message(self, recipient: Recipient) -> EmailMessage:
        """The rendered mail as a message object (test sends, previews, tests)."""
        return message_from_bytes(self.render(recipient).data, policy=SMTP)


def prepare(newsletter: Newsletter) -> Prepared:
    """Render every version of the newsletter once (in its language)."""
    if not has_request_context():
        # url_for needs a request: the site's public address, as mailing.queue does.
        with current_app.test_request_context("/", base_url=current_app.config["BASE_URL"]):
            return prepare(newsletter)
    refs = [ref for version in newsletter.versions for ref in block_refs(version.body)]
    blocks = _load_blocks(refs)
    versions = {}
    for version in newsletter.versions:
        with force_locale(version.language):
            versions[version.language] = _render_version(newsletter, version, blocks)
    if "it" not in versions:
        raise ValueError(f"newsletter {newsletter.id} has no Italian version")
    return Prepared(newsletter, versions)


@dataclass(frozen=True)
class BlockChoice:
    """One entry of the composer's block picker: what it inserts and how it is shown."""

    code: str
    label: str
    cover_url: str | None = None


def block_choices() -> dict[str, list[BlockChoice]]:
    """What the composer's block picker offers: public campaigns, pacts, labs, the latest
    updates of public campaigns, and the covers as images."""
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.status != "draft").order_by(Campaign.ends_on.desc())
    ).all()
    pacts = db.session.scalars(select(Pact).order_by(Pact.title)).all()
    labs = db.session.scalars(select(Lab).order_by(Lab.title)).all()
    updates = db.session.scalars(
        select(Update)
        .join(Campaign)
        .where(Campaign.status != "draft")
        .order_by(Update.published_at.desc())
        .limit(30)
    ).all()

    def cover(row) -> str | None:
        return url_for("uploads.serve", name=row.cover) if row.cover else None

    def items(kind: str, rows) -> list[BlockChoice]:
        return [BlockChoice(f"[[{kind}:{row.slug}]]", row.title, cover(row)) for row in rows]

    images = [
        BlockChoice(
            f"![{row.title}]({_absolute('uploads.serve', name=row.cover)})", row.title, cover(row)
        )
        for row in (*campaigns, *pacts, *labs)
        if row.cover
    ]
    return {
        "campaign": items("campaign", campaigns),
        "pact": items("pact", pacts),
        "lab": items("lab", labs),
        "update": [
            BlockChoice(f"[[update:{row.id}]]", f"{row.title} · {row.campaign.title}")
            for row in updates
        ],
        "image": images,
    }


def draft_preview(draft, language: str, first_name: str, email: str) -> str:
    """The HTML of a draft as it stands in the composer (nothing stored, nothing checked):
    `draft` has organisation_id, from_name and versions {language: subject, preheader, body}."""
    organisation = db.session.get(Organisation, draft.organisation_id) or db.session.scalar(
        select(Organisation).order_by(Organisation.id).limit(1)
    )
    if organisation is None:
        return ""
    newsletter = Newsletter(
        organisation=organisation,
        from_name=draft.from_name or organisation.name,
        from_email=draft.from_email or "",
        track_engagement=False,
        versions=[
            NewsletterVersion(
                language=code,
                subject=v.subject,
                preheader=v.preheader,
                body=(v.body or "").replace("\r\n", "\n"),  # as a saved draft's
            )
            for code, v in draft.versions.items()
            if code == "it" or (v.subject or v.body)
        ],
    )
    recipient = _PreviewRecipient(0, None, email, first_name, language)
    message = prepare(newsletter).message(recipient)
    return message.get_body(("html",)).get_content()


class _PreviewRecipient(NamedTuple):
    id: int
    donor_id: int | None
    email: str
    first_name: str
    language: str
