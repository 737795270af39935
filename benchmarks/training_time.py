"""The training times behind "The seed configuration, revisited" in the training chapter.

    python benchmarks/training_time.py      # about half a minute; writes training_time.json

The chapter (book/training.md) compares its training time on the seed configuration with the
seed notebook's 46 s. Measured times differ from run to run and the book's pages must not (two
clean builds are byte-identical), so the chapter times nothing while the book builds: it reads
the times stored here and says whether they were measured with the rnnbook it is built with.
Rerun this script after changing the package.

Two measurements, CPU time of one process with one BLAS thread (as the book's kernels run),
best of ROUNDS rounds:

- the chapter's recipe (Adam, minibatches of 32, clipping at 1, H = 32, 100 epochs) on the
  chapter's split of the seed configuration, one run per seed, averaged over the seeds;
- one epoch of per-sequence SGD (the seed notebook's scheme) on the same split.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before NumPy is imported

import json  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from common import provenance  # noqa: E402

import rnnbook as rb  # noqa: E402

HERE = Path(__file__).resolve().parent
# The chapter checks that it trains with exactly this recipe before it quotes these times.
RECIPE = {"hidden_size": 32, "learning_rate": 0.01, "epochs": 100, "batch_size": 32,
          "clip_norm": 1.0, "seeds": 5}  # fmt: skip
SGD_LEARNING_RATE = 0.01
ROUNDS = 3


def cpu_seconds(fn) -> float:
    """CPU time of this process spent in ``fn()``."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> dict:
    rng = np.random.default_rng(0)
    parts = rb.split(rb.seed_config(rng), rng=rng)  # the chapter's split

    def recipe_run(seed: int) -> rb.Run:
        return rb.train_run(
            parts, seed, hidden_size=RECIPE["hidden_size"],
            optimizer=lambda: rb.Adam(RECIPE["learning_rate"]), epochs=RECIPE["epochs"],
            batch_size=RECIPE["batch_size"], clip_norm=RECIPE["clip_norm"],
        )  # fmt: skip

    def sgd_epoch() -> rb.History:
        params = rb.init_params(1, RECIPE["hidden_size"], 1, rng=np.random.default_rng(0))
        return rb.fit(params, parts.train.x, parts.train.y,
                      optimizer=rb.SGD(SGD_LEARNING_RATE), epochs=1, batch_size=1,
                      rng=np.random.default_rng(0))  # fmt: skip

    seeds = range(RECIPE["seeds"])
    run_best = [min(cpu_seconds(partial(recipe_run, s)) for _ in range(ROUNDS)) for s in seeds]
    return {
        "description": "CPU seconds, one BLAS thread, best of rounds: 'run' is one training run "
        "of the recipe (mean over seeds of each seed's best), 'sgd_epoch' one epoch of "
        "per-sequence SGD, on the seed configuration's split of the training chapter",
        "recipe": RECIPE,
        "sgd_learning_rate": SGD_LEARNING_RATE,
        "run_cpu_seconds": float(np.mean(run_best)),
        "run_cpu_seconds_per_seed": [float(s) for s in run_best],
        "sgd_epoch_cpu_seconds": min(cpu_seconds(sgd_epoch) for _ in range(ROUNDS)),
        "rounds": ROUNDS,
        **provenance(Path(rb.__file__).parent),  # the times depend on the whole package
    }


if __name__ == "__main__":
    result = main()
    (HERE / "training_time.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"one run of the recipe: {result['run_cpu_seconds']:.2f} s CPU "
          f"(per seed {[round(s, 2) for s in result['run_cpu_seconds_per_seed']]})")  # fmt: skip
    print(f"one epoch of per-sequence SGD: {result['sgd_epoch_cpu_seconds']:.2f} s CPU")
