"""HTML to PDF with WeasyPrint, for any document the project prints.

One FontConfiguration and one parsed stylesheet serve each renderer for the life of the process
(WeasyPrint leaks memory when each document makes its own), and a renderer draws one document
at a time; a document loads nothing but the project's static files, and the bundled DejaVu
fonts are there as "Legami Sans".
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
_FONT_FACES = """
@font-face { font-family: "Legami Sans"; src: url("fonts/DejaVuSans.ttf"); }
@font-face { font-family: "Legami Sans"; font-weight: bold; src: url("fonts/DejaVuSans-Bold.ttf"); }
"""


class _StaticOnly(URLFetcher):
    def __init__(self, document: str):
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)
        self.document = document

    def fetch(self, url, headers=None):
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if not path.is_relative_to(STATIC):
            raise ValueError(f"{self.document} loads only Legami's static files: {url[:80]}")
        return super().fetch(url, headers)


class Renderer:
    """Renders HTML with one stylesheet; `document` names what it prints in its errors."""

    def __init__(self, style: str, document: str):
        self._style = _FONT_FACES + style
        self._document = document
        self._lock = threading.Lock()
        self._shared: dict = {}

    def _fonts_and_css(self) -> tuple[FontConfiguration, CSS]:
        if not self._shared:
            fonts = FontConfiguration()
            css = CSS(
                string=self._style,
                base_url=str(STATIC) + "/",
                font_config=fonts,
                url_fetcher=_StaticOnly(self._document),
            )
            self._shared.update(fonts=fonts, css=css)
        return self._shared["fonts"], self._shared["css"]

    def render(self, html: str) -> bytes:
        with self._lock:
            fonts, css = self._fonts_and_css()
            document = HTML(
                string=html, base_url=str(STATIC) + "/", url_fetcher=_StaticOnly(self._document)
            )
            return document.write_pdf(stylesheets=[css], font_config=fonts)
