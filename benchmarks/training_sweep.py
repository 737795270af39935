"""The validation sweep behind the tuned recipe of the training chapter.

    python benchmarks/training_sweep.py       # 20 minutes of CPU; writes training_sweep.json
    python benchmarks/training_sweep.py mlp   # only the MLP's rows, keeping the RNN's

The training chapter (book/training.md) chooses its tuned recipe on the validation split of
``rb.book_split(0)``: learning rate, batch size, number of epochs and learning-rate schedule,
for the RNN (H = 32) and for the windowed MLP it is compared with. Every run keeps the
parameters of its best validation epoch (``select_best=True``). The grid costs more than
the book's build may spend, so it runs here; the chapter reads the stored validation
errors, picks the best recipe within its budget, trains it again and checks that its own
runs reproduce the stored numbers. **No run of this script reads the test split**: the
test split is read by the chapter, once, for the recipe it picked.

The results do not depend on the machine (every run is seeded), so they are stored without
timings, with, per model, the hash of the package and of the code of every function its rows
depend on (SOURCES, as benchmarks/gated_recall.py records them: docstrings and comments do
not count); the chapter compares those hashes with its own code's and repeats some of the
runs. Rerun this script after changing the training code or the grid.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before NumPy is imported

import itertools  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from common import provenance  # noqa: E402
from gated_recall import code_digest, code_digests  # noqa: E402

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
# The code the results depend on (with run() below); the chapter compares these digests.
SOURCES = (
    "rnnbook.params", "rnnbook.validate", "rnnbook.train",
    "rnnbook.optim", "rnnbook.clip", "rnnbook.loss", "rnnbook.init", "rnnbook.data._draw",
    "rnnbook.data.sine_waves", "rnnbook.data.book_task", "rnnbook.data.book_split",
    "rnnbook.data.split", "rnnbook.experiment.train_run",
)  # fmt: skip


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


MODEL_SOURCES = {"rnn": ("rnnbook.rnn",), "mlp": ("rnnbook.window",)}


def sources(model: str) -> dict[str, str]:
    """The code digests of what the rows of `model` depend on, and of :func:`run`."""
    names = MODEL_SOURCES[model] + SOURCES
    return {**code_digests(names), "benchmarks.training_sweep.run": code_digest(run)}


def _one(job):
    model, config, seed = job
    result = run(rb.book_split(0), model, config, seed)
    return {"val_mse": result.val_mse, "best_epoch": result.history.best_epoch}


def main(models=MODELS, stored: dict | None = None) -> dict:
    """Run the rows of `models`; the other models' rows (and provenance) come from `stored`."""
    configs = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    jobs = [(m, c, s) for m in models for c in configs for s in SEEDS]
    results = rb.over_seeds(lambda i: _one(jobs[i]), range(len(jobs)), processes=2)
    rows = [r for r in (stored or {}).get("rows", []) if r["model"] not in models]
    computed = {m: c for m, c in (stored or {}).get("computed", {}).items() if m not in models}
    for model in models:
        computed[model] = {"sources": sources(model), **provenance(Path(rb.__file__).parent)}
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
        "rows": sorted(rows, key=lambda r: MODELS.index(r["model"])),
        "task": {k: list(v) if isinstance(v, tuple) else v for k, v in rb.data.BOOK_TASK.items()},
        "computed": computed,  # per model: the code and machine its rows were computed with
    }


if __name__ == "__main__":
    import sys

    models = tuple(sys.argv[1:]) or MODELS
    path = HERE / "training_sweep.json"
    result = main(models, json.loads(path.read_text()) if path.exists() else None)
    path.write_text(json.dumps(result, indent=1) + "\n")
    best = min(result["rows"], key=lambda r: sum(r["val_mse"]))
    print("best on validation:", {k: best[k] for k in GRID}, best["val_mse"])
