"""Builds are trustworthy: two clean builds agree byte for byte, and a cache is never stale.

Both are slow (they build the book) and run in CI with the rest of ``pytest``.
"""

import json
import os
import re
from pathlib import Path

import pytest
from conftest import build_book, copy_sources, failure

pytestmark = pytest.mark.slow

# Files of _build/html that may differ between two clean builds of the same sources, and why.
MAY_DIFFER = {
    ".buildinfo": (
        "Sphinx's bookkeeping for incremental builds, not content: a hash of the configuration, "
        "which holds the absolute path of the jupyter-cache folder (book/_ext/rnnbook_freshness.py)"
    ),
}


def _merge_streams(notebook: bytes) -> bytes:
    """A published .ipynb with consecutive stream outputs merged.

    A kernel sends printed text as one or several messages depending on timing, so the same
    output can be one stream entry or two; the HTML merges them (nb_merge_streams in
    _config.yml), the published notebook keeps the kernel's split.
    """
    nb = json.loads(notebook)
    for cell in nb["cells"]:
        merged = []
        for out in cell.get("outputs", []):
            prev = merged[-1] if merged else None
            if (
                prev
                and out["output_type"] == prev["output_type"] == "stream"
                and (out["name"] == prev["name"])
            ):
                text = "".join(prev["text"]) + "".join(out["text"])
                prev["text"] = text.splitlines(keepends=True)
            else:
                merged.append(out)
        if "outputs" in cell:
            cell["outputs"] = merged
    return json.dumps(nb, sort_keys=True).encode()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_two_clean_builds_are_byte_identical(built_book, second_built_book):
    """Every page and image of a second clean build (another folder) equals the first's."""
    src_a, result_a = built_book
    assert result_a.returncode == 0, failure(result_a)
    src_b, result_b = second_built_book
    assert result_b.returncode == 0, failure(result_b)

    a, b = _files(src_a / "_build" / "html"), _files(src_b / "_build" / "html")
    assert sorted(a) == sorted(b), set(a) ^ set(b)
    assert any(name.startswith("_images/") for name in a), "no images to compare"
    for name in [n for n in a if n.endswith(".ipynb")]:  # the downloadable notebooks
        a[name], b[name] = _merge_streams(a[name]), _merge_streams(b[name])
    differ = sorted(name for name in a if a[name] != b[name] and name not in MAY_DIFFER)
    assert not differ, f"{len(differ)} files differ between two clean builds: {differ[:20]}"


# ---------------------------------------------------------------------------------------------
# Stale cache: jupyter-cache keys notebooks on their cells' source only. book/_ext/
# rnnbook_freshness.py keys the cache on the package source as well; check that an edit to
# the package alone re-executes the chapters, and that without an edit the cache is used.

SMALL_TOC = "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/hidden-state\n"
EXECUTED = "hidden-state.md: Executing notebook"


def _glued_numbers(src: Path) -> list[str]:
    """Every integer the hidden-state page pastes in with ``{glue:text}``."""
    page = (src / "_build" / "html" / "book" / "hidden-state.html").read_text()
    return re.findall(r'<span class="pasted-text">(\d+)</span>', page)


def test_editing_the_package_reexecutes_the_chapters(tmp_path):
    src = copy_sources(tmp_path / "src")
    # Two pages are enough to watch the cache; without the rest of the book, cross-references
    # to other chapters dangle, so this build is not strict (the strict build is tested above).
    (src / "_toc.yml").write_text(SMALL_TOC)
    env = {**os.environ, "PYTHONPATH": str(src)}  # the kernel imports this copy's rnnbook
    command = ["build", ".", "--keep-going"]

    def build() -> str:
        result = build_book(src, command, env)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        return log

    assert EXECUTED in build()
    numbers = _glued_numbers(src)
    assert "305" in numbers and "1305" not in numbers  # 16 + 256 + 16 + 16 + 1 for H = 16

    assert EXECUTED not in build(), "an unchanged package must reuse the cache"

    params = src / "rnnbook" / "params.py"
    old = "return sum(a.size for _, a in self.items())"
    assert old in params.read_text()
    # visible where the page counts H = 16; the exercise that checks the count formula at
    # H = 32 would (rightly) stop the build for any edit that changed its count
    edit = " + (1000 if self.hidden_size == 16 else 0)"
    params.write_text(params.read_text().replace(old, old + edit))
    assert EXECUTED in build(), "editing rnnbook/ must re-execute the chapters"
    assert "1305" in _glued_numbers(src), "the page must show the edited package's result"
    caches = list((src / "_build" / ".jupyter_cache").iterdir())
    assert len(caches) == 1, f"the stale cache should have been removed: {caches}"
