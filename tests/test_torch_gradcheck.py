"""rnnbook's BPTT against PyTorch's autograd; runs only where the optional torch is installed.

The same comparison is part of ``benchmarks/run.py`` and shown in the Performance appendix.
"""

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import worker  # noqa: E402


def test_gradients_agree_with_torch_autograd():
    result = worker.gradcheck()
    assert result["loss_rnnbook"] == pytest.approx(result["loss_torch"], rel=1e-14)
    errors = result["max_relative_error"]
    assert set(errors) >= {"W_xh", "W_hh", "b_h", "W_hy", "b_y", "h0"}
    assert max(errors.values()) < 1e-12, errors
