"""The README's commands for the editions are the ones the tests run, and CI installs the TeX
packages the README lists (``.ci/run`` reads them from there)."""

import re

from conftest import BUILD_COMMAND, PDF_COMMAND, ROOT, STUDENT_PATH

README = (ROOT / "README.md").read_text()
SETUP = 'python3 -m venv .venv && .venv/bin/pip install -e ".[book]" && '
JUPYTER_BOOK = ".venv/bin/jupyter-book "


def block(name: str) -> str:
    found = re.search(rf"<!-- {name} -->\s*```bash\n(.*?)\n```\s*<!-- /{name} -->", README, re.S)
    assert found, f"README.md has no {name} block"
    return found.group(1).strip()


def test_pdf_command_is_the_tests_build():
    assert block("pdf-command") == SETUP + JUPYTER_BOOK + " ".join(PDF_COMMAND)


def test_student_command_builds_html_and_pdf_into_its_folder():
    student = f"RNNBOOK_EDITION=student {JUPYTER_BOOK}"
    html = " ".join([*BUILD_COMMAND, "--path-output", STUDENT_PATH])
    pdf = f"{html} --builder pdflatex"
    assert block("student-command") == f"{SETUP}{student}{html} && {student}{pdf}"


def test_ci_installs_the_readme_tex_packages():
    line = block("tex-packages")
    assert line.startswith("sudo apt-get install -y --no-install-recommends ")
    packages = line.split("--no-install-recommends ", 1)[1].split()
    for needed in ("texlive-xetex", "latexmk", "xindy", "fonts-freefont-otf", "poppler-utils"):
        assert needed in packages, needed
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- tex-packages -->" in ci and "--no-install-recommends $missing_tex" in ci
