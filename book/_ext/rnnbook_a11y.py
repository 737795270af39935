"""Accessibility fixes the theme and docutils leave for the book to make.

- Links inside tinted boxes get a darker blue (``static/rnnbook-a11y.css``), for contrast.
- docutils 0.21 writes a bibliography as ``<div role="list">`` whose entries carry the
  deprecated ARIA role ``doc-biblioentry``; a list must hold list items (axe-core rule
  ``aria-required-children``, impact critical). The entries become ``role="listitem"``.

``tests/test_browser.py`` runs axe-core on every page and fails on any serious or critical
violation; fixes for what it finds belong here.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "static"


def fix_body(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def add_static(app: Sphinx, config) -> None:
    config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", add_static)
    app.add_css_file("rnnbook-a11y.css")
    app.connect("html-page-context", fix_body)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
