"""The recall task for the vanilla RNN, GRU and LSTM with a longer budget (gated-cells chapter).

    python benchmarks/gated_recall.py      # 15-30 minutes on 2 cores; writes gated_recall.json
    python benchmarks/gated_recall.py 2 rnn,rnn_h32   # recompute these arms only, in place

The gated-cells chapter compares the vanilla RNN, the GRU and the LSTM on the recall task of the
vanishing-gradients chapter (remember x_1 across L distractors): eight arms (the three cells
with their default initialization, and the controls: the LSTM with forget-gate biases 0 and 3,
the GRU with an update-gate bias of 3, the vanilla RNN with H = 32 and with an orthogonal
W_hh), six lags, five seeds and 1,000 updates, far more than the build can afford. This script
runs them with the chapter's recipe (the chapter checks that it is the same), recording the
test R^2 every CHECKPOINT updates; the chapter re-runs five of the runs (lag 100, seed 0, 300
updates) while it builds and compares them with the stored ones.
Results are deterministic for a given machine and rnnbook (a vanilla run's outcome is
sensitive even to a change of rounding in the package: treat the seeds, not a run, as the
unit). The file stores, for every arm, the date and the digests of the code of every function
its results depend on (SOURCES; docstrings and comments do not count), which the chapter
compares with its own.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before NumPy is imported

import ast  # noqa: E402
import hashlib  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from common import provenance  # noqa: E402

import rnnbook as rb  # noqa: E402

HERE = Path(__file__).resolve().parent
# The chapter's recipe (book/gated-cells.md checks that it trains with exactly this).
RECIPE = {"hidden_size": 16, "batch_size": 32, "learning_rate": 0.01, "clip_norm": 1.0,
          "test_size": 2000, "test_seed": 1000}  # fmt: skip
LAGS = (2, 5, 10, 20, 50, 100)
SEEDS = tuple(range(5))
STEPS = 1000
CHECKPOINT = 50
# arm -> (cell, hidden size, options): what init_params gets, and a gate bias set after it
ARMS = {
    "rnn": ("rnn", 16, {}),
    "rnn_h32": ("rnn", 32, {}),
    "rnn_orthogonal": ("rnn", 16, {"scheme": "orthogonal"}),
    "rnn_identity": ("rnn", 16, {"scheme": "identity"}),
    "gru": ("gru", 16, {}),
    "gru_bz3": ("gru", 16, {"update_bias": 3.0}),
    "lstm": ("lstm", 16, {}),
    "lstm_fb0": ("lstm", 16, {"forget_bias": 0.0}),
    "lstm_fb3": ("lstm", 16, {"forget_bias": 3.0}),
}


# The code the results depend on; the chapter compares these hashes with its own code's.
SOURCES = (
    "rnnbook.rnn", "rnnbook.gru", "rnnbook.lstm", "rnnbook.params", "rnnbook.validate",
    "rnnbook.train.fit", "rnnbook.optim.Adam", "rnnbook.clip.clip_grad_norm",
    "rnnbook.clip.global_norm", "rnnbook.loss.mse_loss", "rnnbook.loss.recall_loss",
    "rnnbook.data.recall_task", "rnnbook.data.recall_batches", "rnnbook.init.init_params",
    "rnnbook.init.xavier_uniform", "rnnbook.init.orthogonal", "rnnbook.analysis.recall_score",
)  # fmt: skip


def code_digest(obj) -> str:
    """SHA-256 of the code of a module, class or function: its syntax tree without
    docstrings, so that comments, formatting and documentation do not count."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


def code_digests(names=SOURCES) -> dict[str, str]:
    """:func:`code_digest` of each module or function named (dotted, from rnnbook)."""
    digests = {}
    for name in names:
        module, _, attr = name.rpartition(".")
        try:
            obj = importlib.import_module(name)
        except ModuleNotFoundError:
            obj = getattr(importlib.import_module(module), attr)
        digests[name] = code_digest(obj)
    return digests


def init(arm: str, rng: np.random.Generator) -> rb.Params:
    """The initial parameters of `arm` (D = O = 1), drawn from `rng`."""
    cell, H, options = ARMS[arm]
    if cell == "rnn":
        return rb.init_params(1, H, 1, rng=rng, **options)
    if cell == "gru":
        params = rb.gru.init_params(1, H, 1, rng=rng)
        params.b_hh[H : 2 * H] = options.get("update_bias", 0.0)  # b_z
        return params
    return rb.lstm.init_params(1, H, 1, rng=rng, **options)


def test_set(lag: int) -> rb.RecallTask:
    return rb.recall_task(
        RECIPE["test_size"], lag, rng=np.random.default_rng(RECIPE["test_seed"] + lag)
    )


def run(job: tuple[str, int, int]) -> tuple[tuple[str, int, int], list[float]]:
    """Train `arm` at `lag` from `seed`; the test R^2 after every CHECKPOINT updates."""
    arm, lag, seed = job
    rng = np.random.default_rng(seed)
    params = init(arm, rng)
    test, optimizer = test_set(lag), rb.Adam(RECIPE["learning_rate"])
    scores = []
    for _ in range(STEPS // CHECKPOINT):
        try:
            rb.fit(params, rb.recall_batches(lag, RECIPE["batch_size"]), loss=rb.recall_loss,
                   optimizer=optimizer, steps=CHECKPOINT, clip_norm=RECIPE["clip_norm"],
                   rng=rng)  # fmt: skip
        except rb.DivergenceError:
            scores += [float("nan")] * (STEPS // CHECKPOINT - len(scores))
            break
        scores.append(rb.recall_score(params, test))
    return job, scores


def main(processes: int = 2, arms: tuple[str, ...] = tuple(ARMS), previous: dict | None = None):
    """Run `arms` (all by default); with `previous`, keep its results for the other arms."""
    jobs = [(arm, lag, seed) for arm in arms for lag in LAGS for seed in SEEDS]
    jobs.sort(key=lambda job: -job[1])  # the long lags first, so the two processes end together
    r2 = {arm: {str(lag): [None] * len(SEEDS) for lag in LAGS} for arm in arms}
    start = time.time()
    with mp.get_context("fork").Pool(processes) as pool:
        for k, ((arm, lag, seed), scores) in enumerate(pool.imap_unordered(run, jobs), 1):
            r2[arm][str(lag)][SEEDS.index(seed)] = scores
            print(f"[{k}/{len(jobs)} {time.time() - start:.0f} s] {arm} L={lag} seed {seed}: "
                  f"R^2 {scores[5]:.3f} at 300, {scores[-1]:.3f} at {STEPS}",
                  flush=True)  # fmt: skip
    here = {"sources": code_digests(), **provenance(Path(rb.__file__).parent)}
    computed = {arm: {"date": here["date"], "sources": here["sources"]} for arm in arms}
    if previous is not None:
        old = previous.get("computed") or {
            arm: {"date": previous["date"], "sources": previous["sources"]}
            for arm in previous["r2"]
        }
        r2 = {arm: r2[arm] if arm in arms else previous["r2"][arm] for arm in ARMS}
        computed = {arm: computed[arm] if arm in arms else old[arm] for arm in ARMS}
    return {
        "description": "test R^2 of the recall task after every `checkpoint` updates, "
        "r2[arm][lag][seed][k] after (k + 1) * checkpoint updates; computed[arm] says when "
        "and with which code each arm was run",
        "recipe": RECIPE,
        "arms": {arm: {"cell": c, "hidden_size": H, **o} for arm, (c, H, o) in ARMS.items()},
        "parameters": {arm: init(arm, np.random.default_rng(0)).num_parameters() for arm in ARMS},
        "lags": list(LAGS),
        "seeds": list(SEEDS),
        "steps": STEPS,
        "checkpoint": CHECKPOINT,
        "r2": r2,
        "computed": computed,
        **here,
    }


if __name__ == "__main__":
    path = HERE / "gated_recall.json"
    processes = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    if len(sys.argv) > 2:  # recompute some arms, keep the others
        arms = tuple(sys.argv[2].split(","))
        result = main(processes, arms, json.loads(path.read_text()))
    else:
        result = main(processes)
    path.write_text(json.dumps(result, indent=1) + "\n")
