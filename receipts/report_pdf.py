"""PDF rendering for the reports (funder report, annual public report) with WeasyPrint.

One FontConfiguration and one parsed stylesheet serve the process (WeasyPrint leaks memory
when each document makes its own); a document loads nothing but the project's static files.
"""

import threading
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from legami.config import ROOT

STATIC = (ROOT / "static").resolve()
_STYLE = """
@font-face { font-family: "Legami Sans"; src: url("fonts/DejaVuSans.ttf"); }
@font-face { font-family: "Legami Sans"; font-weight: bold; src: url("fonts/DejaVuSans-Bold.ttf"); }
@page { size: A4; margin: 18mm 16mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "Legami Sans"; font-size: 10pt; }
h1 { font-size: 17pt; } h2 { font-size: 12.5pt; margin-top: 14pt; }
table { width: 100%; border-collapse: collapse; margin-bottom: 8pt; }
th, td { border-bottom: 0.5pt solid #999; padding: 3pt; text-align: left; }
td.num, th.num { text-align: right; }
.muted { color: #555; }
svg { width: 100%; max-height: 90mm; }
figcaption { display: none; }
"""
_lock = threading.Lock()
_shared: dict = {}


class _StaticOnly(URLFetcher):
    def __init__(self):
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)

    def fetch(self, url, headers=None):
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if not path.is_relative_to(STATIC):
            raise ValueError(f"a report loads only Legami's static files: {url[:80]}")
        return super().fetch(url, headers)


def _fonts_and_css() -> tuple[FontConfiguration, CSS]:
    if not _shared:
        fonts = FontConfiguration()
        css = CSS(
            string=_STYLE, base_url=str(STATIC) + "/", font_config=fonts, url_fetcher=_StaticOnly()
        )
        _shared.update(fonts=fonts, css=css)
    return _shared["fonts"], _shared["css"]


def render(html: str) -> bytes:
    with _lock:
        fonts, css = _fonts_and_css()
        return HTML(string=html, base_url=str(STATIC) + "/", url_fetcher=_StaticOnly()).write_pdf(
            stylesheets=[css], font_config=fonts
        )
