"""No English on an Italian page: the demo network's public pages, donor portal and back
office are crawled in Italian, and every text a person sees (text, labels, placeholders,
alternative texts) is checked against the English of the translation catalog and a list
of common English words.

A text is English when it holds a catalog message (a msgid the catalog translates into
something else) or a piece of one between its placeholders, or a common English word that no
Italian translation in the catalog uses. Text marked `lang="en"` (the language switch, English
content shown as a marked fallback), code and the donors' own data are not checked.
"""

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
from babel.messages.pofile import read_po
from flask import current_app

from donors import portal
from donors.models import Donor
from legami.extensions import db
from tests import factories

CATALOG = Path(__file__).resolve().parents[2] / "legami/translations/it/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
# Words that only English uses (Italian has none of them; a translation that keeps one, as
# Italian does with "newsletter", is allowed by the catalog itself).
ENGLISH_WORDS = set(
    [
        "the",
        "and",
        "your",
        "with",
        "from",
        "this",
        "these",
        "which",
        "what",
        "when",
        "where",
        "there",
        "their",
        "them",
        "they",
        "been",
        "will",
        "would",
        "should",
        "must",
        "could",
        "every",
        "each",
        "only",
        "please",
        "gift",
        "gifts",
        "receipt",
        "receipts",
        "donation",
        "donations",
        "donor",
        "donors",
        "monthly",
        "waiting",
        "missing",
        "issued",
        "issue",
        "received",
        "pending",
        "failed",
        "refund",
        "refunds",
        "refunded",
        "settings",
        "campaign",
        "campaigns",
        "pact",
        "pacts",
        "lab",
        "labs",
        "save",
        "send",
        "sent",
        "none",
        "yes",
        "back",
        "show",
        "total",
        "kept",
        "entered",
        "home",
        "giving",
        "raised",
        "amount",
        "date",
        "name",
        "e-mail",
        "organisation",
        "organisations",
        "statement",
        "statements",
        "transfer",
        "transfers",
        "bank",
        "method",
        "methods",
        "status",
        "new",
        "edit",
        "delete",
        "cancel",
        "confirm",
        "search",
        "filter",
        "export",
        "import",
        "log",
        "out",
    ]
)
BRANDS = {"legami", "stripe", "paypal", "satispay", "iban", "bic", "csv", "zip", "pdf", "xlsx"}
SKIPPED_TAGS = {"script", "style", "code", "pre", "textarea"}
VISIBLE_ATTRIBUTES = ("placeholder", "alt", "title", "aria-label")
DOWNLOADS = re.compile(r"\.(csv|zip|pdf|xlsx|json|xml|gif|png|jpe?g|svg|webp)$")
MAX_PAGES = 120


def _catalog():
    """(English texts and their pieces between placeholders, words the Italian uses)."""
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="it")
    english, italian_words = set(), set(BRANDS)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            italian_words |= set(re.findall(r"[a-zà-ù'-]+", (text or "").lower()))
        if not any(strings) or set(ids) == set(strings):
            continue
        for msgid in ids:
            for piece in PLACEHOLDER.split(msgid):
                piece = " ".join(piece.split()).strip(" .,:;·()")
                if len(piece) >= 12 and " " in piece:
                    english.add(piece)
            if not PLACEHOLDER.search(msgid):
                english.add(" ".join(msgid.split()))
    return english, italian_words


def _texts(html: str):
    """Every text a person sees on the page (the <main>, the header and the footer)."""
    tree = lxml.html.fromstring(html)
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in SKIPPED_TAGS:
            continue
        if any(a.get("lang", "it").startswith("en") for a in element.iterancestors()) or (
            element.get("lang", "it").startswith("en")
        ):
            continue
        if element.getparent() is not None and any(
            a.tag in SKIPPED_TAGS for a in element.iterancestors()
        ):
            continue
        for text in (element.text, element.tail if element.getparent() is not None else None):
            text = " ".join((text or "").split())
            if text:
                yield text
        for name in VISIBLE_ATTRIBUTES:
            if element.get(name):
                yield " ".join(element.get(name).split())


def _english_in(text: str, english: set[str], italian_words: set[str], people: set[str]):
    if text in people:
        return None
    if text in english:
        return text
    for piece in english:
        if len(piece) >= 12 and piece in text:
            return piece
    words = set(re.findall(r"[a-z][a-z'-]+", text.lower()))
    found = sorted((words & ENGLISH_WORDS) - italian_words)
    return ", ".join(found) or None


def _crawl(client, starts: list[str], allowed: re.Pattern) -> dict[str, str]:
    """GET the pages reachable from `starts` under `allowed` paths, one per kind of path (the
    ids in it aside): address -> HTML."""
    seen, queue, pages = set(), list(starts), {}
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        kind = re.sub(r"\d+", "N", urlsplit(url).path)
        if kind in seen:
            continue
        seen.add(kind)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        pages[url] = response.text
        for link in lxml.html.fromstring(response.text).iter("a"):
            href = urljoin(url, link.get("href") or "")
            parts = urlsplit(href)
            if parts.netloc not in ("", "localhost") or "lang=" in parts.query:
                continue
            if allowed.match(parts.path) and not DOWNLOADS.search(parts.path):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return pages


def _demo():
    for load in current_app.extensions.get("legami.demo", []):
        load()
    db.session.commit()


def _people() -> set[str]:
    """Names and addresses of the donors: their own data, in any language."""
    found = set()
    for donor in db.session.query(Donor).all():
        found |= {donor.display_name, donor.email or "", donor.town or ""}
    return found


def _check(pages: dict[str, str]) -> list[str]:
    english, italian_words = _catalog()
    people = _people()
    problems: dict[str, str] = {}
    for url, html in pages.items():
        assert 'lang="it"' in html[:200], url
        for text in _texts(html):
            found = _english_in(text, english, italian_words, people)
            if found and text not in problems:
                problems[text] = f"{url}: {text!r} ({found})"
    return sorted(problems.values())


def test_the_public_pages_and_the_portal_are_all_italian(app, client):
    _demo()
    pages = _crawl(client, ["/"], re.compile(r"^/(?!staff|static|uploads|api)"))
    assert len(pages) >= 8, sorted(pages)
    donor = db.session.query(Donor).filter(Donor.email.like("%@example.org")).first()
    with app.test_request_context():
        link = portal.issue_link(donor)
    db.session.commit()
    assert client.post(link.removeprefix("http://localhost")).status_code == 302
    pages |= _crawl(client, ["/portal"], re.compile(r"^/portal"))
    problems = _check(pages)
    assert not problems, f"{len(problems)} English texts on Italian pages:\n" + "\n".join(problems)


def test_the_back_office_is_all_italian(app, client):
    _demo()
    user = factories.user(roles=("admin",), password="correct horse battery")
    client.post("/staff/login", data={"email": user.email, "password": "correct horse battery"})
    pages = _crawl(client, ["/staff/"], re.compile(r"^/staff/(?!logout)"))
    assert len(pages) >= 30, sorted(pages)
    problems = _check(pages)
    assert not problems, f"{len(problems)} English texts on Italian pages:\n" + "\n".join(problems)


def test_the_check_finds_english_where_it_is():
    """The checker itself: an English label, a piece of a message around a placeholder and
    a common English word are found; Italian, a marked English text and code are not."""
    english, italian_words = _catalog()
    html = (
        '<html lang="it"><body><main><h1>Donazioni</h1><p>Your gifts</p>'
        '<p lang="en">English</p><code>bank_transfer</code>'
        "<p>Riepilogo delle ricevute</p><button>Save</button></main></body></html>"
    )
    found = [t for t in _texts(html) if _english_in(t, english, italian_words, set())]
    assert found == ["Your gifts", "Save"]
