"""The validation sweep behind the tuned recipe of the training chapter.

    python benchmarks/training_sweep.py   # 20 minutes of CPU; writes training_sweep.json

The training chapter (book/training.md) chooses its tuned recipe on the validation split of
``rb.book_split(0)``: learning rate, batch size, number of epochs and learning-rate schedule,
for the RNN (H = 32) and for the windowed MLP it is compared with. Every run keeps the
parameters of its best validation epoch (``select_best=True``). The grid costs more than
the book's build may spend, so it runs here; the chapter reads the stored validation
errors, picks the best recipe within its budget, trains it again and checks that its own
runs reproduce the stored numbers. **No run of this script reads the test split**: the
test split is read by the chapter, once, for the recipe it picked.

The results do not depend on the machine (every run is seeded), so they are stored without
timings. Rerun this script after changing the training code or the grid: the chapter's check
fails when the stored numbers are stale.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before NumPy is imported

import itertools  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from common import provenance  # noqa: E402

import rnnbook as rb  # noqa: E402

HERE = Path(__file__).resolve().parent
SEEDS = (0, 1, 2)
GRID = {
    "learning_rate": (0.01, 0.03, 0.1),
    "batch_size": (32, 128),
    "epochs": (60, 200, 400),
    "schedule": ("constant", "cosine"),
}
WARMUP = 50  # steps of linear warm-up before the cosine decay
MODELS = ("rnn", "mlp")  # the RNN, and the windowed MLP over the whole history (K = T = 25)


def run(parts: rb.Split, model: str, config: dict, seed: int) -> rb.Run:
    """One run of `config` (a point of GRID), as the chapter trains its recipes."""
    if model not in MODELS:
        raise ValueError(f"model: expected one of {MODELS}, got {model!r}")
    cosine = config["schedule"] == "cosine"
    T = parts.train.x.shape[1]
    init = None if model == "rnn" else (lambda rng: rb.init_window(1, 32, 1, T, rng))
    return rb.train_run(
        parts, seed, hidden_size=32, optimizer=lambda: rb.Adam(config["learning_rate"]),
        epochs=config["epochs"], batch_size=config["batch_size"], clip_norm=1.0,
        schedule=rb.cosine_decay(warmup=WARMUP) if cosine else None, select_best=True,
        init=init,
    )  # fmt: skip


def _one(job):
    model, config, seed = job
    result = run(rb.book_split(0), model, config, seed)
    return {"val_mse": result.val_mse, "best_epoch": result.history.best_epoch}


def main(models=MODELS) -> dict:
    configs = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    jobs = [(m, c, s) for m in models for c in configs for s in SEEDS]
    results = rb.over_seeds(lambda i: _one(jobs[i]), range(len(jobs)), processes=2)
    rows = []
    for i in range(0, len(jobs), len(SEEDS)):
        model, config, _ = jobs[i]
        runs = results[i : i + len(SEEDS)]
        rows.append({"model": model, **config, **{k: [r[k] for r in runs] for k in runs[0]}})
    return {
        "description": "validation MSE on rb.book_split(0) of each recipe (Adam, clipping at "
        "1, the best validation epoch kept), per seed; the test split is never read",
        "seeds": list(SEEDS),
        "grid": GRID,
        "warmup_steps": WARMUP,
        "rows": rows,
        **provenance(Path(rb.__file__).parent),
    }


if __name__ == "__main__":
    result = main()
    (HERE / "training_sweep.json").write_text(json.dumps(result, indent=1) + "\n")
    best = min(result["rows"], key=lambda r: sum(r["val_mse"]))
    print("best on validation:", {k: best[k] for k in GRID}, best["val_mse"])
