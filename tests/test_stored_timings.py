"""Stored timings: chapters quote times measured by scripts in benchmarks/, never at build time.

A page must say which code its times were measured with, and the committed times must be
measured with the committed code, so the published book never says "an earlier version".
"""

import json
from pathlib import Path

import pytest

import rnnbook as rb
from rnnbook.notebook import measured_with, source_sha256

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(rb.__file__).parent
# stored file -> (the code its times depend on, the script that writes it)
STORED = {
    "bptt_cost.json": (PACKAGE / "rnn.py", "benchmarks/bptt_cost.py"),
    "training_time.json": (PACKAGE, "benchmarks/training_time.py"),
    "gated_cost.json": (PACKAGE, "benchmarks/gated_cost.py"),
}


def test_source_hash_follows_file_and_package_content(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "notes.txt").write_text("not source")
    before = source_sha256(pkg)
    (pkg / "notes.txt").write_text("still not source")
    assert source_sha256(pkg) == before
    (pkg / "a.py").write_text("x = 2\n")
    assert source_sha256(pkg) != before
    assert source_sha256(pkg / "a.py") != source_sha256(pkg)


def test_measured_with_says_when_the_code_changed(tmp_path):
    code = tmp_path / "rnn.py"
    code.write_text("x = 1\n")
    stored = {"sha256": source_sha256(code), "date": "2026-01-02", "cpus": 2, "cpu": "CPU X"}
    assert measured_with(stored, code, "rnn.py") == (
        "measured on 2026-01-02 on a 2-core CPU X, with the same rnn.py as this page"
    )
    code.write_text("x = 2\n")
    assert "an earlier version of rnn.py" in measured_with(stored, code, "rnn.py")


@pytest.mark.parametrize("name", sorted(STORED))
def test_committed_timings_were_measured_with_the_committed_code(name):
    code, script = STORED[name]
    stored = json.loads((ROOT / "benchmarks" / name).read_text())
    assert stored["sha256"] == source_sha256(code), (
        f"benchmarks/{name} was measured with other code than {code.relative_to(ROOT)}; "
        f"rerun `python {script}` (or `python benchmarks/run.py`) and commit the result"
    )
