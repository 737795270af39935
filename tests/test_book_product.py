"""The built book serves its readers: citable, downloadable, with exercises and an API reference.

Fast tests check the book extensions' logic (book/_ext); slow ones check the clean build
(the session fixture ``built_book``) and run one chapter's published notebook in a plain kernel
with the book machinery hidden.
"""

from __future__ import annotations

import html
import inspect
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import toc_pages

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import rnnbook_meta  # noqa: E402

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


# --- fast: the extensions' logic -------------------------------------------------------------


def test_citation_cff_is_the_single_source_of_title_and_authors():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["title"] == config["title"]
    assert [a.get("name") for a in cff["authors"]] == [config["author"]]
    # Version and date come from pyproject.toml and the build, never typed here.
    assert "version" not in cff and "date-released" not in cff


def test_edition_date_is_deterministic(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "1.2.3"\n')
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert rnnbook_meta.edition_date(tmp_path) == "2023-11-14"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    os.utime(tmp_path / "pyproject.toml", (1600000000, 1600000000))
    assert rnnbook_meta.edition_date(tmp_path) == "2020-09-13"  # newest source, not "now"


def test_repository_url_and_launch_links(monkeypatch):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    assert rnnbook_meta.repository_url({}) == ""
    project = {"urls": {"Repository": "https://github.com/Org/rnn-book/"}}
    assert rnnbook_meta.repository_url(project) == "https://github.com/Org/rnn-book"
    monkeypatch.setenv("GITHUB_REPOSITORY", "someone/fork")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    assert rnnbook_meta.repository_url({}) == "https://github.com/someone/fork"
    assert (
        rnnbook_meta.pages_url("https://github.com/Org/rnn-book")
        == "https://org.github.io/rnn-book/"
    )
    assert rnnbook_meta.pages_url("https://gitlab.com/a/b") == ""

    import rnnbook_notebooks

    meta = rnnbook_meta.BookMeta(title="T", repository="https://github.com/Org/rnn-book")
    links = rnnbook_notebooks.launch_links(meta, "book/bptt", "book/bptt.md")
    assert links["Binder"] == (
        "https://mybinder.org/v2/gh/Org/rnn-book/main?urlpath=lab/tree/book/bptt.md"
    )
    assert links["Colab"] == (
        "https://colab.research.google.com/github/Org/rnn-book/blob/"
        "gh-pages/_sources/book/bptt.ipynb"
    )
    assert rnnbook_notebooks.launch_links(rnnbook_meta.BookMeta(title="T"), "a", "a.md") == {}


def test_bibtex_entries_are_well_formed():
    import rnnbook_cite

    meta = rnnbook_meta.BookMeta(
        title="A Book",
        authors=[{"name": "The authors"}, {"given-names": "Ada", "family-names": "Lovelace"}],
        version="0.2.0",
        date="2026-01-31",
    )
    book = rnnbook_cite.book_bibtex(meta)
    assert book.startswith("@book{rnnbook,") and book.endswith("}")
    assert "author  = {{The authors} and Lovelace, Ada}" in book
    assert "url" not in book  # no public URL known: no empty field
    chapter = rnnbook_cite.chapter_bibtex(meta, "book/bptt", "2", "Back 50% & more")
    assert "@incollection{rnnbook-bptt," in chapter
    assert "chapter   = {2}" in chapter and "year      = {2026}" in chapter
    assert chapter.count("{") == chapter.count("}")


def test_figures_use_one_colour_blind_safe_palette():
    import matplotlib as mpl

    import rnnbook as rb

    okabe_ito = [
        "#0072B2",
        "#E69F00",
        "#009E73",
        "#D55E00",
        "#56B4E9",
        "#CC79A7",
        "#F0E442",
        "#000000",
    ]
    assert [c.upper() for c in rb.plots.COLORS] == okabe_ito
    rb.plots.use_style()
    assert [c.upper() for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]] == okabe_ito
    assert mpl.rcParams["image.cmap"] == "viridis"


def test_bars_in_docstrings_are_not_substitutions():
    import rnnbook_api

    lines = ["max_i |a_i - n_i|", "``|x|`` and :math:`|x|`", "x : ndarray | None"]
    rnnbook_api.escape_bars(None, "function", "f", None, {}, lines)
    assert lines == ["max_i \\|a_i - n_i\\|", "``|x|`` and :math:`|x|`", "x : ndarray \\| None"]


# --- slow: the clean build ---------------------------------------------------------------------

slow = pytest.mark.slow


def chapter_key(docname: str) -> str:
    return "rnnbook-" + docname.rsplit("/", 1)[-1]


def html_of(src: Path, docname: str) -> str:
    return (src / "_build" / "html" / f"{docname}.html").read_text()


def text_of(src: Path, docname: str) -> str:
    """The page's text, without tags (code is split into highlighted spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_of(src, docname)))


@slow
def test_how_to_cite_lists_the_book_and_every_chapter(built_book):
    src, _ = built_book
    page = text_of(src, "book/how-to-cite")
    assert "@book{rnnbook," in page
    assert f"version = {{{VERSION}}}" in page
    for docname in toc_pages(src, numbered_only=True):
        assert f"@incollection{{{chapter_key(docname)}," in page, docname
    built = yaml.safe_load((src / "_build" / "html" / "CITATION.cff").read_text())
    assert built["version"] == VERSION
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(built["date-released"]))


@slow
def test_every_chapter_ends_with_cite_box_and_downloads(built_book):
    src, _ = built_book
    out = src / "_build" / "html"
    for docname in toc_pages(src, numbered_only=True):
        page = html_of(src, docname)
        assert "Cite this chapter" in page and "rnnbook-cite" in page, docname
        assert f"@incollection{{{chapter_key(docname)}," in text_of(src, docname)
        assert "Run this chapter yourself" in page, docname
        for href in re.findall(r'class="reference download" href="([^"]+)"', page):
            target = (out / docname).parent / href
            assert target.is_file(), (docname, href)
        nb = json.loads((out / "_sources" / f"{docname}.ipynb").read_text())
        assert nb["cells"][0]["cell_type"] == "markdown"
        assert f"version {VERSION}" in "".join(nb["cells"][0]["source"])
        assert any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), docname
        assert [c["id"] for c in nb["cells"]] == [f"cell-{i}" for i in range(len(nb["cells"]))]


EXERCISE = re.compile(r'<div class="exercise admonition" id="([^"]+)"')
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


@slow
def test_exercise_list_has_every_exercise_and_its_solution(built_book):
    src, _ = built_book
    listing = html_of(src, "book/exercises")
    in_chapters = []
    chapters = set(toc_pages(src, numbered_only=True))
    for docname in toc_pages(src, numbered_only=False):  # appendices list theirs too
        if docname == "book/exercises":
            continue
        page = html_of(src, docname)
        labels = EXERCISE.findall(page)
        assert labels or docname not in chapters, f"{docname} has no exercise"
        assert page.count('<div class="solution dropdown admonition"') >= len(labels), (
            f"{docname}: every exercise needs a solution hidden in a dropdown"
        )
        in_chapters += labels
    assert EXERCISE.findall(listing) == in_chapters  # all of them, in book order
    assert listing.count("Solution to") >= len(in_chapters)


@slow
def test_bibliography_lists_exactly_the_cited_works(built_book):
    src, _ = built_book
    cited = set()
    for docname in toc_pages(src, root=True):
        for keys in CITE.findall((src / f"{docname}.md").read_text()):
            cited.update(k.strip() for k in keys.split(","))
    entries = re.findall(
        r'<div class="citation" id="[^"]+" role="listitem">', html_of(src, "book/bibliography")
    )
    assert len(entries) == len(cited), sorted(cited)


@slow
def test_api_reference_documents_the_public_api(built_book):
    import rnnbook as rb

    src, _ = built_book
    page = html_of(src, "book/api")
    objects = [getattr(rb, name) for name in rb.__all__]
    missing = [
        obj.__name__
        for obj in objects
        if not inspect.ismodule(obj) and f'id="{obj.__module__}.{obj.__name__}"' not in page
    ]
    assert not missing, missing
    # Code shown in a chapter links to its API entry.
    chapter = html_of(src, "book/hidden-state")
    assert 'href="api.html#rnnbook.rnn.forward"' in chapter


@slow
def test_downloaded_notebook_runs_without_the_book_machinery(built_book, tmp_path):
    """The published notebook of one chapter runs top to bottom in a plain kernel.

    myst_nb, sphinx and jupyter_book are hidden from the kernel (stub packages that raise
    ImportError come first on its path), so rnnbook.notebook.glue falls back to printing.
    """
    src, _ = built_book
    notebook = src / "_build" / "html" / "_sources" / "book" / "hidden-state.ipynb"
    stubs = tmp_path / "stubs"
    for name in ("myst_nb", "sphinx", "jupyter_book"):
        (stubs / name).mkdir(parents=True)
        (stubs / name / "__init__.py").write_text(f"raise ImportError('{name} is hidden')\n")
    env = {**os.environ, "PYTHONPATH": str(stubs), "MPLBACKEND": "Agg"}
    script = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "NotebookClient(nb, timeout=120, kernel_name='python3').execute()\n"
        "print('\\n'.join(o.get('text', '') for c in nb.cells if c.cell_type == 'code'"
        " for o in c.get('outputs', []) if o.get('name') == 'stdout'))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(notebook)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "n_params = 305" in run.stdout  # glue printed instead of pasted
