"""Fast checks of the build extensions rnnbook_freshness and rnnbook_threads (book/_ext)."""

import os
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

from rnnbook.notebook import source_sha256

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import rnnbook_freshness  # noqa: E402
import rnnbook_streams  # noqa: E402
import rnnbook_threads  # noqa: E402


def test_source_hash_follows_content_not_location(tmp_path):
    a = shutil.copytree(ROOT / "rnnbook", tmp_path / "a" / "rnnbook")
    b = shutil.copytree(ROOT / "rnnbook", tmp_path / "b" / "rnnbook")
    assert source_sha256(a) == source_sha256(b)
    (b / "rnn.py").write_text((b / "rnn.py").read_text() + "\n# an edit\n")
    assert source_sha256(a) != source_sha256(b)
    (b / "rnn.py").write_text((a / "rnn.py").read_text())
    (b / "new_module.py").write_text("x = 1\n")  # a new file changes it too
    assert source_sha256(a) != source_sha256(b)


def _namespace(tmp_path, files=()):
    config = SimpleNamespace(nb_execution_cache_path="", rnnbook_freshness_files=list(files))
    app = SimpleNamespace(outdir=str(tmp_path / "_build" / "html"), srcdir=str(tmp_path))
    rnnbook_freshness.namespace_cache(app, config)
    return Path(config.nb_execution_cache_path)


def test_cache_folder_is_named_by_the_hash_and_stale_ones_go(tmp_path):
    first = _namespace(tmp_path)
    assert first.parent == (tmp_path / "_build" / ".jupyter_cache").resolve()
    assert first.name.startswith("rnnbook-")
    first.mkdir(parents=True)
    (tmp_path / "results.json").write_text("{}")
    second = _namespace(tmp_path, ["results.json"])  # a watched file joins the hash
    assert second != first and not first.exists()
    (tmp_path / "results.json").write_text('{"new": 1}')
    assert _namespace(tmp_path, ["results.json"]) != second


def test_kernels_get_one_blas_thread_unless_set(monkeypatch):
    for name in rnnbook_threads.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")  # the builder's choice wins
    rnnbook_threads.one_thread(None, None)
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2"
    assert os.environ["OMP_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "1"


def test_stream_merging_leaves_the_kernels_outputs_alone():
    from nbformat.v4 import new_output

    outputs = [new_output("stream", name="stdout", text="first\n"),
               new_output("stream", name="stdout", text="second\n")]  # fmt: skip
    merged = rnnbook_streams.coalesce_copies(outputs)
    assert [o["text"] for o in merged] == ["first\nsecond\n"]
    assert [o["text"] for o in outputs] == ["first\n", "second\n"]  # not changed in place
