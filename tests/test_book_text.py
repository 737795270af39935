"""What a reader sees in the built pages: no raw MyST role text, listings that fit 79 columns.

Fast checks of text problems that the strict build does not report. A role such as
{eq}`label` inside a construct that MyST does not parse as Markdown (a line that starts
with "+ " inside inline maths opens a list and breaks the maths) reaches the HTML as
literal text without a warning. And ``chapter-lint`` counts the width of code cells only,
not of the package functions that ``literalinclude`` shows.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html" / "book"
ROLES = r"eq|ref|numref|cite(?::[pt]|:ps)?|glue(?::text|:figure)?|prf:ref|doc|term|download"
LITERAL_ROLE = re.compile(r"\{(" + ROLES + r")\}(`|<code)")

# Chapters whose included listings must fit the text column (every chapter that includes
# a listing), and the chapters that do not yet because their files belong to other work
# in progress (chapter: the reason).
PENDING: dict[str, str] = {}
NARROW_CHAPTERS = tuple(
    sorted(
        page.stem
        for page in (ROOT / "book").glob("*.md")
        if "{literalinclude}" in page.read_text(encoding="utf-8") and page.stem not in PENDING
    )
)
WIDTH = 79


def literal_roles(html: str) -> list[str]:
    """Excerpts of `html` where a MyST role appears as text (code blocks excluded)."""
    text = re.sub(r"<pre.*?</pre>", "", html, flags=re.S)  # listings may show roles
    return [text[max(0, m.start() - 60) : m.end() + 30] for m in LITERAL_ROLE.finditer(text)]


def test_literal_roles_are_found():
    broken = 'which is <span class="math">\\(x\\)</span> {eq}`eq-param-grads`. Using'
    assert literal_roles(broken)
    assert literal_roles("see {ref}<code>ch-bptt</code>")
    assert not literal_roles("<pre>{eq}`eq-x`</pre> and a rendered (1.2)")


@pytest.mark.skipif(not HTML.exists(), reason="no built book (run jupyter-book build .)")
def test_built_pages_show_no_myst_role_text():
    found = {
        page.name: literal_roles(page.read_text(encoding="utf-8")) for page in HTML.glob("*.html")
    }
    found = {name: excerpts for name, excerpts in found.items() if excerpts}
    assert not found, found


def included_objects(chapter: str) -> list[tuple[str, str]]:
    """(path, object name) of every ``literalinclude`` with ``:pyobject:`` in a chapter."""
    text = (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
    pattern = r"```\{literalinclude\} \.\./(\S+)\n:pyobject: (\S+)"
    return re.findall(pattern, text)


def object_lines(path: str, name: str) -> list[str]:
    """The source lines that ``:pyobject: name`` shows (decorators included).

    A dotted name such as ``Adam.step`` is a method ``step`` of the class ``Adam``.
    """
    source = (ROOT / path).read_text(encoding="utf-8")
    lines = source.splitlines()
    body = ast.parse(source).body
    *classes, last = name.split(".")
    for part in classes:
        found = [n for n in body if isinstance(n, ast.ClassDef) and n.name == part]
        if not found:
            raise AssertionError(f"{path} has no class {part} (in {name})")
        body = found[0].body
    for node in body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name == last
        ):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            return lines[first - 1 : node.end_lineno]
    raise AssertionError(f"{path} has no {name}")


def test_object_lines_finds_a_function():
    lines = object_lines("rnnbook/reference.py", "forward")
    assert lines[0].startswith("def forward(") and "return h, y" in lines[-1]


def test_object_lines_finds_a_method():
    lines = object_lines("rnnbook/optim.py", "Adam.step")
    assert lines[0].lstrip().startswith("def step(")
    assert all(line.startswith("    ") or not line for line in lines)


@pytest.mark.parametrize("chapter", NARROW_CHAPTERS)
def test_included_listings_fit_the_text_column(chapter):
    objects = included_objects(chapter)
    assert objects, f"{chapter} includes no listing"
    wide = {
        (path, name): [len(line) for line in object_lines(path, name) if len(line) > WIDTH]
        for path, name in objects
    }
    assert not {k: v for k, v in wide.items() if v}, f"lines wider than {WIDTH}: {wide}"


FIGURE_BLOCK = re.compile(r"^```\{(?:glue:)?figure\}[^\n]*\n(.*?)^```$", re.M | re.S)


def test_figure_options_come_before_the_caption():
    """A directive option after the caption's blank line is printed as caption text."""
    late = {}
    for page in sorted((ROOT / "book").glob("*.md")):
        for block in FIGURE_BLOCK.findall(page.read_text(encoding="utf-8")):
            _, _, caption = block.partition("\n\n")
            options = re.findall(r"^:[a-z]+:", caption, flags=re.M)
            if options:
                late.setdefault(page.name, []).extend(options)
    assert not late, late
