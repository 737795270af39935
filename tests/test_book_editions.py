"""The student edition has no solution anywhere; the full edition has all of them, in the HTML
and in the PDF, for both forms of solutions (``{solution}`` and the gated
``{solution-start}`` ... code cells ... ``{solution-end}``).

- Fast tests: the text functions that take solutions out of MyST sources and notebooks.
- A small test book (``tests/fixtures/editions``: two chapters, both forms, an exercise list)
  built in both editions, in HTML and as PDF: every marker of a solution's text, code or output
  is in the full edition and nowhere in the student edition's files.
- The real book's student edition, built from the session's clean copy (``built_book``) the
  way the README builds it: strict, nothing executed again, no solution text of the full edition
  anywhere, exercises numbered as in the full edition, the exercise list left out and nothing
  linking to it.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import (
    BUILD_COMMAND,
    PDF_COMMAND,
    ROOT,
    STUDENT_PATH,
    Build,
    edition_env,
    solution_snippets,
    toc_pages,
)

sys.path.insert(0, str(ROOT / "book" / "_ext"))

import rnnbook_editions  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "editions"
SOLUTION_MARKERS = (
    "PLAIN-SOLUTION-TEXT",
    "PLAIN-SOLUTION-NESTED",
    "PLAIN-SOLUTION-NOTE",
    "GATED-SOLUTION-TEXT",
    "GATED-SOLUTION-OUTPUT",
    "GATED-SOLUTION-AFTER",
    "APPENDIX-SOLUTION-TEXT",
)
KEPT_MARKERS = ("PROSE-AFTER-PLAIN", "PROSE-AFTER-GATED", "CHAPTER-OUTPUT")
#: The solutions appendix's heading in the PDF's text (a chapter, or an appendix).
APPENDIX_HEADING = re.compile(r"(?:CHAPTER|APPENDIX)\s+\S+\s+SOLUTIONS TO THE EXERCISES")


# --- fast: MyST sources and notebooks without their solutions --------------------------------

MYST = """\
# A chapter

```{exercise} One
:label: ex-one
Statement one.
```

````{solution} ex-one
:class: dropdown
Plain answer.

```{note}
A nested note.
```
````

```{solution-start} ex-two
:class: dropdown
```

Gated text.

```{code-cell} ipython3
print("gated code")
```

```{solution-end}
```

Prose that stays.
"""


def test_strip_solutions_removes_both_forms_and_keeps_the_rest():
    text = rnnbook_editions.strip_solutions(MYST)
    for gone in ("Plain answer", "nested note", "Gated text", "gated code", "solution"):
        assert gone not in text, gone
    for kept in ("# A chapter", "Statement one.", "Prose that stays."):
        assert kept in text, kept
    assert text.count("```") % 2 == 0


def test_notebook_without_solutions_drops_the_gated_cells():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(MYST.split("```{code-cell}")[0]),
            nbformat.v4.new_code_cell('print("gated code")'),
            nbformat.v4.new_markdown_cell("```{solution-end}\n```\n\nProse that stays."),
            nbformat.v4.new_code_cell('print("chapter code")'),
        ]
    )
    out = rnnbook_editions.without_solutions(nb)
    sources = [cell.source for cell in out.cells]
    assert [c.cell_type for c in out.cells] == ["markdown", "markdown", "code"]
    assert "Statement one." in sources[0] and "Plain answer" not in sources[0]
    assert "Gated text" not in sources[0] and sources[1].strip() == "Prose that stays."
    assert sources[2] == 'print("chapter code")'


def test_student_edition_leaves_the_instructors_pages_out_of_the_toc(tmp_path):
    from types import SimpleNamespace

    from sphinx_external_toc.parsing import parse_toc_yaml

    shutil.copy(FIXTURE / "_toc.yml", tmp_path / "_toc.yml")
    for name in ("intro", "plain", "gated", "appendix"):
        shutil.copy(FIXTURE / f"{name}.md", tmp_path / f"{name}.md")
    shutil.copy(ROOT / "book" / "exercises.md", tmp_path / "exercises.md")
    tags = set()
    config = SimpleNamespace(
        rnnbook_edition_name="student",
        external_site_map=parse_toc_yaml(tmp_path / "_toc.yml"),
        source_suffix={".md": "myst-nb"},
        exclude_patterns=["_build"],
    )
    app = SimpleNamespace(srcdir=str(tmp_path), tags=SimpleNamespace(add=tags.add), config=config)
    rnnbook_editions.leave_out_instructors_pages(app, config)
    assert "exercises" not in config.external_site_map
    files = [f for doc in config.external_site_map.values() for f in doc.child_files()]
    assert files == ["plain", "gated", "appendix"]
    assert config.exclude_patterns == ["_build", "exercises.md"]
    assert config.rnnbook_left_out == {
        "exercises": ("All exercises, for instructors", ["exercise-list"])
    }
    assert tags == {"student"}


# --- helpers --------------------------------------------------------------------------------


def page_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        raw = html.unescape(re.sub(r"<[^>]+>", " ", raw))
    elif path.suffix == ".ipynb":
        nb = json.loads(raw)
        raw = "\n".join("".join(c["source"]) for c in nb["cells"])
        raw += "\n".join(
            "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
            for c in nb["cells"]
            for o in c.get("outputs", [])
        )
    return re.sub(r"\s+", " ", raw)


def text_files(root: Path) -> list[Path]:
    suffixes = {".html", ".js", ".md", ".ipynb", ".txt", ".tex"}
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix in suffixes and "_static" not in p.parts
    ]


EXERCISE_TITLE = re.compile(
    r'<div class="exercise admonition" id="([^"]+)">\s*<p class="admonition-title">'
    r'<span class="caption-number">Exercise ([\d.]+)'
)


def exercise_numbers(html_root: Path) -> dict[str, str]:
    numbers = {}
    for page in sorted(html_root.rglob("*.html")):
        if "exercises" in page.stem:
            continue  # the instructors' list repeats the chapters' exercises
        numbers.update(EXERCISE_TITLE.findall(page.read_text()))
    return numbers


def assert_strict(result) -> None:
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    assert not warnings, warnings[:20]


# --- slow: a small book with both forms, both editions ------------------------------------------

slow = pytest.mark.slow


@pytest.fixture(scope="session")
def fixture_builds(tmp_path_factory):
    """The test book in both editions, HTML then PDF (PDF skipped if TeX is missing)."""
    src = tmp_path_factory.mktemp("editions") / "src"
    shutil.copytree(FIXTURE, src)
    for name in ("_config.yml", "CITATION.cff", "pyproject.toml", "references.bib"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "book" / "_ext", src / "book" / "_ext")
    shutil.copytree(ROOT / "book" / "_latex", src / "book" / "_latex")
    shutil.copy(ROOT / "book" / "exercises.md", src / "exercises.md")
    out = {}
    full = Build(src, BUILD_COMMAND, edition_env("full"))
    out["full"] = full.result()
    student_command = [*BUILD_COMMAND, "--path-output", STUDENT_PATH]
    out["student"] = Build(src, student_command, edition_env("student")).result()
    if shutil.which("xelatex") and shutil.which("latexmk") and shutil.which("pdftotext"):
        pdfs = [
            Build(src, PDF_COMMAND, edition_env("full")),
            Build(src, [*PDF_COMMAND, "--path-output", STUDENT_PATH], edition_env("student")),
        ]
        out["full-pdf"], out["student-pdf"] = (b.result() for b in pdfs)
    return src, out


def fixture_pdf_text(src: Path, student: bool, layout: bool = False) -> str:
    base = src / STUDENT_PATH if student else src
    pdf = base / "_build" / "latex" / "rnnbook.pdf"
    args = ["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"]
    run = subprocess.run(args, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


@slow
def test_both_editions_of_the_test_book_build_strictly(fixture_builds):
    src, out = fixture_builds
    for result in out.values():
        assert_strict(result)
    assert "Executing notebook" not in out["student"].stdout, "one cache for both editions"


@slow
def test_full_edition_has_both_forms_of_solutions(fixture_builds):
    src, _ = fixture_builds
    html_root = src / "_build" / "html"
    chapters = "".join(page_text(html_root / f"{n}.html") for n in ("plain", "gated", "appendix"))
    listing = page_text(html_root / "exercises.html")
    for marker in SOLUTION_MARKERS:
        assert marker in chapters, marker
        assert marker in listing, f"{marker} missing from the exercise list"
    assert "Exercise 2.1" in listing and "Exercise 1.2" in listing


@slow
def test_student_edition_of_the_test_book_has_no_solution(fixture_builds):
    src, _ = fixture_builds
    full, student = src / "_build" / "html", src / STUDENT_PATH / "_build" / "html"
    files = text_files(student)
    assert any(p.suffix == ".ipynb" for p in files) and any(p.suffix == ".md" for p in files)
    for path in files:
        text = page_text(path)
        for marker in SOLUTION_MARKERS:
            assert marker not in text, f"{marker} in {path.relative_to(student)}"
    pages = page_text(student / "plain.html") + page_text(student / "gated.html")
    for marker in KEPT_MARKERS:
        assert marker in pages, marker
    assert exercise_numbers(student) == exercise_numbers(full)
    assert len(exercise_numbers(full)) == 5
    assert not (student / "exercises.html").exists()
    for page in student.rglob("*.html"):
        assert "exercises.html" not in page.read_text(), f"{page.name} links to the list"
    # The reference to a solution stays as text, without a link.
    plain = (student / "plain.html").read_text()
    assert "sol-plain-square" not in plain
    assert "The answer is in the solution to Exercise 1.1" in page_text(student / "plain.html")
    assert "Instructors find" not in page_text(student / "intro.html")
    # The gated solution's figure is not published; the chapter's is.
    assert len(list((student / "_images").glob("*.png"))) < len(
        list((full / "_images").glob("*.png"))
    )


@slow
def test_pdf_editions_of_the_test_book(fixture_builds):
    src, out = fixture_builds
    if "full-pdf" not in out:
        pytest.skip("TeX is not installed (.ci/run installs it)")
    full = fixture_pdf_text(src, student=False)
    student = fixture_pdf_text(src, student=True)
    appendix = re.search(APPENDIX_HEADING, full).start()
    for marker in SOLUTION_MARKERS:
        assert marker in full[appendix:], marker
        assert marker not in full[:appendix], f"{marker} before the appendix"
        assert marker not in student, marker
    assert full.count("Solution on page") == 4
    for marker in KEPT_MARKERS:
        assert marker in full and marker in student, marker
    assert "Solution on page" not in student and "Solutions to the exercises" not in student
    assert "student edition" in student
    # A line of exactly 79 columns of code is not wrapped.
    line = next(ln for ln in (FIXTURE / "plain.md").read_text().splitlines() if "WIDTH-79" in ln)
    assert len(line) == 79
    layout = fixture_pdf_text(src, student=False, layout=True)
    assert " ".join(line.split()) in [" ".join(ln.split()) for ln in layout.splitlines()]


# --- slow: the real book's student edition --------------------------------------------------------


@pytest.fixture(scope="session")
def student_book(built_book):
    """The student edition of the session's clean copy, as the README builds it."""
    src, result = built_book
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    command = [*BUILD_COMMAND, "--path-output", STUDENT_PATH]
    build = Build(src, command, edition_env("student"))
    return src, build.result()


@slow
def test_student_edition_builds_strictly_without_executing(student_book):
    src, result = student_book
    assert_strict(result)
    assert "Executing notebook" not in result.stdout, "the full edition's notebooks are reused"


@slow
def test_student_edition_has_no_solution_text_and_the_full_one_does(student_book):
    src, _ = student_book
    full, student = src / "_build" / "html", src / STUDENT_PATH / "_build" / "html"
    snippets = []
    for docname in toc_pages(src, numbered_only=True):
        page = (full / f"{docname}.html").read_text()
        found = solution_snippets(page)
        assert found, f"{docname}: no solution text found in the full edition"
        text = page_text(full / f"{docname}.html")
        assert all(s in text for s in found), docname
        snippets += found
    for path in text_files(student):
        text = page_text(path)
        present = [s for s in snippets if s in text]
        assert not present, f"{path.relative_to(student)}: {present[:3]}"


@slow
def test_student_edition_numbers_exercises_as_the_full_one(student_book):
    src, _ = student_book
    full, student = src / "_build" / "html", src / STUDENT_PATH / "_build" / "html"
    numbers = exercise_numbers(full)
    assert numbers and exercise_numbers(student) == numbers


@slow
def test_student_edition_leaves_out_the_instructors_list(student_book):
    src, _ = student_book
    student = src / STUDENT_PATH / "_build" / "html"
    assert not (student / "book" / "exercises.html").exists()
    for page in student.rglob("*.html"):
        text = page.read_text()
        assert "exercises.html" not in text, f"{page.name} links to the exercise list"
        assert 'class="solution' not in text, page.name
    assert "student edition" in page_text(student / "book" / "intro.html")
