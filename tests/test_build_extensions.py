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


def test_stream_merging_joins_split_texts_without_duplicating_them():
    from nbformat.v4 import new_output

    outputs = [new_output("stream", name="stdout", text="first\n"),
               new_output("stream", name="stdout", text="second\n")]  # fmt: skip
    figure = new_output("display_data", data={"text/plain": "<Figure>"})
    later = new_output("stream", name="stdout", text="third\n")
    outputs.extend([figure, later])
    merged = rnnbook_streams.coalesce_copies(outputs)
    # the page: one block per stream (myst-nb's merge)
    assert [o.get("text") for o in merged] == ["first\nsecond\nthird\n", None]
    # the saved notebook: the same texts in the same order, however the kernel split them
    assert [o.get("text") for o in outputs] == ["first\nsecond\n", None, "third\n"]
    assert outputs[1] == figure and later["text"] == "third\n"  # the kernel's objects intact


# --- the editions, the PDF, the kernels ------------------------------------------------------

import rnnbook_encryption  # noqa: E402
import rnnbook_figures  # noqa: E402
import rnnbook_latex  # noqa: E402
import rnnbook_meta  # noqa: E402


def test_kernel_managers_provision_curve_keys():
    """Kernels get CurveZMQ keys, so ipykernel has nothing to warn about."""
    import zmq
    from jupyter_client.manager import KernelManager

    trait = KernelManager.class_traits()["transport_encryption"]
    old = trait.default_value
    try:
        rnnbook_encryption.encrypt_kernel_transport(None, None)
        assert KernelManager().transport_encryption == ("auto" if zmq.has("curve") else old)
    finally:
        trait.default_value = old


def test_published_notebooks_keep_png_figures_only():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    figure = {"image/png": "iVBOR", "application/pdf": "JVBER", "text/plain": "<Figure>"}
    glued = {"application/papermill.record/application/pdf": "JVBER", "text/plain": "x"}
    nb = new_notebook(
        cells=[
            new_code_cell(
                "plot()",
                outputs=[
                    new_output("display_data", data=figure),
                    new_output("display_data", data=glued),
                ],
            )
        ]
    )
    out = rnnbook_figures.without_print_figures(nb)
    data = [o["data"] for o in out.cells[0].outputs]
    assert data == [{"image/png": "iVBOR", "text/plain": "<Figure>"}, {"text/plain": "x"}]


def test_kernel_profile_draws_png_and_pdf():
    text = rnnbook_figures.KERNEL_CONFIG.read_text()
    assert 'figure_formats = {"png", "pdf"}' in text and '"CreationDate": None' in text


def test_edition_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(rnnbook_meta.EDITION_VARIABLE, raising=False)
    assert rnnbook_meta.edition_from_environment() == "full"
    monkeypatch.setenv(rnnbook_meta.EDITION_VARIABLE, "Student")
    assert rnnbook_meta.edition_from_environment() == "student"
    monkeypatch.setenv(rnnbook_meta.EDITION_VARIABLE, "teacher")
    try:
        rnnbook_meta.edition_from_environment()
    except ValueError as error:
        assert "RNNBOOK_EDITION" in str(error) and "'teacher'" in str(error)
    else:
        raise AssertionError("an unknown edition must be refused")


def test_pdf_title_page_gives_version_date_and_edition():
    meta = rnnbook_meta.BookMeta(title="T", version="1.2.3", date="2026-01-31")
    page = rnnbook_latex.title_page(meta)
    assert r"\date{2026-01-31}" in page and r"\release{1.2.3}" in page
    assert page.endswith(r"\sphinxmaketitle")
    student = rnnbook_latex.title_page(
        rnnbook_meta.BookMeta(title="T", version="1.2.3", date="2026-01-31", edition="student")
    )
    assert "student edition" in student
    assert rnnbook_latex.tex("50% of a_b & {c}") == r"50\% of a\_b \& \{c\}"
    config = SimpleNamespace(latex_documents=[("book/intro", "rnnbook.tex", "T", "A", "manual")])
    assert rnnbook_meta.pdf_name(config) == "rnnbook.pdf"


def test_edition_epoch_feeds_the_latex_step(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert rnnbook_meta.edition_epoch(tmp_path) == 1767225600
    assert rnnbook_meta.edition_date(tmp_path) == "2026-01-01"
