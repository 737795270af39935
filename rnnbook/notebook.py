"""Glue computed values into the book's prose, with or without the book machinery.

In the book, :func:`glue` hands a value to myst-nb so that the prose can show
it with ``{glue:text}`` and every number is computed by the build. In a
chapter downloaded as a notebook and run with only ``pip install rnnbook``,
myst-nb may be missing; then :func:`glue` prints the value instead, so the
notebook still runs top to bottom and shows the same numbers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
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


def source_sha256(path: str | Path) -> str:
    """SHA-256 of a source file, or of every ``*.py`` file under a package folder.

    Stored with a measurement, it tells later builds whether the code they run is the
    code that was measured (see :func:`measured_with`).
    """
    path = Path(path)
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*.py")):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def measured_with(stored: dict, code: str | Path, name: str) -> str:
    """Where and with which code stored timings were measured, as a phrase for the prose.

    Timings change from run to run and the book's pages must not, so chapters read times
    that a script in ``benchmarks/`` measured and stored with the date, the machine
    (``stored["date"]``, ``["cpus"]``, ``["cpu"]``) and ``stored["sha256"]``, the
    :func:`source_sha256` of `code`; `name` is how the prose calls that code.
    """
    same = stored["sha256"] == source_sha256(code)
    return (
        f"measured on {stored['date']} on a {stored['cpus']}-core {stored['cpu']}, with "
        + (f"the same {name} as this page" if same else
           f"an earlier version of {name} than this page's (rerun the script)")
    )  # fmt: skip
