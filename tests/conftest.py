import shutil
import subprocess
import sys
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


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """A clean strict build of the book: (source copy, completed process)."""
    src = copy_sources(tmp_path_factory.mktemp("book") / "src")
    return src, build_book(src)


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
