"""What every benchmark computes: the same problem, weights and data, and the FLOP count.

One training step is: forward over a batch of B sequences of length T, the mean squared error,
and the gradients of all parameters by backpropagation through time (no optimizer update).
"""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

import numpy as np

import rnnbook as rb

D = O = 1  # one input, one output: the book's sine-wave task

# (B, T, H): the sizes of the step table. B = 500 over a range of H, the long sequences, and the
# minibatch of 32 sequences the book trains with.
SIZES = [(500, 25, H) for H in (16, 32, 64, 128, 256)]
SIZES += [(500, 200, 64), (32, 25, 16), (32, 25, 32)]

# The sizes timed with two threads (float64 only): on a shared machine two threads wait for
# each other whenever another program holds a core, so their wall-clock times are slow to
# measure and noisy; these are the sizes the targets and the appendix's claims need.
TWO_CORE_SIZES = [(500, 25, H) for H in (16, 32, 64, 256)] + [(32, 25, 32)]

# The targets for rnnbook / torch (float64, one thread; two threads up to H = 64).
TARGETS_1 = {(500, 25, 16): 0.45, (500, 25, 32): 0.45, (500, 25, 64): 0.68, (500, 25, 128): 0.83,
             (500, 25, 256): 0.95, (500, 200, 64): 0.55, (32, 25, 32): 0.27}  # fmt: skip
TARGETS_2 = {(500, 25, 16): 0.5, (500, 25, 32): 0.5, (500, 25, 64): 0.5}

# The seed notebook, which the Performance appendix mentions for context only:
SEED_TARGET_MSE = 0.006449  # its test MSE
SEED_NOTEBOOK_SECONDS = 46  # its wall time, on a machine and with a hidden size not known


def problem(B: int, T: int, H: int, dtype: str, seed: int = 0):
    """Xavier weights (non-zero biases) and sine-wave inputs and targets, in `dtype`."""
    rng = np.random.default_rng(seed)
    params = rb.init_params(D, H, O, rng=rng).astype(dtype)
    params.b_h[:] = rng.normal(0.0, 0.1, size=H)
    params.b_y[:] = rng.normal(0.0, 0.1, size=O)
    data = rb.sine_waves(B, T, rng=rng)
    return params, data.x.astype(dtype), data.y.astype(dtype)


def matmul_flops(B: int, T: int, H: int) -> int:
    """Floating-point operations in the matrix products of one step (2 per multiply-add).

    W_hh: the forward product, W_hh^T dz_t and the gradient of W_hh, 3 x 2BTH^2.
    W_xh: the forward product and its gradient, 2 x 2BTHD. W_hy: the forward product,
    W_hy^T dy_t and its gradient, 3 x 2BTHO. The elementwise work (tanh, its derivative,
    additions: a few operations per element of the (T, B, H) arrays) is not counted.
    """
    return 6 * B * T * H * H + 4 * B * T * H * D + 6 * B * T * H * O


def cpu_model() -> str:
    """The processor's name from /proc/cpuinfo (or what the platform module knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def provenance(code: Path) -> dict:
    """What a stored timing was measured with: machine, versions, date and the code's hash.

    Chapters that read stored timings pass this to ``rnnbook.notebook.measured_with``.
    """
    return {
        "sha256": rb.notebook.source_sha256(code),
        "rnnbook": rb.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
    }
