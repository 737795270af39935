import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import yaml

import rnnbook as rb


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def make_problem(rng, B=3, T=5, D=2, H=4, O=2, dtype=np.float64):
    """Random parameters (biases non-zero), inputs, targets and h0 of the given sizes."""
    params = rb.init_params(D, H, O, scheme="xavier_normal", rng=rng, dtype=dtype)
    params.b_h[:] = rng.normal(size=H)
    params.b_y[:] = rng.normal(size=O)
    x = rng.normal(size=(B, T, D)).astype(dtype)
    target = rng.normal(size=(B, T, O)).astype(dtype)
    h0 = rng.normal(size=(B, H)).astype(dtype)
    return params, x, target, h0


# ---------------------------------------------------------------------------------------------
# The book, built once per test session from a clean copy of the sources.

ROOT = Path(__file__).resolve().parents[1]
BUILD_COMMAND = ["build", ".", "-W", "-n", "--keep-going"]


def copy_sources(dest: Path) -> Path:
    """Copy the project as a clean clone would have it: no _build, no caches, no dot folders."""
    ignore = shutil.ignore_patterns("_build", ".*", "__pycache__", "*.egg-info", "venv")
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def build_book(
    src: Path, command: list[str] = BUILD_COMMAND, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the strict build, ``jupyter-book build . -W -n --keep-going``, in `src`.

    `command` replaces the arguments after ``jupyter-book``; `env` the environment.
    """
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run(
        [str(jupyter_book), *command],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
    )


class Build:
    """``jupyter-book`` started in the background in `src`; ``result()`` waits for it.

    Output and errors are captured together (as ``stdout``). Two builds in the background use
    the two cores of a CI machine: Sphinx and the chapters' kernels use one each.
    """

    def __init__(self, src: Path, command: list[str] = BUILD_COMMAND, env: dict | None = None):
        self.src, self.args = src, [str(Path(sys.executable).with_name("jupyter-book")), *command]
        self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._started = time.perf_counter()
        self.process = subprocess.Popen(
            self.args, cwd=src, stdout=self._log, stderr=subprocess.STDOUT, text=True, env=env
        )
        self._result: subprocess.CompletedProcess | None = None
        self.seconds: float | None = None

    def result(self, timeout: float = 1800) -> subprocess.CompletedProcess:
        if self._result is None:
            code = self.process.wait(timeout=timeout)
            self.seconds = time.perf_counter() - self._started
            self._log.seek(0)
            self._result = subprocess.CompletedProcess(self.args, code, self._log.read(), "")
            self._log.close()
        return self._result


def failure(result: subprocess.CompletedProcess, tail: int = 3000) -> str:
    """A failed build's log for an assertion message: its first traceback, and its end."""
    log = result.stdout + result.stderr
    first = log.find("Traceback")
    head = log[max(first - 2000, 0) : first + 4000] + "\n...\n" if first >= 0 else ""
    return head + log[-tail:]


def uses_fixture(request, name: str) -> bool:
    """Whether a test of this session asks for the fixture `name`."""
    return any(name in getattr(item, "fixturenames", ()) for item in request.session.items)


_background: dict[str, Build] = {}


@pytest.fixture(scope="session")
def built_book(request, tmp_path_factory):
    """A clean strict build of the book: (source copy, completed process).

    When the session also needs ``second_built_book``, that build starts now, beside this one.
    """
    src = copy_sources(tmp_path_factory.mktemp("book") / "src")
    if uses_fixture(request, "second_built_book") and "second" not in _background:
        _background["second"] = Build(copy_sources(tmp_path_factory.mktemp("book-b") / "src"))
    build = Build(src)
    result = build.result()
    print(f"\nclean build of the book: {build.seconds:.0f} s")
    return src, result


@pytest.fixture(scope="session")
def second_built_book(built_book, tmp_path_factory):
    """A second clean strict build, in another folder: (source copy, completed process)."""
    build = _background.pop("second", None)
    if build is None:
        build = Build(copy_sources(tmp_path_factory.mktemp("book-b") / "src"))
    return build.src, build.result()


# ---------------------------------------------------------------------------------------------
# Editions: the PDF (``--builder pdflatex``) and the student edition (``RNNBOOK_EDITION``).

PDF_COMMAND = [*BUILD_COMMAND, "--builder", "pdflatex"]
#: The student edition's output folder (``--path-output``), as the README builds it.
STUDENT_PATH = "_build/student"
#: A fixed edition date (2026-01-01 UTC), so that two PDF builds can be compared byte for byte.
PDF_EPOCH = "1767225600"


def edition_env(edition: str = "full", epoch: str | None = None) -> dict:
    """The environment of a build of `edition`, dated `epoch` (SOURCE_DATE_EPOCH) if given."""
    env = {**os.environ, "RNNBOOK_EDITION": edition}
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    return env


def toc_pages(src: Path, numbered_only: bool = False, root: bool = False) -> list[str]:
    """Docnames of the chapters in ``src/_toc.yml``, in book order.

    `numbered_only`: only the chapters of numbered parts; `root`: the root page first.
    """
    toc = yaml.safe_load((src / "_toc.yml").read_text())
    pages = [toc["root"]] if root else []
    for part in toc["parts"]:
        if part.get("numbered") or not numbered_only:
            pages += [c["file"] for c in part["chapters"]]
    return pages


class _SolutionText(HTMLParser):
    """The prose inside ``<div class="solution ...">`` elements of an HTML page.

    Code and the solutions' titles (which repeat the exercise's title) are left out; where they
    were, a ``|`` keeps words on either side from running together.
    """

    SKIPPED = ("pre", "code", "script", "style")

    def __init__(self):
        super().__init__()
        self.depth, self.parts, self.solutions = 0, [], []
        self.skip: list[str] = []  # open tags whose text is left out

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in self.SKIPPED or (tag == "p" and "admonition-title" in classes):
            self.skip.append(tag)
            self.parts.append(" | ")
        if tag != "div":
            return
        if self.depth:
            self.depth += 1
        elif "solution" in classes:
            self.depth, self.parts = 1, []

    def handle_endtag(self, tag):
        if self.skip and tag == self.skip[-1]:
            self.skip.pop()
            self.parts.append(" | ")
        if tag == "div" and self.depth:
            self.depth -= 1
            if not self.depth:
                self.solutions.append(" ".join(self.parts))

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.parts.append(data)


def solution_snippets(page: str) -> list[str]:
    """One distinctive run of plain words from each solution of an HTML page."""
    parser = _SolutionText()
    parser.feed(page)
    snippets = []
    for text in parser.solutions:
        runs = re.findall(r"[A-Za-z][A-Za-z ,;']{24,}[A-Za-z]", re.sub(r"\s+", " ", text))
        if runs:
            snippets.append(max(runs, key=len))
    return snippets
