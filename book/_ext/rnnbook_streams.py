"""Merge printed output into one block on the page without duplicating it in the notebook.

A kernel sends what a cell prints as one or several stream messages, depending on timing, so
two builds can show the same text as one output block or two. ``nb_merge_streams: true``
(``_config.yml``) makes myst-nb merge them on the page. But myst-nb 1.4.0 merges by appending
the later texts to the first output *in place*, and then saves the executed notebook
(``_build/jupyter_execute``, which the book also publishes for download) with the merged first
output and the later ones still there: a line printed in a second message appears twice.

This extension makes myst-nb merge copies instead, so the page shows one block and the saved
notebook keeps exactly what the kernel sent.
"""

from __future__ import annotations

import copy

import myst_nb.core.render as render
from sphinx.application import Sphinx

_coalesce_in_place = render.coalesce_streams


def coalesce_copies(outputs):
    """myst-nb's stream merging, applied to copies of the outputs."""
    return _coalesce_in_place([copy.deepcopy(output) for output in outputs])


def setup(app: Sphinx) -> dict:
    render.coalesce_streams = coalesce_copies
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
