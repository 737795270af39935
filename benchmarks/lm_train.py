"""Character-level language models on the docutils text, longer than the book's build.

    python benchmarks/lm_train.py [processes] [--resume]   # writes lm_train.json

about 10 minutes on 2 idle cores; ``--resume`` keeps the grid of an earlier, interrupted
run (its learning-rate choice) and runs the long runs only.

The language-model chapter trains a vanilla RNN, a GRU and an LSTM of about 41,000
parameters each for STEPS_BOOK updates while the book builds. This script

1. chooses each cell's Adam learning rate on the validation split: every rate of LRS,
   seed 0, STEPS_BOOK updates, the lowest validation bits per character wins (the chapter
   trains with the chosen rates and checks that its runs are these runs);
2. trains each cell with its chosen rate for STEPS_LONG updates from every seed of SEEDS,
   recording train and validation bits per character every EVERY updates, keeps the
   parameters of the best validation evaluation, and reads the test split once for them.

The learning rate is constant after a warm-up, so the first STEPS_BOOK updates of a long run
from seed 0 are exactly the chapter's run. The file stores the hash of the package and of the
code of every function the results depend on (SOURCES), which the chapter compares with its own.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before NumPy is imported

import json  # noqa: E402
import math  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from common import provenance  # noqa: E402
from gated_recall import code_digests  # noqa: E402

import rnnbook as rb  # noqa: E402
from rnnbook import lm, text  # noqa: E402

HERE = Path(__file__).resolve().parent
# The chapter's recipe (book/language-model.md checks that it trains with exactly this).
RECIPE = {"batch_size": 32, "window": 64, "clip_norm": 1.0, "warmup": 50, "val_streams": 64,
          "test_streams": 64}  # fmt: skip
CELLS = {"rnn": 128, "gru": 68, "lstm": 57}  # hidden sizes: about 41,000 parameters each
LRS = (0.003, 0.01, 0.03)
STEPS_BOOK, EVERY_BOOK = 600, 100
STEPS_LONG, EVERY_LONG = 1200, 200
SEEDS = (0, 1)

SOURCES = (
    "rnnbook.rnn", "rnnbook.gru", "rnnbook.lstm", "rnnbook.inputs", "rnnbook.lm",
    "rnnbook.text", "rnnbook.params", "rnnbook.validate", "rnnbook.optim.Adam",
    "rnnbook.optim.Schedule", "rnnbook.clip.clip_grad_norm_", "rnnbook.clip.global_norm",
    "rnnbook.loss.cross_entropy_loss", "rnnbook.init.init_params", "rnnbook.init.xavier_uniform",
)  # fmt: skip

LN2 = math.log(2)


def data() -> tuple[text.Corpus, np.ndarray, np.ndarray, np.ndarray]:
    """The corpus, the training streams, and the validation and test streams."""
    corpus = text.load_corpus()
    train, val, test = corpus.split()
    return (
        corpus,
        text.streams(train, RECIPE["batch_size"]),
        text.streams(val, RECIPE["val_streams"]),
        text.streams(test, RECIPE["test_streams"]),
    )


def init(cell: str, V: int, rng: np.random.Generator) -> rb.Params:
    """Initial parameters of `cell` with V inputs (ids) and V outputs (logits)."""
    H = CELLS[cell]
    if cell == "rnn":
        return rb.init_params(V, H, V, scheme="xavier", rng=rng)
    return getattr(rb, cell).init_params(V, H, V, rng=rng)


def run(job):
    kind, cell, lr, seed = job
    cpu = time.process_time()
    corpus, streams, val, test = data()
    V = corpus.vocab_size
    steps, every = (STEPS_BOOK, EVERY_BOOK) if kind == "grid" else (STEPS_LONG, EVERY_LONG)
    try:
        params = init(cell, V, np.random.default_rng(seed))
        history = lm.fit_stream(
            params, streams, window=RECIPE["window"], optimizer=rb.Adam(lr=lr), steps=steps,
            clip_norm=RECIPE["clip_norm"], schedule=rb.linear_warmup(RECIPE["warmup"]),
            validation=val, evaluations=steps // every, select_best=True,
        )  # fmt: skip
    except rb.DivergenceError:
        return job, {"diverged": True}
    result = {
        "diverged": False,
        "train_bpc": [v / LN2 for v in history.train_loss],
        "val_bpc": [v / LN2 for v in history.val_loss],
        "best_evaluation": history.best_epoch,
        "clip_fraction": history.clip_fraction,
        "cpu_seconds": time.process_time() - cpu,
    }
    if kind == "long":
        result["test_bpc"] = lm.stream_loss(params, test) / LN2  # read once, kept params
    return job, result


def main(processes: int = 2, out: Path | None = None, resume: dict | None = None) -> dict:
    """Run the grid, then the long runs; write `out` after every job (``complete`` False
    until the last), so that an interrupted run keeps what it finished. With `resume` (an
    earlier result whose grid is complete) the grid is not run again."""
    jobs = [("grid", cell, lr, 0) for cell in CELLS for lr in LRS]
    results, chosen = {}, {}
    if resume is not None:
        assert resume["recipe"] == RECIPE and resume["lrs"] == list(LRS)
        assert (resume["steps_book"], resume["every_book"]) == (STEPS_BOOK, EVERY_BOOK)
        results = {("grid", c, lr, 0): resume["grid"][c][str(lr)] for c in CELLS for lr in LRS}
        jobs = []
    start = time.time()
    with mp.get_context("fork").Pool(processes) as pool:
        for job, result in pool.imap_unordered(run, jobs):
            results[job] = result
            print(f"[{time.time() - start:.0f} s] {job}: {result.get('val_bpc', ['-'])[-1:]}",
                  flush=True)  # fmt: skip
        for cell in CELLS:
            scores = {lr: min(results["grid", cell, lr, 0].get("val_bpc", [np.inf]))
                      for lr in LRS}  # fmt: skip
            chosen[cell] = min(scores, key=scores.get)
        if out is not None:
            out.write_text(json.dumps(summary(results, chosen, start, False), indent=1) + "\n")
        long_jobs = [("long", cell, chosen[cell], seed) for cell in CELLS for seed in SEEDS]
        for job, result in pool.imap_unordered(run, long_jobs):
            results[job] = result
            print(f"[{time.time() - start:.0f} s] {job}: test {result.get('test_bpc')}",
                  flush=True)  # fmt: skip
            if out is not None:
                out.write_text(json.dumps(summary(results, chosen, start, False), indent=1) + "\n")
    return summary(results, chosen, start, True)


def summary(results: dict, chosen: dict, start: float, complete: bool) -> dict:
    V = text.load_corpus().vocab_size
    return {
        "complete": complete,
        "description": "bits per character of character-level models on the docutils text; "
        "grid[cell][lr]: seed 0, steps_book updates, evaluated every every_book; "
        "long[cell][seed]: the chosen rate, steps_long updates, every every_long; train_bpc "
        "is the mean window loss since the previous evaluation",
        "recipe": RECIPE,
        "cells": CELLS,
        "parameters": {c: init(c, V, np.random.default_rng(0)).num_parameters() for c in CELLS},
        "lrs": list(LRS),
        "steps_book": STEPS_BOOK,
        "every_book": EVERY_BOOK,
        "steps_long": STEPS_LONG,
        "every_long": EVERY_LONG,
        "seeds": list(SEEDS),
        "chosen_lr": chosen,
        "grid": {c: {str(lr): results["grid", c, lr, 0] for lr in LRS} for c in CELLS},
        "long": {
            c: {
                str(s): results["long", c, chosen[c], s]
                for s in SEEDS
                if ("long", c, chosen[c], s) in results
            }
            for c in CELLS
        },
        "corpus_sha256": text.SHA256,
        "wall_seconds": time.time() - start,
        "sources": code_digests(SOURCES),
        **provenance(Path(rb.__file__).parent),
    }


if __name__ == "__main__":
    path = HERE / "lm_train.json"
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    earlier = json.loads(path.read_text()) if "--resume" in sys.argv else None
    result = main(int(args[0]) if args else 2, out=path, resume=earlier)
    path.write_text(json.dumps(result, indent=1) + "\n")
