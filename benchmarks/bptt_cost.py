"""The timings behind the "Cost" section of the BPTT chapter (book/bptt.md).

    python benchmarks/bptt_cost.py          # a few seconds; writes benchmarks/bptt_cost.json

Measured times differ from run to run, and the book's pages must not (two clean builds are
byte-identical), so the chapter does not time anything while the book builds: it plots the
times stored here, and measures only the memory, which is reproducible. Rerun this script
after changing rnnbook/rnn.py; the chapter says whether the stored times were measured with
the rnn.py it is built with.

CPU time of one process with one BLAS thread, best of many interleaved rounds (see
``rnnbook.analysis.step_cost``).
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before NumPy is imported

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from common import provenance  # noqa: E402

import rnnbook as rb  # noqa: E402

HERE = Path(__file__).resolve().parent
LENGTHS = (25, 50, 100, 200, 400, 800)
TRUNCATE_T, TRUNCATE_K = 200, (10, 40)
ROUNDS = 25


def main() -> dict:
    full = rb.analysis.step_cost(LENGTHS, rounds=ROUNDS)
    truncated = {
        str(k): float(
            rb.analysis.step_cost([TRUNCATE_T], truncate=k, rounds=ROUNDS)["cpu_seconds"][0]
        )
        for k in TRUNCATE_K
    }
    truncated["full"] = float(full["cpu_seconds"][list(LENGTHS).index(TRUNCATE_T)])
    return {
        "description": "CPU seconds of one training step (forward, MSE, BPTT), B = H = 32, "
        "D = O = 1, float64, one BLAS thread, best of interleaved rounds",
        "lengths": [int(T) for T in full["lengths"]],
        "cpu_seconds": [float(s) for s in full["cpu_seconds"]],
        "truncate_T": TRUNCATE_T,
        "truncate_cpu_seconds": truncated,
        "rounds": ROUNDS,
        **provenance(Path(rb.rnn.__file__)),  # the timings depend on rnn.py
    }


if __name__ == "__main__":
    result = main()
    (HERE / "bptt_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    for T, s in zip(result["lengths"], result["cpu_seconds"]):
        print(f"T = {T:4d}: {s * 1e3:7.2f} ms")
    print(
        "truncated, T =",
        TRUNCATE_T,
        {k: f"{v * 1e3:.2f} ms" for k, v in result["truncate_cpu_seconds"].items()},
    )
