"""Glue computed values into the book's prose, with or without the book machinery.

In the book, :func:`glue` hands a value to myst-nb so that the prose can show
it with ``{glue:text}`` and every number is computed by the build. In a
chapter downloaded as a notebook and run with only ``pip install rnnbook``,
myst-nb may be missing; then :func:`glue` prints the value instead, so the
notebook still runs top to bottom and shows the same numbers.
"""

from __future__ import annotations

from typing import Any

try:  # pragma: no cover - which branch runs depends on what is installed
    from myst_nb import glue as _myst_glue
except ImportError:  # pragma: no cover
    _myst_glue = None


def glue(name: str, value: Any, display: bool = False) -> Any:
    """Store `value` under `name` for the book (or print it outside the book).

    Returns `value`, so ``x = glue("x", compute())`` reads naturally.
    """
    if _myst_glue is not None:
        _myst_glue(name, value, display=display)
    else:
        print(f"{name} = {value}")
    return value
