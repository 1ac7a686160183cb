"""PDF rendering for the reports (funder report, annual public report) with WeasyPrint.

Rendered by legami.pdf: one font configuration and stylesheet for the process; a document
loads nothing but the project's static files.
"""

from legami.pdf import Renderer

_renderer = Renderer(
    """
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
""",
    document="a report",
)


def render(html: str) -> bytes:
    return _renderer.render(html)
