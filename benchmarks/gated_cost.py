"""The cost of a training step of the gated cells against the vanilla RNN (the gated-cells chapter).

    python benchmarks/gated_cost.py      # a few minutes; writes gated_cost.json

A training step is what :func:`rnnbook.fit` does once: the forward pass over a minibatch of
recall sequences, the loss of the last step, BPTT, global-norm clipping and one Adam update.
Measured times differ from run to run and the book's pages must not (two clean builds are
byte-identical), so the chapter times nothing while the book builds: it reads the times stored
here and says whether they were measured with the code it is built with (the digests of
gated_recall.SOURCES, the code a training step runs). Rerun this script after changing it.

CPU time of one process with one BLAS thread (as the book's kernels run), the best of ROUNDS
interleaved rounds of STEPS steps each, for every cell at every hidden size H, with the
chapter's minibatch (B = 32) and its longest sequences (lag 100, T = 101).
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before NumPy is imported

import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from common import provenance  # noqa: E402
from gated_recall import code_digests  # noqa: E402

import rnnbook as rb  # noqa: E402

HERE = Path(__file__).resolve().parent
CELLS = ("rnn", "gru", "lstm")
HIDDEN_SIZES = (16, 32, 64, 128, 256)
BATCH_SIZE = 32
LAG = 100  # T = LAG + 1
STEPS = 10
ROUNDS = 7


def init(cell: str, hidden_size: int, rng: np.random.Generator) -> rb.Params:
    """The chapter's initial parameters of `cell` (D = O = 1)."""
    if cell == "rnn":
        return rb.init_params(1, hidden_size, 1, rng=rng)
    return getattr(rb, cell).init_params(1, hidden_size, 1, rng=rng)


def step_seconds(cell: str, hidden_size: int) -> float:
    """CPU seconds of one training step, averaged over STEPS steps (one round)."""
    rng = np.random.default_rng(0)
    params = init(cell, hidden_size, rng)
    x, target = rb.recall_batches(LAG, BATCH_SIZE)(rng)
    start = time.process_time()
    rb.fit(params, lambda _: (x, target), loss=rb.recall_loss, optimizer=rb.Adam(0.01),
           steps=STEPS, clip_norm=1.0, rng=rng)  # fmt: skip
    return (time.process_time() - start) / STEPS


def main() -> dict:
    best = {cell: {H: np.inf for H in HIDDEN_SIZES} for cell in CELLS}
    for _ in range(ROUNDS):  # interleaved, so that a slow spell of the machine hits every cell
        for H in HIDDEN_SIZES:
            for cell in CELLS:
                best[cell][H] = min(best[cell][H], step_seconds(cell, H))
    parameters = {
        cell: [init(cell, H, np.random.default_rng(0)).num_parameters() for H in HIDDEN_SIZES]
        for cell in CELLS
    }
    return {
        "description": "CPU seconds per training step (forward, last-step MSE, BPTT, clipping, "
        "Adam) on one recall minibatch, one BLAS thread, best of interleaved rounds",
        "batch_size": BATCH_SIZE,
        "lag": LAG,
        "hidden_sizes": list(HIDDEN_SIZES),
        "cpu_seconds": {cell: [best[cell][H] for H in HIDDEN_SIZES] for cell in CELLS},
        "parameters": parameters,
        "steps_per_round": STEPS,
        "rounds": ROUNDS,
        "sources": code_digests(),  # the code a step runs (cells, fit, Adam, clipping, loss)
        **provenance(Path(rb.__file__).parent),
    }


if __name__ == "__main__":
    result = main()
    (HERE / "gated_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    for cell in CELLS:
        times = ", ".join(f"H={H}: {1e3 * s:.2f} ms" for H, s in
                          zip(HIDDEN_SIZES, result["cpu_seconds"][cell]))  # fmt: skip
        print(f"{cell:5s} {times}")
