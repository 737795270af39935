"""The default GRU and LSTM at lag 50 with other learning rates (gated-cells chapter).

    python benchmarks/gated_lr.py      # a few minutes on 2 cores; writes gated_lr.json

The chapter's recipe (benchmarks/gated_recall.py) trains every arm with Adam at a learning
rate of 0.01, not tuned per arm. With it, the GRU and the LSTM with their default gate biases
fail at lag 50, where the vanilla RNN recalls part of the value. This script is the control
for the learning rate: the same runs (same cells, data, test sets, seeds and 1,000 updates)
at rates three times smaller and three times larger, with the test R^2 every CHECKPOINT
updates and the code digests of gated_recall.py.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before NumPy is imported

import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from common import provenance  # noqa: E402
from gated_recall import RECIPE, code_digests, test_set  # noqa: E402

import rnnbook as rb  # noqa: E402

HERE = Path(__file__).resolve().parent
LAG = 50
SEEDS = tuple(range(5))
STEPS = 1000
CHECKPOINT = 50
CELLS = {"gru": rb.gru, "lstm": rb.lstm}  # default gate biases
LEARNING_RATES = (0.003, 0.03)


def run(job: tuple[str, float, int]) -> tuple[tuple[str, float, int], list[float]]:
    """Train `cell` at lag LAG with Adam(`lr`) from `seed`; R^2 every CHECKPOINT updates."""
    cell, lr, seed = job
    rng = np.random.default_rng(seed)
    params = CELLS[cell].init_params(1, RECIPE["hidden_size"], 1, rng=rng)
    test, optimizer = test_set(LAG), rb.Adam(lr)
    scores = []
    for _ in range(STEPS // CHECKPOINT):
        try:
            rb.fit(params, rb.recall_batches(LAG, RECIPE["batch_size"]), loss=rb.recall_loss,
                   optimizer=optimizer, steps=CHECKPOINT, clip_norm=RECIPE["clip_norm"],
                   rng=rng)  # fmt: skip
        except rb.DivergenceError:
            scores += [float("nan")] * (STEPS // CHECKPOINT - len(scores))
            break
        scores.append(rb.recall_score(params, test))
    return job, scores


def main(processes: int = 2) -> dict:
    jobs = [(cell, lr, seed) for cell in CELLS for lr in LEARNING_RATES for seed in SEEDS]
    r2 = {cell: {str(lr): [None] * len(SEEDS) for lr in LEARNING_RATES} for cell in CELLS}
    with mp.get_context("fork").Pool(processes) as pool:
        for (cell, lr, seed), scores in pool.imap_unordered(run, jobs):
            r2[cell][str(lr)][SEEDS.index(seed)] = scores
            print(f"{cell} lr={lr} seed {seed}: R^2 {scores[-1]:.3f}", flush=True)
    return {
        "description": "test R^2 at lag `lag` after every `checkpoint` updates, "
        "r2[cell][learning_rate][seed][k] after (k + 1) * checkpoint updates",
        "recipe": {k: v for k, v in RECIPE.items() if k != "learning_rate"},
        "lag": LAG,
        "learning_rates": list(LEARNING_RATES),
        "seeds": list(SEEDS),
        "steps": STEPS,
        "checkpoint": CHECKPOINT,
        "r2": r2,
        "sources": code_digests(),
        **provenance(Path(rb.__file__).parent),
    }


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    (HERE / "gated_lr.json").write_text(json.dumps(result, indent=1) + "\n")
