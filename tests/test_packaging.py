"""Students' ``pip install`` keeps working: the wheel and the sdist build, carry the SPDX license,
install into a fresh virtual environment, and run a chapter's downloaded notebook there.

The wheel and sdist come from ``python -m build`` on a clean copy of the sources (the wheel is
built from the sdist, so the sdist must be complete). The fresh environment gets the wheel and
ipykernel from the package index, nothing else: no repository on its path, no book machinery.
The notebook is the one the built book publishes (``built_book``), run outside the repository
with a kernel of the fresh environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, copy_sources

pytestmark = pytest.mark.slow

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result


def test_pyproject_license_is_an_spdx_expression():
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


@pytest.fixture(scope="session")
def dist(tmp_path_factory):
    """``python -m build`` of a clean copy: the folder with the sdist and the wheel."""
    src = copy_sources(tmp_path_factory.mktemp("package") / "src")
    out = src.parent / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(out), str(src)])
    return out


def test_sdist_and_wheel_carry_the_package_and_its_license(dist):
    name, version = PROJECT["name"], PROJECT["version"]
    (sdist,) = dist.glob(f"{name}-{version}.tar.gz")
    (wheel,) = dist.glob(f"{name}-{version}-py3-none-any.whl")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        pkg_info = tar.extractfile(f"{name}-{version}/PKG-INFO").read().decode()
    assert f"{name}-{version}/LICENSE" in names
    assert f"{name}-{version}/rnnbook/__init__.py" in names
    assert "License-Expression: MIT" in pkg_info and "License-File: LICENSE" in pkg_info
    with zipfile.ZipFile(wheel) as whl:
        files = whl.namelist()
        metadata = whl.read(f"{name}-{version}.dist-info/METADATA").decode()
    package = {Path(f).name for f in files if f.startswith("rnnbook/")}
    assert package == {p.name for p in (ROOT / "rnnbook").glob("*.py")}
    assert f"{name}-{version}.dist-info/licenses/LICENSE" in files
    assert "License-Expression: MIT" in metadata


def test_wheel_runs_a_downloaded_chapter_in_a_fresh_environment(dist, built_book, tmp_path):
    src, result = built_book
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", str(wheel), "ipykernel"])

    # A kernel of the fresh environment, found through JUPYTER_PATH by this test's nbclient.
    spec = tmp_path / "share" / "kernels" / "fresh"
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "fresh", "language": "python"})
    )
    work = tmp_path / "student"  # outside the repository
    work.mkdir()
    notebook = src / "_build" / "html" / "_sources" / "book" / "hidden-state.ipynb"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IPYTHONDIR")}
    env.update(JUPYTER_PATH=str(tmp_path / "share"), MPLBACKEND="Agg")
    script = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nb.cells.append(nbformat.v4.new_code_cell("
        '\'import rnnbook, sys; print("RNNBOOK", rnnbook.__file__); print("PYTHON", sys.prefix)\''
        "))\n"
        "NotebookClient(nb, timeout=300, kernel_name='fresh').execute()\n"
        "print('\\n'.join(o.get('text', '') for c in nb.cells if c.cell_type == 'code'"
        " for o in c.get('outputs', []) if o.get('name') == 'stdout'))\n"
    )
    out = run([sys.executable, "-c", script, str(notebook)], env=env, cwd=work).stdout
    where = dict(line.split(" ", 1) for line in out.splitlines() if line.startswith(("RNN", "PY")))
    assert Path(where["PYTHON"]).resolve() == venv.resolve()
    assert Path(where["RNNBOOK"]).resolve().is_relative_to(venv.resolve())
    assert "n_params = 305" in out  # glue printed instead of pasted (no myst_nb there)
