"""Receipt PDFs: rendered once with WeasyPrint as PDF/A-3b, sealed, stored write-once, served.

A receipt's PDF is rendered after the receipt is committed (by the scheduler job, or on its
first download) as PDF/A-3b (XMP metadata with title, author = the organisation, creation
date and language; the sRGB output intent; every font embedded), sealed with the
organisation's certificate when it uploaded one (receipts.seal), written read-only and never
replaced under instance/receipts/<organisation>/<year>/ (receipts.archive), and its SHA-256
recorded on the row; from then on the stored file is served, checked against that hash, and
never rendered again. A voided receipt gets a second file, watermarked ANNULLATA; the
original stays as it was. Where the organisation wants re-downloads to say so, a third file,
marked COPIA, is rendered from the same snapshot on the first download and stored alike: the
mail carries the original, every download (portal, staff, API) is that same copy.

One FontConfiguration and one parsed stylesheet serve the whole process (WeasyPrint leaks
memory when each document makes its own). Resources load only from the project's static/
folder and the instance folder: no system font lookups by name, no network.
"""

import enum
import logging
import threading
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import Response, current_app
from sqlalchemy import select, update
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from legami.config import ROOT
from legami.extensions import db
from receipts import archive, content, seal
from receipts.models import Receipt, ReceiptSettings, ReceiptStatus

log = logging.getLogger(__name__)

STATIC = (ROOT / "static").resolve()
STYLESHEET = ROOT / "templates" / "receipts" / "receipt.css"
PDF_VARIANT = "pdf/a-3b"

_lock = threading.Lock()
_shared: dict = {}


class LocalFetcher(URLFetcher):
    """Fetches data: URLs and files under the given folders; refuses everything else.

    `strict`: a resource that cannot be loaded stops the rendering (the fonts); otherwise
    it is left out with a warning (a logo file gone missing does not block a receipt).
    """

    def __init__(self, *folders: Path, strict: bool = False):
        super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=strict)
        self.folders = [Path(f).resolve() for f in folders]

    def fetch(self, url, headers=None):
        if url.startswith("file:"):
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if not any(path.is_relative_to(folder) for folder in self.folders):
                raise ValueError(f"outside the folders receipts may read: {url}")
        elif not url.startswith("data:"):
            raise ValueError(f"receipts load no remote resources: {url[:80]}")
        return super().fetch(url, headers)


class Variant(enum.Enum):
    """A receipt's stored files: (column prefix, file name suffix)."""

    ORIGINAL = ("pdf", "")
    COPY = ("copy_pdf", "-copia")
    VOIDED = ("voided_pdf", "-annullata")

    def __init__(self, prefix: str, suffix: str):
        self.path_column = getattr(Receipt, f"{prefix}_path")
        self.hash_column = getattr(Receipt, f"{prefix}_sha256")
        self.suffix = suffix


class TamperedPdf(RuntimeError):
    """A stored PDF no longer matches the hash recorded when it was written."""


def _fonts_and_css() -> tuple[FontConfiguration, CSS]:
    """The process's one FontConfiguration and parsed stylesheet (call under _lock)."""
    if not _shared:
        fonts = FontConfiguration()
        css = CSS(
            filename=str(STYLESHEET),
            font_config=fonts,
            url_fetcher=LocalFetcher(STATIC, strict=True),
        )
        # Images (logo, signature, QR codes) decoded once per process, not per receipt.
        _shared.update(fonts=fonts, css=css, images={})
    return _shared["fonts"], _shared["css"]


def render(receipt: Receipt, variant: Variant = Variant.ORIGINAL) -> bytes:
    """The receipt as PDF/A-3b bytes, from its snapshot (no storage, no database writes)."""
    # The template alone, without request context processors: receipts render anywhere.
    template = current_app.jinja_env.get_template("receipts/receipt.html")
    html = template.render(
        **content.context(receipt, voided=variant is Variant.VOIDED, copy=variant is Variant.COPY)
    )
    fetcher = LocalFetcher(STATIC, Path(current_app.instance_path))
    document = HTML(string=html, base_url=str(STATIC), url_fetcher=fetcher)
    with _lock:
        fonts, css = _fonts_and_css()
        return document.write_pdf(
            stylesheets=[css], font_config=fonts, pdf_variant=PDF_VARIANT, cache=_shared["images"]
        )


def sealed(receipt: Receipt, variant: Variant = Variant.ORIGINAL) -> bytes:
    """The receipt's PDF as it is stored: rendered, then sealed if the organisation can."""
    settings = db.session.get(ReceiptSettings, receipt.organisation_id)
    return seal.seal(render(receipt, variant), settings, receipt.snapshot["organisation"]["name"])


def file_stem(receipt: Receipt) -> str:
    """A receipt's number as file names carry it; a summary (unnumbered) its id."""
    if receipt.number is None:
        return f"riepilogo-{receipt.id}"
    return f"{receipt.number:06d}"


class Written(NamedTuple):
    receipt_id: int
    relative: str  # under the instance folder
    digest: str  # SHA-256 of the file


def write(receipt: Receipt, variant: Variant = Variant.ORIGINAL) -> Written:
    """Render one of the receipt's PDFs to its file (named by its hash); no database write."""
    if variant is Variant.VOIDED and receipt.status != ReceiptStatus.VOIDED:
        raise ValueError("only a voided receipt has a voided copy")
    data = sealed(receipt, variant)
    digest = archive.sha256(data)
    relative = (
        f"receipts/{receipt.organisation_id}/{receipt.year}/"
        f"{file_stem(receipt)}{variant.suffix}-{digest[:16]}.pdf"
    )
    archive.write_once(relative, data)
    return Written(receipt.id, relative, digest)


def record(written: list[Written], variant: Variant = Variant.ORIGINAL) -> None:
    """Record written files as the receipts' stored PDFs, where none is recorded yet (the
    first to land wins; a loser's file is removed). Does not commit."""
    path_column, hash_column = variant.path_column, variant.hash_column
    for item in written:
        landed = db.session.execute(
            update(Receipt)
            .where(Receipt.id == item.receipt_id, path_column.is_(None))
            .values({path_column: item.relative, hash_column: item.digest})
        ).rowcount
        if not landed:
            current = db.session.scalar(select(path_column).where(Receipt.id == item.receipt_id))
            if current != item.relative:
                archive.discard(item.relative)


def store(receipt: Receipt, variant: Variant = Variant.ORIGINAL) -> Receipt:
    """Render and store one of the receipt's PDFs if not stored yet; commits.

    Two processes may render at once: the one whose compare-and-set UPDATE lands first wins,
    the other removes its file, and both then serve the winner's.
    """
    if getattr(receipt, variant.path_column.key):
        return receipt
    written = write(receipt, variant)
    record([written], variant)
    db.session.commit()
    db.session.refresh(receipt)
    return receipt


def stored_bytes(receipt: Receipt, variant: Variant = Variant.ORIGINAL) -> bytes:
    """The stored PDF, rendered first if it never was; refuses a file that changed."""
    store(receipt, variant)
    data = archive.read(getattr(receipt, variant.path_column.key))
    if archive.sha256(data) != getattr(receipt, variant.hash_column.key):
        raise TamperedPdf(f"receipt {receipt.id}: stored PDF does not match its hash")
    return data


def redownload_variant(receipt: Receipt, original: bool = False) -> Variant:
    """What a download serves: a voided receipt its ANNULLATA file (unless the original is
    asked for); otherwise the copy marked COPIA when the organisation wants one, else the
    original as mailed."""
    if receipt.status == ReceiptStatus.VOIDED and not original:
        return Variant.VOIDED
    settings = db.session.get(ReceiptSettings, receipt.organisation_id)
    if settings is not None and settings.say_copy_on_redownload:
        return Variant.COPY
    return Variant.ORIGINAL


def response(receipt: Receipt, variant: Variant) -> Response:
    """The stored PDF as an HTTP response, named ricevuta-<number>[-copia|-annullata].pdf."""
    return Response(
        stored_bytes(receipt, variant),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{download_name(receipt, variant)}"',
            "Cache-Control": "private, no-cache",
        },
    )


def download_name(receipt: Receipt, variant: Variant = Variant.ORIGINAL) -> str:
    """ricevuta-2026-000123[-copia|-annullata].pdf; a summary riepilogo-2025-<id>.pdf."""
    if receipt.number is None:
        return f"riepilogo-{receipt.snapshot['annual']['year']}-{receipt.id}{variant.suffix}.pdf"
    return f"ricevuta-{receipt.display_number.replace('/', '-')}{variant.suffix}.pdf"


def download(receipt: Receipt, original: bool = False) -> Response:
    """A download from the portal, the staff pages or the API (see redownload_variant)."""
    return response(receipt, redownload_variant(receipt, original))


def render_due(limit: int = 50) -> int:
    """Scheduler job: store the PDFs of receipts issued or voided since the last run."""
    due = db.session.execute(
        select(Receipt.id, Receipt.status)
        .where(
            Receipt.pdf_path.is_(None)
            | ((Receipt.status == ReceiptStatus.VOIDED) & Receipt.voided_pdf_path.is_(None))
        )
        .order_by(Receipt.id)
        .limit(limit)
    ).all()
    db.session.commit()
    stored = 0
    for row in due:
        try:
            receipt = db.session.get(Receipt, row.id)
            store(receipt)
            if row.status == ReceiptStatus.VOIDED:
                store(receipt, Variant.VOIDED)
        except Exception:  # one broken receipt must not hold up the others; it is retried
            db.session.rollback()
            log.exception("receipt %s: PDF not stored", row.id)
        else:
            stored += 1
    return stored
