"""Merge printed output into one block on the page without duplicating it in the notebook.

A kernel sends what a cell prints as one or several stream messages, depending on timing, so
two builds can show the same text as one output block or two. ``nb_merge_streams: true``
(``_config.yml``) makes myst-nb merge them on the page. But myst-nb 1.4.0 merges by appending
the later texts to the first output *in place*, and then saves the executed notebook
(``_build/jupyter_execute``, which the book also publishes for download) with the merged first
output and the later ones still there: a line printed in a second message appears twice.

This extension makes myst-nb merge copies instead, so the page shows one block, and joins
consecutive texts of the same stream in the saved notebook (same text, same order): how the
kernel happened to split a slow cell's output no longer reaches the download, whose link is
named by a hash of the file, so two clean builds give the same pages.
"""

from __future__ import annotations

import copy

import myst_nb.core.render as render
from sphinx.application import Sphinx

_coalesce_in_place = render.coalesce_streams


def join_consecutive_streams(outputs: list) -> list:
    """`outputs` with each run of consecutive texts of one stream joined into one output."""
    joined = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and output["output_type"] == previous["output_type"] == "stream"
            and output["name"] == previous["name"]
        ):
            previous["text"] += output["text"]
        else:
            joined.append(copy.deepcopy(output))
    return joined


def coalesce_copies(outputs):
    """myst-nb's stream merging for the page, applied to copies of the outputs; the saved
    notebook's list gets its consecutive stream texts joined (:func:`join_consecutive_streams`).
    """
    outputs[:] = join_consecutive_streams(outputs)
    return _coalesce_in_place([copy.deepcopy(output) for output in outputs])


def setup(app: Sphinx) -> dict:
    render.coalesce_streams = coalesce_copies
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
