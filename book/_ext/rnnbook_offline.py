"""Make the HTML self-contained: it loads nothing from another host.

- MathJax 3 is served from the build (``_static/mathjax/``), copied from the
  ``django-static-mathjax`` package that ``pip install -e ".[book]"`` installs. The SVG output is
  used, so no web fonts are needed (browsers refuse some font loads over ``file://``).
- The Thebe live-code scripts (they would fetch Thebe from a CDN) are removed from every page;
  launch buttons stay plain links.
- After the build, every page is checked for scripts, stylesheets, images or frames from another
  host, and so is the CSS; any is reported as a warning (an error under ``-W``).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

MATHJAX_COMPONENT = "tex-svg.js"
#: What of MathJax's es5 tree the page can load: the component, the TeX extensions it
#: autoloads, the menu and the accessibility extensions (with the speech rule engine).
MATHJAX_PARTS = (MATHJAX_COMPONENT, "input/tex", "ui", "a11y", "sre")
STATIC_DIR = "mathjax"

REMOTE_ASSET = re.compile(
    r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b(?=[^>]*\brel=[\"']?(?:stylesheet|preload|icon|modulepreload))[^>]*"
    r"\bhref=[\"']?(?:https?:)?//",
    re.IGNORECASE,
)
REMOTE_CSS = re.compile(r"(?:@import\s+|url\(\s*)[\"']?(?:https?:)?//", re.IGNORECASE)


def mathjax_source() -> Path:
    """The es5 folder of the installed MathJax 3 distribution."""
    spec = importlib.util.find_spec("mathjax")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        es5 = Path(root) / "static" / "mathjax" / "es5"
        if (es5 / MATHJAX_COMPONENT).is_file():
            return es5
    raise ExtensionError(
        "MathJax 3 is not installed; the book serves it locally. "
        'Install the book\'s dependencies: pip install -e ".[book]" (django-static-mathjax).'
    )


def configure(app: Sphinx, config) -> None:
    mathjax_source()  # fail early, with the install hint, if it is missing
    config.mathjax_path = f"{STATIC_DIR}/{MATHJAX_COMPONENT}"


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src, dest = mathjax_source(), Path(app.outdir) / "_static" / STATIC_DIR
    for part in MATHJAX_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dest / part, dirs_exist_ok=True)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / part, dest / part)


def drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Remove sphinx-thebe's script and inline configuration (it points at a CDN)."""

    def keep(asset) -> bool:
        name = str(getattr(asset, "filename", asset) or "")
        body = str(getattr(asset, "attributes", {}).get("body", ""))
        return "thebe" not in name and "THEBE_JS_URL" not in body

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if keep(a)]


def drop_thebe_config(app: Sphinx, doctree, docname: str) -> None:
    """Remove sphinx-thebe's per-page configuration (an inert script naming a Binder repo)."""
    for raw in list(doctree.findall(nodes.raw)):
        if "x-thebe-config" in raw.astext() or raw.astext().startswith("<script>kernelName"):
            raw.parent.remove(raw)


def check_no_remote_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for path in sorted(out.rglob("*.html")):
        for match in REMOTE_ASSET.finditer(path.read_text(encoding="utf-8", errors="replace")):
            logger.warning(
                "page loads an asset from another host: %s",
                match.group(0)[:160],
                location=str(path.relative_to(out)),
            )
    for path in sorted(out.joinpath("_static").rglob("*.css")):
        if REMOTE_CSS.search(path.read_text(encoding="utf-8", errors="replace")):
            logger.warning("stylesheet loads from another host", location=str(path))


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", configure)
    app.connect("html-page-context", drop_thebe, priority=900)
    app.connect("doctree-resolved", drop_thebe_config, priority=900)
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", check_no_remote_assets, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
