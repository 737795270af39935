"""Vector figures for the PDF, PNG figures for the HTML, from one execution.

The chapters' figures come from matplotlib in the kernels myst-nb starts. IPython's inline
backend sends each figure in the formats of ``InlineBackend.figure_formats``; myst-nb then picks
per builder: the HTML takes ``image/png`` (it never takes a PDF), the LaTeX builder prefers
``application/pdf``. So the kernels are configured to send both (``ipython/
ipython_kernel_config.py``, copied into an IPython profile under ``_build/.ipython`` that the
kernels find through ``IPYTHONDIR``, which they inherit from the build): the HTML's images are
the same bytes as before, and the PDF's figures are vectors.

The configuration file joins the cache key of the executed notebooks
(``rnnbook_freshness_files``): a change re-executes the chapters. The published notebooks keep
the PNG only (``without_print_figures``, used by ``rnnbook_notebooks``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.config import Config

KERNEL_CONFIG = Path(__file__).parent / "ipython" / "ipython_kernel_config.py"
PRINT_MIME = "application/pdf"


def kernel_profile(app: Sphinx, config: Config) -> None:
    """Give the build's kernels an IPython profile that draws PNG and PDF figures."""
    ipython_dir = Path(app.outdir).parent / ".ipython"
    profile = ipython_dir / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(KERNEL_CONFIG, profile / KERNEL_CONFIG.name)
    os.environ["IPYTHONDIR"] = str(ipython_dir.resolve())
    watched = KERNEL_CONFIG.resolve().relative_to(Path(app.srcdir).resolve()).as_posix()
    if watched not in config.rnnbook_freshness_files:
        config.rnnbook_freshness_files = [*config.rnnbook_freshness_files, watched]


def without_print_figures(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without the figures' PDF versions (glued ones included)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data:
                for key in [k for k in data if k.endswith(PRINT_MIME)]:
                    del data[key]
    return nb


def setup(app: Sphinx) -> dict:
    app.setup_extension("rnnbook_freshness")
    # Before rnnbook_freshness hashes the watched files (priority 900).
    app.connect("config-inited", kernel_profile, priority=850)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
