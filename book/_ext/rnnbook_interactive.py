"""Interactive figures: serve the script that draws them, on the pages that have one.

A chapter cell that displays an :class:`rnnbook.interactive.InteractiveFigure` outputs HTML (the
static figure, hidden sliders, a description and the data of every setting as JSON) and the
static figure as an image. myst-nb's default mime priorities pick the HTML for the HTML builders
and the image (or PDF) for LaTeX, so the PDF edition gets the static figure; a notebook shows the
static image that the HTML carries.

This extension copies ``static/rnnbook-interactive.js`` and ``.css`` into ``_static`` and adds
them to the pages whose body holds an interactive figure, and only to those. The script is the
book's own (about 14 kB, no library): it draws the selected setting as SVG, in the axes boxes
that matplotlib laid out for the static figure, and redraws it when a slider moves. Nothing is
loaded from another host, so the figures work offline and from ``file://``.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "static"
SCRIPT = "rnnbook-interactive.js"
STYLE = "rnnbook-interactive.css"
#: What the HTML of an interactive figure starts with (rnnbook.interactive.InteractiveFigure).
MARKER = '<div class="rnnbook-interactive"'


def add_static(app: Sphinx, config) -> None:
    if str(STATIC) not in map(str, config.html_static_path):
        config.html_static_path.append(str(STATIC))


def page_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Add the script and stylesheet to this page only, when it has an interactive figure."""
    if MARKER in (context.get("body") or ""):
        app.add_css_file(STYLE)
        app.add_js_file(SCRIPT, loading_method="defer")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", add_static)
    app.connect("html-page-context", page_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
