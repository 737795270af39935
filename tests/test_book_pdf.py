"""The book as a PDF: built strictly from the HTML builds' executed notebooks, and a real book.

The PDF is built (``jupyter-book build . --builder pdflatex``) in the session's clean copy
(``built_book``) after its HTML build, and in a twin of that copy in another folder, with one
fixed edition date, and checked with poppler's tools (``pdfinfo``, ``pdftotext``, ``pdffonts``) and
pypdf: its size and pages, every chapter, no unresolved reference, every font embedded, every
internal link landing, vector figures, the solutions in their appendix, each chapter's
citation, and the same bytes from both folders.

Needs xelatex, latexmk, xindy and the fonts (``.ci/run`` installs them); without them the tests
skip, and under CI (``CI=true``) they fail.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import (
    PDF_COMMAND,
    PDF_EPOCH,
    ROOT,
    Build,
    edition_env,
    solution_snippets,
    toc_pages,
)

sys.path.insert(0, str(ROOT / "book" / "_ext"))

from rnnbook_editions import INSTRUCTORS_DIRECTIVE  # noqa: E402
from rnnbook_exercises import APPENDIX_TITLE  # noqa: E402

pytestmark = pytest.mark.slow

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
TOOLS = ("xelatex", "latexmk", "xindy", "pdfinfo", "pdftotext", "pdffonts")
PDF = Path("_build") / "latex" / "rnnbook.pdf"
TEX = PDF.with_suffix(".tex")


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"missing {', '.join(missing)} (.ci/run installs the Debian packages)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true: the PDF must be built")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pdf_builds(built_book, tmp_path_factory):
    """The PDF of the clean copy and of a twin of it in another folder, dated PDF_EPOCH.

    The twin is copied after the HTML build, with its executed notebooks: the two PDFs come from
    the same executions, so comparing them tests the PDF build itself (two clean builds that
    execute the chapters twice are compared by tests/test_build_reproducible.py).
    Returns [(src, result, seconds)].
    """
    require_tools()
    src, result = built_book
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    twin = tmp_path_factory.mktemp("book-twin") / "src"
    shutil.copytree(src, twin, ignore=shutil.ignore_patterns("student", "latex"))
    builds = [Build(path, PDF_COMMAND, edition_env(epoch=PDF_EPOCH)) for path in (src, twin)]
    out = [(b.src, b.result(), b.seconds) for b in builds]
    print(f"\nPDF builds: {', '.join(f'{s:.0f} s' for _, _, s in out)}")
    return out


@pytest.fixture(scope="session")
def pdf(pdf_builds):
    src, result, _ = pdf_builds[0]
    assert result.returncode == 0, result.stdout[-5000:]
    return src


def pdftotext(path: Path, *args: str) -> str:
    run = subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


def flat(text: str) -> str:
    """Text with hyphenation and line breaks undone, for searching phrases."""
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def squash(text: str) -> str:
    """Text without whitespace and with words hyphenated at a line's end joined again."""
    return re.sub(r"\s+", "", re.sub(r"-\n", "", text))


def page_texts(path: Path) -> list[str]:
    return pdftotext(path).split("\f")


# a running head or foot: the book's title line, a page number, a numbered section title
RUNNING = re.compile(
    r"(Recurrent Neural Networks from Scratch, Version \S+|\d+|[A-Z\d]+(\.\d+)*\. .+)"
)


def page_body(text: str) -> str:
    """A page's text without its running head and foot, so that a sentence that goes on
    over a page break reads as one."""
    lines = text.split("\n")
    for end in (0, -1):
        for _ in range(6):
            if lines and (not lines[end].strip() or RUNNING.fullmatch(lines[end].strip())):
                lines.pop(end)
    return "\n".join(lines)


def instructors_page(src: Path, docname: str) -> bool:
    """Whether the page holds the instructors' exercise list (the PDF's solutions appendix)."""
    return f"{{{INSTRUCTORS_DIRECTIVE}}}" in (src / f"{docname}.md").read_text()


def html_title(src: Path, docname: str) -> str:
    page = (src / "_build" / "html" / f"{docname}.html").read_text()
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
    return flat(html.unescape(re.sub(r"<[^>]+>", "", h1)).replace("#", ""))


def test_pdf_builds_strictly_from_the_executed_notebooks(pdf_builds):
    for src, result, _ in pdf_builds:
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-5000:]
        warnings = [line for line in log.splitlines() if "WARNING" in line]
        assert not warnings, warnings[:20]
        assert "Executing notebook" not in log, "the HTML build's executed notebooks are current"
        assert (src / PDF).is_file()
        latex_log = (src / PDF).with_suffix(".log").read_text(errors="replace")
        undefined = re.findall(r"(?:Reference|Citation) `[^']*' on page \d+ undefined", latex_log)
        assert not undefined, undefined[:10]
        # xelatex drops a character its font lacks with only this line in its log
        lacking = r"Missing character: There is no (.+?) in font"
        missing = sorted(set(re.findall(lacking, latex_log)))
        assert not missing, f"characters the PDF's fonts lack: {missing[:10]}"


def test_pdf_is_the_same_twice(pdf_builds):
    """Two builds in two folders, one edition date: the same bytes."""
    (a, ra, _), (b, rb, _) = pdf_builds
    assert ra.returncode == rb.returncode == 0
    digests = [hashlib.sha256((path / PDF).read_bytes()).hexdigest() for path in (a, b)]
    if digests[0] != digests[1]:
        tex = [(path / TEX).read_text().splitlines() for path in (a, b)]
        differ = [(x, y) for x, y in zip(*tex) if x != y]
        pytest.fail(f"the PDFs differ; the .tex files differ in {len(differ)} lines: {differ[:3]}")


def test_title_page_chapters_and_references(pdf):
    path = pdf / PDF
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages >= 100, info
    texts = page_texts(path)
    title_page = flat(texts[0])
    assert "Recurrent Neural Networks from Scratch" in title_page
    assert f"Version {VERSION}" in title_page and "2026-01-01" in title_page, title_page
    everything = flat(" ".join(texts))
    for docname in toc_pages(pdf, root=True):
        # the instructors' exercise list becomes the solutions appendix
        title = APPENDIX_TITLE if instructors_page(pdf, docname) else html_title(pdf, docname)
        assert title.lower() in everything.lower(), docname
    for number, docname in enumerate(toc_pages(pdf, numbered_only=True), start=1):
        assert f"Chapter {number}. {html_title(pdf, docname)}" in everything, docname
    assert "??" not in everything, "an unresolved reference"


def test_every_font_is_embedded(pdf):
    run = subprocess.run(["pdffonts", str(pdf / PDF)], capture_output=True, text=True)
    rows = run.stdout.splitlines()[2:]
    assert rows, run.stdout
    not_embedded = [row for row in rows if row.split()[-5] != "yes"]
    assert not not_embedded, not_embedded


def test_every_internal_link_lands(pdf):
    from pypdf import PdfReader

    reader = PdfReader(pdf / PDF)
    named = set(reader.named_destinations)
    internal, broken = 0, []
    for number, page in enumerate(reader.pages, start=1):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            dest = annot.get("/Dest")
            if action is not None and action.get_object().get("/S") == "/GoTo":
                dest = action.get_object().get("/D")
            if dest is None:
                continue
            internal += 1
            if isinstance(dest, str) and dest not in named:
                broken.append((number, dest))
    assert internal > 500, internal  # cross-references, citations, the contents
    assert not broken, broken[:20]


def test_figures_are_vectors(pdf):
    tex = (pdf / TEX).read_text()
    graphics = re.findall(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{([^}]*)\}(\.\w+)\}", tex)
    assert graphics, "no figure"
    raster = sorted(name + ext for name, ext in graphics if ext != ".pdf")
    assert not raster, f"figures the kernels drew without a PDF version: {raster}"


HTML_FIGURE = re.compile(r'<figure\b[^>]*\bid="([^"]+)"')
TEX_FIGURE = re.compile(r"\\begin\{figure\}(.*?)\\end\{figure\}", re.S)
TEX_LABEL = re.compile(r"\\label\{\\detokenize\{([^}]+)\}\}")


def test_every_figure_of_the_html_is_in_the_pdf(pdf):
    """Each page's figures (interactive ones by their static version) are figures in the PDF.

    Compared by label (``docname:name``), so a figure the LaTeX builder could not render (an
    output without a PDF or image version) or a page left out of the PDF shows up here.
    """
    html_root = pdf / "_build" / "html"
    in_html = {
        f"{docname}:{name}"
        for docname in toc_pages(pdf, root=True)
        for name in HTML_FIGURE.findall((html_root / f"{docname}.html").read_text())
        if not instructors_page(pdf, docname)
    }
    assert in_html, "no figure in the HTML"
    in_pdf, empty = set(), []
    for body in TEX_FIGURE.findall((pdf / TEX).read_text()):
        labels = TEX_LABEL.findall(body)
        in_pdf.update(labels)
        if "\\sphinxincludegraphics" not in body:
            empty += labels
    assert sorted(in_html - in_pdf) == [], "figures of the HTML missing from the PDF"
    assert not empty, f"figures without their image in the PDF: {empty}"


def test_solutions_are_gathered_in_an_appendix(pdf):
    texts = page_texts(pdf / PDF)
    listing = (pdf / "_build" / "html" / "book" / "exercises.html").read_text()
    n_solutions = len(re.findall(r'<div class="solution[ "]', listing))
    assert n_solutions > 0
    # the heading of an appendix is its letter above its title
    heading = re.compile(rf"^[A-Z]\s+{APPENDIX_TITLE.upper()}$", re.M)
    found = [i for i, text in enumerate(texts) if heading.search(text)]
    assert len(found) == 1, f"the solutions appendix starts on pages {found}"
    appendix = found[0]
    bodies = [page_body(text) for text in texts]
    before, after = " ".join(bodies[:appendix]), " ".join(bodies[appendix:])
    assert flat(before).count("Solution on page") == n_solutions
    # (an exercise without a title, as in the Performance appendix, has no parenthesis)
    assert len(re.findall(r"Solution to Exercise [\dA-Z.]*\d\b", flat(after))) >= n_solutions
    snippets = [
        snippet
        for docname in toc_pages(pdf, numbered_only=True)
        for snippet in solution_snippets((pdf / "_build" / "html" / f"{docname}.html").read_text())
    ]
    assert len(snippets) >= n_solutions // 2
    before, after = squash(before), squash(after)
    moved = [s for s in snippets if squash(s) in after and squash(s) not in before]
    assert moved == snippets, sorted(set(snippets) - set(moved))[:5]


def test_every_chapter_ends_with_its_citation(pdf):
    text = flat(pdftotext(pdf / PDF))
    chapters = toc_pages(pdf, numbered_only=True)
    assert text.count("Cite this chapter") == len(chapters)
    for docname in chapters:
        key = "@incollection{rnnbook-" + docname.rsplit("/", 1)[-1] + ","
        assert text.count(key) >= 2, docname  # at the chapter's end and on "How to cite"


def test_every_chapter_page_links_to_the_pdf(built_book):
    """Every page's download menu points to rnnbook.pdf; a chapter's citation box too."""
    src, _ = built_book
    html_root = src / "_build" / "html"
    chapters = toc_pages(src, numbered_only=True)
    for docname in toc_pages(src, root=True):
        page = (html_root / f"{docname}.html").read_text()
        depth = docname.count("/")
        href = "../" * depth + PDF.name
        assert page.count(f'href="{href}"') >= (2 if docname in chapters else 1), docname
        assert "window.print()" not in page, "the menu offers the book's PDF, not a printout"
