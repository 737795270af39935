"""Benchmarks: rnnbook against eager PyTorch, and the measurements behind the Performance appendix.

    python benchmarks/run.py              # 10-20 minutes on 2 cores; --quick for a smoke run

One step = forward over B sequences of length T, the MSE, and all gradients by BPTT
(rnnbook: the workspace that rnnbook.fit uses, and the public functions forward, mse_loss,
backward; torch: nn.RNN(tanh) + nn.Linear, loss.backward(), eager mode, no torch.compile),
same weights and data, float64 and float32, one and two threads (two: two BLAS threads, or
rnnbook's batch split over two Python threads). Each library is timed in a process of its
own (in one process each slows the other down), the processes alternate library and order
round by round, and the tables show minimum and median over all rounds and the range of the
per-round ratios. Then: whole training steps at B = 32 (step, clipping, Adam), training runs
on the seed configuration, ablations, profiles, the matrix-product peak and a gradient check.

Writes benchmarks/results.json (everything measured) and benchmarks/results.md (the tables
that book/performance.md includes), and prints the tables. torch is optional
(``pip install -e ".[bench]"``); without it only rnnbook is measured. Then it runs the two
scripts whose stored times chapters read (CHAPTER_TIMINGS; --skip-chapters leaves them alone).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import (  # noqa: E402
    SEED_NOTEBOOK_SECONDS,
    SIZES,
    TARGETS_1,
    TARGETS_2,
    TWO_CORE_SIZES,
    cpu_model,
    matmul_flops,
)

DTYPES = ("float64", "float32")
NO_FAULTS = {"MALLOC_TOP_PAD_": str(100 * 2**20)}  # glibc keeps 100 MiB of freed heap
# The clock of the step tables, by thread count. One thread: the CPU time of the process,
# which does not count the time it waits while other programs have the core (on a shared
# machine that waiting is most of the wall-clock spread). Two threads: wall-clock time, the
# only clock that shows whether two threads finish sooner than one.
CLOCK = {1: "cpu", 2: "wall"}
# The package before the work of issue 11 (the stacked blocks, the workspace, the fast fit):
BEFORE = "4aad9dc"


def worker(*args: str, threads: int = 1, env: dict | None = None):
    """Run benchmarks/worker.py in a fresh interpreter with `threads` BLAS/OpenMP threads."""
    environment = {**os.environ, **(env or {})}
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[name] = str(threads)
    result = subprocess.run(
        [sys.executable, str(HERE / "worker.py"), *args],
        capture_output=True, text=True, env=environment, cwd=HERE, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def package_at(rev: str, dest: Path) -> Path | None:
    """The rnnbook package as it was at git revision `rev`, unpacked in `dest` (None: no git)."""
    try:
        archive = subprocess.run(["git", "archive", rev, "rnnbook"], cwd=HERE.parent,
                                 check=True, capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return dest


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


# ------------------------------------------------------------------------------------------
# Measuring


def _configs(libs: list[str], before: Path | None) -> list[tuple]:
    """(label, worker lib, threads label, BLAS threads, env) for every timed configuration."""
    old = {"PYTHONPATH": str(before)} if before else None
    configs = [(lib, lib, 1, 1, {}) for lib in ("rnnbook", "rnnbook-public", *libs[1:])]
    if old:
        configs.append(("rnnbook-before", "rnnbook-public", 1, 1, old))
    configs += [("rnnbook", "rnnbook", 2, 2, {}), ("rnnbook-split", "rnnbook-split", 2, 1, {})]
    configs += [(lib, lib, 2, 2, {}) for lib in libs[1:]]
    return configs


def measure(rounds: int, repeats: int, libs: list[str], log, quick: bool = False) -> dict:
    results: dict = {
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__},  # fmt: skip
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "load_start": loadavg(), "rounds": rounds, "repeats": repeats, "libs": libs,
    }  # fmt: skip
    if "torch" in libs:
        import torch  # only for its version; the timing happens in workers

        results["machine"]["torch"] = torch.__version__
    before = package_at(BEFORE, Path(tempfile.mkdtemp()))
    if before is not None:
        results["before"] = BEFORE
    loads = []

    samples: dict = {}  # (label, dtype, threads, B, T, H) -> per round: wall, cpu seconds
    configs = _configs(libs, before)
    for r in range(rounds):
        loads.append(loadavg()[0])
        for dtype in DTYPES:
            for label, lib, threads, blas, env in configs if r % 2 == 0 else configs[::-1]:
                if threads == 2 and dtype != "float64":
                    continue  # two threads: float64 only, at TWO_CORE_SIZES
                log(f"round {r + 1}/{rounds}: {label} {dtype} {threads} thread(s)")
                only = [";".join(",".join(map(str, s)) for s in TWO_CORE_SIZES)] * (threads == 2)
                rows = worker("step", lib, dtype, str(repeats), *only, threads=blas, env=env)
                for row in rows:
                    key = (label, dtype, threads, row["B"], row["T"], row["H"])
                    samples.setdefault(key, []).append((row["seconds"], row["cpu_seconds"]))
    results["step"] = [_step_row(k, rs) for k, rs in sorted(samples.items())]

    log("training steps at B = 32")
    fit_libs = [("rnnbook", {})]
    if before is not None:
        fit_libs.append(("rnnbook-before", {"PYTHONPATH": str(before)}))
    fit_libs += [(lib, {}) for lib in libs[1:]]
    fit_samples: dict = {}
    for r in range(rounds):
        for label, env in fit_libs if r % 2 == 0 else fit_libs[::-1]:
            lib = "torch" if label == "torch" else "rnnbook"
            for row in worker("fitstep", lib, str(max(3, repeats // 3)), env=env):
                fit_samples.setdefault((label, row["H"]), []).append(row["seconds"])
    results["fitstep"] = [{"lib": k[0], "H": k[1], **_summary([s for r in v for s in r]),
                           "round_medians_s": [float(np.median(r)) for r in v]}
                          for k, v in sorted(fit_samples.items())]  # fmt: skip

    log("training runs on the seed configuration")
    seed_samples: dict = {}
    for r in range(min(rounds, 3)):
        loads.append(loadavg()[0])
        for label, env in fit_libs if r % 2 == 0 else fit_libs[::-1]:
            lib = "torch" if label == "torch" else "rnnbook"
            for row in worker("seed", lib, *(["2"] if quick else []), env=env):
                seed_samples.setdefault((label, row["run"]), []).append(row)
    results["seed"] = [{"lib": k[0], "run": k[1], "updates": v[0]["updates"], "H": v[0]["H"],
                        "epochs": v[0]["epochs"], **_summary([x["seconds"] for x in v]),
                        "test_mse": v[0]["test_mse"]}
                       for k, v in sorted(seed_samples.items())]  # fmt: skip

    log("matrix-multiply peak")
    results["peak"] = measure_peak(libs)
    log("ablations")
    results["ablations"] = worker("ablations")
    log("profiles")
    results["profile"] = worker("profile")
    results["profile_padded"] = worker("profile", env=NO_FAULTS)
    if "torch" in libs:
        _optional(results, "torchprofile", "torchprofile")
        log("torch.compile")
        _optional(results, "torchcompile", "torchcompile")
    log("threads on a busy machine")
    results["busy"] = busy_machine(rounds)
    if "torch" in libs:
        log("gradient check against torch autograd")
        _optional(results, "gradcheck", "gradcheck")
    loads.append(loadavg()[0])
    results["loads"] = loads
    results["load_end"] = loadavg()
    return results


def measure_peak(libs: list[str]) -> list[dict]:
    """GFLOP/s of a large matrix product per library, dtype and thread count."""
    return [
        {"lib": lib, "dtype": dtype, "threads": threads,
         "gflops": worker("peak", "numpy" if lib == "rnnbook" else lib, dtype, threads=threads)}
        for lib in libs for dtype in DTYPES for threads in (1, 2)
    ]  # fmt: skip


def _step_row(key: tuple, rounds: list[tuple[list, list]]) -> dict:
    """The summary of one configuration's samples, on the clock that CLOCK names for it."""
    clock = CLOCK[key[2]]
    chosen = [cpu if clock == "cpu" else wall for wall, cpu in rounds]
    return {"lib": key[0], "dtype": key[1], "threads": key[2], "B": key[3], "T": key[4],
            "H": key[5], "clock": clock, **_summary([s for r in chosen for s in r]),
            "round_medians_s": [float(np.median(r)) for r in chosen],
            "wall_median_s": float(np.median([s for wall, _ in rounds for s in wall])),
            "cpu_median_s": float(np.median([s for _, cpu in rounds for s in cpu]))}  # fmt: skip


def _optional(results: dict, name: str, *args: str, **kwargs) -> None:
    """results[name] = worker(*args), or the error in results["errors"] if that worker fails
    (torch.profiler and torch.compile depend on more than the step: the run goes on)."""
    try:
        results[name] = worker(*args, **kwargs)
    except RuntimeError as error:
        results.setdefault("errors", {})[name] = str(error)[-1000:]


def _summary(seconds: list[float]) -> dict:
    q1, median, q3 = np.percentile(seconds, [25, 50, 75])
    return {"min_s": float(np.min(seconds)), "q1_s": float(q1), "median_s": float(median),
            "q3_s": float(q3), "n": len(seconds)}  # fmt: skip


def busy_machine(rounds: int) -> list[dict]:
    """rnnbook's step (B = 500, T = 25, H = 32) with 1 and 2 BLAS threads while another
    process keeps one core busy."""
    times: dict = {1: [], 2: []}
    for r in range(rounds):
        for threads in (1, 2) if r % 2 == 0 else (2, 1):
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                rows = worker("step", "rnnbook", "float64", "15", "500,25,32", threads=threads)
                times[threads] += rows[0]["seconds"]
            finally:
                busy.kill()
                busy.wait()
    return [{"B": 500, "T": 25, "H": 32, "threads": n, "step_us": float(np.median(t)) * 1e6}
            for n, t in times.items()]  # fmt: skip


# ------------------------------------------------------------------------------------------
# Tables (Markdown), marked so that book/performance.md can include each one.


def _section(name: str, lines: list[str]) -> list[str]:
    return [f"<!-- {name} -->", *lines, f"<!-- /{name} -->", ""]


def steps_by_key(results: dict) -> dict[tuple, dict]:
    """Step rows by (lib, dtype, threads, B, T, H)."""
    return {tuple(s[k] for k in ("lib", "dtype", "threads", "B", "T", "H")): s
            for s in results["step"]}  # fmt: skip


def ratio(results: dict, lib: str, other: str, dtype: str, threads: int, size: tuple) -> dict:
    """lib / other: of the minima, of the medians, and the range of the per-round ratios."""
    step = steps_by_key(results)
    a, b = step[(lib, dtype, threads, *size)], step[(other, dtype, threads, *size)]
    rounds = [x / y for x, y in zip(a["round_medians_s"], b["round_medians_s"])]
    return {"min": a["min_s"] / b["min_s"], "median": a["median_s"] / b["median_s"],
            "low": min(rounds), "high": max(rounds)}  # fmt: skip


def two_core(results: dict, dtype: str, size: tuple) -> tuple[str, dict]:
    """rnnbook's two-core way with the lower median at this size, and its step row."""
    step = steps_by_key(results)
    ways = {lib: step[(lib, dtype, 2, *size)] for lib in ("rnnbook", "rnnbook-split")}
    lib = min(ways, key=lambda k: ways[k]["median_s"])
    return lib, ways[lib]


def _ms(row: dict) -> str:
    return f"{1e3 * row['min_s']:.2f} / {1e3 * row['median_s']:.2f}"


def _r(r: dict) -> str:
    return f"**{r['median']:.2f}** ({r['min']:.2f}; {r['low']:.2f}-{r['high']:.2f})"


def step_table(results: dict) -> list[str]:
    step = steps_by_key(results)
    torch = "torch" in results["libs"]
    lines = [
        "One thread, CPU milliseconds per step (the process's CPU time, which leaves out the "
        "time it waited for the core), minimum / median over all rounds; ratios: of the "
        "medians, in brackets of the minima and the range over the rounds.",
        "",
        "| dtype | B | T | H | rnnbook ms | "
        + ("torch ms | rnnbook / torch | " * torch)
        + "public functions ms"
        + (" | public / torch" * torch)
        + " |",
        "|---|---:|---:|---:|---:|" + "---:|---:|" * torch + "---:|" + "---:|" * torch,
    ]
    for dtype in DTYPES:
        for size in SIZES:
            row = f"| {dtype} | {size[0]} | {size[1]} | {size[2]} | "
            row += f"{_ms(step[('rnnbook', dtype, 1, *size)])} | "
            if torch:
                row += f"{_ms(step[('torch', dtype, 1, *size)])} | "
                row += f"{_r(ratio(results, 'rnnbook', 'torch', dtype, 1, size))} | "
            row += f"{_ms(step[('rnnbook-public', dtype, 1, *size)])} |"
            if torch:
                r = ratio(results, "rnnbook-public", "torch", dtype, 1, size)
                row += f" {r['median']:.2f} |"
            lines.append(row)
    return lines


def two_table(results: dict) -> list[str]:
    step = steps_by_key(results)
    torch = "torch" in results["libs"]
    lines = [
        "Two cores. Wall-clock milliseconds per step, minimum / median; rnnbook with two BLAS "
        "threads, and with the batch split over two Python threads (one BLAS thread each).",
        "",
        "| dtype | B | T | H | rnnbook, 2 BLAS threads | rnnbook, batch split | "
        + "torch, 2 threads | 2 BLAS threads / torch | split / torch |" * torch,
        "|---|---:|---:|---:|---:|---:|" + "---:|---:|---:|" * torch,
    ]
    for dtype in DTYPES:
        for size in SIZES:
            if (lib_key := ("rnnbook", dtype, 2, *size)) not in step:
                continue  # not timed with two threads
            row = (f"| {dtype} | {size[0]} | {size[1]} | {size[2]} | "
                   f"{_ms(step[lib_key])} | "
                   f"{_ms(step[('rnnbook-split', dtype, 2, *size)])} |")  # fmt: skip
            if torch:
                row += f" {_ms(step[('torch', dtype, 2, *size)])} |"
                for lib in ("rnnbook", "rnnbook-split"):
                    row += f" {_r(ratio(results, lib, 'torch', dtype, 2, size))} |"
            lines.append(row)
    return lines


def targets_table(results: dict) -> list[str]:
    if "torch" not in results["libs"]:
        return ["torch was not installed for this run: no ratios."]
    lines = ["float64. The ratio is of the median step times (in brackets: of the minima); "
             "with two cores, rnnbook's faster way at that size.", "",
             "| threads | B | T | H | target rnnbook / torch | measured | met |",
             "|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for threads, targets in ((1, TARGETS_1), (2, TARGETS_2)):
        for size, target in targets.items():
            lib = "rnnbook" if threads == 1 else two_core(results, "float64", size)[0]
            r = ratio(results, lib, "torch", "float64", threads, size)
            way = "" if threads == 1 else f" ({'split' if lib == 'rnnbook-split' else '2 BLAS'})"
            lines.append(f"| {threads} | {size[0]} | {size[1]} | {size[2]} | {target:.2f} | "
                         f"{r['median']:.2f} ({r['min']:.2f}){way} | "
                         f"{'yes' if r['median'] <= target else '**no**'} |")  # fmt: skip
    return lines


def efficiency_table(results: dict) -> list[str]:
    step = steps_by_key(results)
    peak = {}
    for p in results["peak"]:  # the machine's peak: the better of the two BLAS libraries
        key = (p["dtype"], p["threads"])
        peak[key] = max(peak.get(key, 0.0), p["gflops"])
    libs = [lib for lib in ("rnnbook", "torch") if lib in results["libs"]]
    lines = ["GFLOP/s of the matrix products of a step, $6BTH^2 + 4BTHD + 6BTHO$ operations over "
             "the median step time, and their share of the machine's peak (one thread).", "",
             "| dtype | B | T | H | " + " | ".join(f"{lib} GFLOP/s (% of peak)" for lib in libs)
             + " |", "|---|---:|---:|---:|" + "---:|" * len(libs)]  # fmt: skip
    for dtype in DTYPES:
        for size in SIZES:
            flops, top = matmul_flops(*size) / 1e9, peak[(dtype, 1)]
            cells = []
            for lib in libs:
                rate = flops / step[(lib, dtype, 1, *size)]["median_s"]
                cells.append(f"{rate:.1f} ({100 * rate / top:.0f}%)")
            lines.append(f"| {dtype} | {size[0]} | {size[1]} | {size[2]} | " + " | ".join(cells)
                         + " |")  # fmt: skip
    return lines


def before_table(results: dict) -> list[str]:
    if "before" not in results:
        return ["(no git history: the version before the speed work was not measured)"]
    step = steps_by_key(results)
    lines = [f"One thread, median ms per step: rnnbook at commit {results['before']} (its public "
             "functions, the only way it had) and now.", "",
             "| dtype | B | T | H | before | now: public functions | now: workspace | "
             "speed-up (workspace) |", "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for dtype in DTYPES:
        for size in SIZES:
            old, public, new = (
                step[(lib, dtype, 1, *size)]["median_s"]
                for lib in ("rnnbook-before", "rnnbook-public", "rnnbook")
            )
            lines.append(f"| {dtype} | {size[0]} | {size[1]} | {size[2]} | {1e3 * old:.2f} | "
                         f"{1e3 * public:.2f} | {1e3 * new:.2f} | {old / new:.2f}x |")  # fmt: skip
    return lines


def fitstep_table(results: dict) -> list[str]:
    rows = {(r["lib"], r["H"]): r for r in results["fitstep"]}
    libs = [lib for lib in ("rnnbook-before", "rnnbook", "torch") if any(k[0] == lib for k in rows)]
    names = {"rnnbook-before": f"rnnbook at {results.get('before')}", "rnnbook": "rnnbook now",
             "torch": "eager torch"}  # fmt: skip
    lines = ["One training step of `rb.fit` (forward, MSE, BPTT, clipping at 1, Adam) at B = 32, "
             "T = 25, float64, one thread: CPU µs per step, minimum / median (torch: the same loop "
             "with `clip_grad_norm_` and `torch.optim.Adam`).", "",
             "| H | " + " | ".join(names[lib] for lib in libs) + " | now / before | now / torch |",
             "|---:|" + "---:|" * (len(libs) + 2)]  # fmt: skip
    for H in sorted({k[1] for k in rows}):
        cells = [f"{1e6 * rows[lib, H]['min_s']:.0f} / {1e6 * rows[lib, H]['median_s']:.0f}"
                 for lib in libs]  # fmt: skip
        now = rows["rnnbook", H]["median_s"]
        vs = [f"{now / rows[lib, H]['median_s']:.2f}" if (lib, H) in rows else "-"
              for lib in ("rnnbook-before", "torch")]  # fmt: skip
        lines.append(f"| {H} | " + " | ".join(cells + vs) + " |")
    return lines


def seed_table(results: dict) -> list[str]:
    rows = {(r["lib"], r["run"]): r for r in results["seed"]}
    libs = [lib for lib in ("rnnbook-before", "rnnbook", "torch") if any(k[0] == lib for k in rows)]
    names = {"rnnbook-before": f"rnnbook at {results.get('before')}", "rnnbook": "rnnbook now",
             "torch": "eager torch"}  # fmt: skip
    epochs = sorted({r["epochs"] for r in results["seed"]})
    lines = [f"The seed configuration's split, H = 32, {', '.join(map(str, epochs))} epochs; "
             "CPU seconds per run, median over the rounds; test MSE of the run (same algorithm, "
             "same number of updates in every column of a row).", "",
             "| algorithm | updates | " + " | ".join(f"{names[lib]} s" for lib in libs)
             + " | now / before | now / torch | test MSE, rnnbook now |",
             "|---|---:|" + "---:|" * (len(libs) + 3)]  # fmt: skip
    for run in sorted({k[1] for k in rows}, reverse=True):
        now = rows["rnnbook", run]
        cells = [f"{rows[lib, run]['median_s']:.2f}" for lib in libs]
        vs = [f"{now['median_s'] / rows[lib, run]['median_s']:.2f}" if (lib, run) in rows else "-"
              for lib in ("rnnbook-before", "torch")]  # fmt: skip
        lines.append(f"| {run} | {now['updates']:,} | " + " | ".join(cells + vs)
                     + f" | {now['test_mse']:.5f} |")  # fmt: skip
    lines += [
        "",
        f"For context only: the seed notebook reported {SEED_NOTEBOOK_SECONDS} s for "
        "per-sequence SGD, on a machine and with a hidden size that are not known.",
    ]
    return lines


def profile_table(results: dict) -> list[str]:
    padded = {(r["B"], r["H"]): r for r in results["profile_padded"]["rows"]}
    rows = results["profile"]["rows"]
    parts = list(rows[0]["parts_us"])
    lines = ["rnnbook's step (the workspace), float64, one thread, CPU time: each part timed on "
             "its own, as a share of the whole step; *other* is the rest (the Python loop, "
             "NumPy's cost per call, copies). *Fixed cost*: the same step with B = H = 1.", "",
             "| | " + " | ".join(f"B = {r['B']}, H = {r['H']}" for r in rows) + " |",
             "|---|" + "---:|" * len(rows)]  # fmt: skip
    lines.append("| whole step, µs | " + " | ".join(f"{r['step_us']:.0f}" for r in rows) + " |")
    for part in [*parts, "other"]:
        cells = [(r["parts_us"][part] if part != "other" else r["other_us"]) / r["step_us"]
                 for r in rows]  # fmt: skip
        lines.append(f"| {part} | " + " | ".join(f"{100 * c:.0f}%" for c in cells) + " |")
    lines.append("| fixed cost (B = H = 1), µs | "
                 + " | ".join(f"{r['fixed_us']:.0f} ({100 * r['fixed_us'] / r['step_us']:.0f}%)"
                              for r in rows) + " |")  # fmt: skip
    lines.append(
        "| page faults per step: workspace | "
        + " | ".join(f"{r['faults_workspace']:.0f}" for r in rows)
        + " |"
    )
    lines.append(
        "| page faults per step: public functions | "
        + " | ".join(f"{r['faults_public']:.0f}" for r in rows)
        + " |"
    )
    lines.append(
        "| public functions' step, µs | " + " | ".join(f"{r['public_us']:.0f}" for r in rows) + " |"
    )
    env = " ".join(f"`{k}={v}`" for k, v in results["profile_padded"]["malloc_env"].items())
    lines.append(f"| ... with {env} | "
                 + " | ".join(f"{padded[r['B'], r['H']]['public_us']:.0f} "
                              f"({padded[r['B'], r['H']]['faults_public']:.0f} faults)"
                              for r in rows) + " |")  # fmt: skip
    return lines


def torchprofile_table(results: dict) -> list[str]:
    if "torchprofile" not in results:
        return [_missing(results, "torchprofile")]
    rows = results["torchprofile"]["rows"]
    lines = ["Eager PyTorch's step, float64, one thread, CPU time; `torch.profiler`'s self CPU "
             "time by operation, share of the total (calls per step).", "",
             "| | " + " | ".join(f"B = {r['B']}, H = {r['H']}" for r in rows) + " |",
             "|---|" + "---:|" * len(rows),
             "| whole step, µs | " + " | ".join(f"{r['step_us']:.0f}" for r in rows) + " |",
             "| fixed cost (B = H = 1), µs | "
             + " | ".join(f"{r['fixed_us']:.0f} ({100 * r['fixed_us'] / r['step_us']:.0f}%)"
                          for r in rows) + " |",
             "| operations recorded per step | "
             + " | ".join(f"{r['ops_per_step']:.0f}" for r in rows) + " |"]  # fmt: skip
    for k in range(len(rows[0]["top"])):
        cells = [f"`{r['top'][k]['op']}` {100 * r['top'][k]['share']:.0f}% "
                 f"({r['top'][k]['calls_per_step']:.0f})" for r in rows]  # fmt: skip
        lines.append(f"| {k + 1}. | " + " | ".join(cells) + " |")
    return lines


def compile_table(results: dict) -> list[str]:
    if "torchcompile" not in results:
        return [_missing(results, "torchcompile")]
    lines = ["`torch.compile` (default mode) of the forward pass and loss, the backward compiled "
             "with it; float64, one thread, CPU time, medians; eager and compiled alternating "
             "in one process.", "",
             "| B | T | H | compile s | eager µs | compiled µs | compiled / eager |",
             "|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in results["torchcompile"]["rows"]:
        lines.append(f"| {r['B']} | {r['T']} | {r['H']} | {r['compile_s']:.0f} | "
                     f"{r['eager_us']:.0f} | {r['compiled_us']:.0f} | "
                     f"{r['compiled_us'] / r['eager_us']:.2f} |")  # fmt: skip
    return lines


def _missing(results: dict, name: str) -> str:
    """Why a torch measurement is missing: torch not installed, or the worker's error."""
    error = results.get("errors", {}).get(name)
    if error is None:
        return "torch was not installed for this run."
    return f"This measurement failed in this run: `{error.strip().splitlines()[-1]}`."


def peak_table(results: dict) -> list[str]:
    lines = ["| library | dtype | threads | GFLOP/s, 1000 x 1000 matrix product |",
             "|---|---|---:|---:|"]  # fmt: skip
    for p in results["peak"]:
        lib = "NumPy (OpenBLAS)" if p["lib"] == "rnnbook" else "torch"
        lines.append(f"| {lib} | {p['dtype']} | {p['threads']} | {p['gflops']:.1f} |")
    return lines


def ablation_table(results: dict) -> list[str]:
    lines = ["float64, T = 25, one thread, CPU time, medians: the plain way and rnnbook's way "
             "of computing the same numbers.", "",
             "| what | B | H | plain | µs | rnnbook | µs | plain / rnnbook |",
             "|---|---:|---:|---|---:|---|---:|---:|"]  # fmt: skip
    for a in results["ablations"]:
        lines.append(
            f"| {a['what']} | {a['B']} | {a['H']} | {a['slow']} | {a['slow_us']:.0f} | "
            f"{a['fast']} | {a['fast_us']:.0f} | {a['slow_us'] / a['fast_us']:.2f} |"
        )
    return lines


def busy_table(results: dict) -> list[str]:
    lines = ["| BLAS threads | rnnbook step ms (float64, B = 500, T = 25, H = 32), one core busy |",
             "|---:|---:|"]  # fmt: skip
    lines += [f"| {b['threads']} | {b['step_us'] / 1e3:.2f} |" for b in results["busy"]]
    return lines


def gradcheck_table(results: dict) -> list[str]:
    if "gradcheck" not in results:
        return [_missing(results, "gradcheck")]
    g = results["gradcheck"]
    shape = ", ".join(f"{k}={v}" for k, v in g["shape"].items())
    lines = [f"float64, {shape}, random h0; torch {g['torch']}. Loss: rnnbook "
             f"{g['loss_rnnbook']:.15f}, torch {g['loss_torch']:.15f}.", "",
             "| gradient | max relative difference |", "|---|---:|"]  # fmt: skip
    lines += [f"| {k} | {v:.1e} |" for k, v in g["max_relative_error"].items()]
    return lines


def markdown(results: dict) -> str:
    m = results["machine"]
    versions = f"NumPy {m['numpy']}" + (f", eager torch {m['torch']}" if "torch" in m else "")
    about = [
        f"Measured {results['started']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        f"{versions}; {results['rounds']} rounds x {results['repeats']} steps per library and "
        f"configuration. Load average (1, 5, 15 min) at the start {results['load_start']}, at "
        f"the end {results['load_end']}; 1-minute load at the start of each round "
        f"{results['loads']}."
        + (
            f" The matrix-product peak was measured again at {r['at']} (load {r['load']})."
            if (r := results.get("peak_remeasured"))
            else ""
        ),
    ]
    out = ["# Benchmark results", "",
           "Written by `python benchmarks/run.py`; do not edit by hand.", ""]  # fmt: skip
    for name, table in [("about", about), ("step", step_table(results)),
                        ("two", two_table(results)), ("targets", targets_table(results)),
                        ("efficiency", efficiency_table(results)), ("peak", peak_table(results)),
                        ("before", before_table(results)), ("fitstep", fitstep_table(results)),
                        ("seed", seed_table(results)), ("profile", profile_table(results)),
                        ("torchprofile", torchprofile_table(results)),
                        ("compile", compile_table(results)),
                        ("ablations", ablation_table(results)), ("busy", busy_table(results)),
                        ("gradcheck", gradcheck_table(results))]:  # fmt: skip
        out += _section(name, table)
    return "\n".join(out)


# Scripts that store the times the BPTT and training chapters read (each writes its own .json).
CHAPTER_TIMINGS = ("bptt_cost.py", "training_time.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=15, help="timed steps per size and round")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 steps: a smoke test")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.{json,md}")
    parser.add_argument("--tables-only", action="store_true",
                        help="measure nothing: rewrite results.md from results.json")  # fmt: skip
    parser.add_argument("--peak-only", action="store_true",
                        help="measure the matrix-product peak again into results.json")  # fmt: skip
    parser.add_argument("--skip-chapters", action="store_true",
                        help=f"do not run {' and '.join(CHAPTER_TIMINGS)}")  # fmt: skip
    args = parser.parse_args()
    if args.tables_only:
        text = markdown(json.loads((args.out / "results.json").read_text()))
        (args.out / "results.md").write_text(text)
        print(text)
        return
    if args.peak_only:
        results = json.loads((args.out / "results.json").read_text())
        results["peak"] = measure_peak(results["libs"])
        results["peak_remeasured"] = {
            "at": datetime.datetime.now().isoformat(timespec="seconds"),
            "load": loadavg(),
        }
        (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        (args.out / "results.md").write_text(markdown(results))
        return
    rounds, repeats = (2, 2) if args.quick else (args.rounds, args.repeats)
    libs = ["rnnbook"] + (["torch"] if importlib.util.find_spec("torch") else [])
    if len(libs) == 1:
        print("torch is not installed (pip install -e '.[bench]'): measuring rnnbook only")

    results = measure(
        rounds, repeats, libs, lambda msg: print(msg, file=sys.stderr, flush=True), quick=args.quick
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    text = markdown(results)
    (args.out / "results.md").write_text(text)
    print(text)
    if not (args.quick or args.skip_chapters):
        for script in CHAPTER_TIMINGS:
            print(f"\n{script}:", flush=True)
            subprocess.run([sys.executable, str(HERE / script)], check=True)


if __name__ == "__main__":
    main()
