"""Benchmarks: rnnbook against PyTorch, and the measurements behind the Performance appendix.

    python benchmarks/run.py              # about 5 minutes on 2 cores; --quick for a smoke run

One step = forward over B sequences of length T, the MSE, and all gradients by BPTT
(rnnbook: forward, mse_loss, backward; torch: nn.RNN(tanh) + nn.Linear, loss.backward()),
same weights and data, float64 and float32, 1 and 2 threads. Each library is timed in a
process of its own (in one process each slows the other down), the processes alternate
library and order round by round, and every table shows medians over all rounds.

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
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import (  # noqa: E402
    SEED_NOTEBOOK_SECONDS,
    SEED_TARGET_MSE,
    SIZES,
    cpu_model,
    matmul_flops,
)

DTYPES = ("float64", "float32")
THREADS = (1, 2)
NO_FAULTS = {"MALLOC_TOP_PAD_": str(100 * 2**20)}  # glibc keeps 100 MiB of freed heap
# rnnbook/rnn.py before its speed work (the foundation's version), for a before/after table
BEFORE = "ad7ff8a"


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
    """A copy of today's rnnbook with rnn.py as it was at git revision `rev` (None: no git)."""
    root = HERE.parent
    try:
        old = subprocess.run(["git", "show", f"{rev}:rnnbook/rnn.py"], cwd=root, check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    shutil.copytree(
        root / "rnnbook", dest / "rnnbook", ignore=shutil.ignore_patterns("__pycache__")
    )
    (dest / "rnnbook" / "rnn.py").write_text(old)
    return dest


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def busy_machine(rounds: int, H: int = 32) -> list[dict]:
    """rnnbook's step with 1 and 2 BLAS threads while another process keeps one core busy."""
    times: dict = {1: [], 2: []}
    for r in range(rounds):
        for threads in (1, 2) if r % 2 == 0 else (2, 1):
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                times[threads].append(worker("faults", str(H), threads=threads)["step_us"])
            finally:
                busy.kill()
                busy.wait()
    return [{"H": H, "threads": n, "step_us": float(np.median(t))} for n, t in times.items()]


def measure(rounds: int, repeats: int, libs: list[str], log) -> dict:
    results: dict = {
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__},  # fmt: skip
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "load_start": loadavg(), "rounds": rounds, "repeats": repeats, "libs": libs,
    }  # fmt: skip
    if "torch" in libs:
        import torch  # only for its version; the timing happens in workers

        results["machine"]["torch"] = torch.__version__

    samples: dict = {}
    before = package_at(BEFORE, Path(tempfile.mkdtemp()))
    runs = [(lib, {}) for lib in libs]
    if before is not None:
        results["before"] = BEFORE
        runs.append(("rnnbook-before", {"PYTHONPATH": str(before)}))
    for r in range(rounds):
        for dtype in DTYPES:
            for threads in THREADS:
                for lib, env in runs if r % 2 == 0 else runs[::-1]:
                    if lib == "rnnbook-before" and threads != 1:
                        continue
                    log(f"round {r + 1}/{rounds}: {lib} {dtype} {threads} thread(s)")
                    name = lib.split("-")[0]
                    for row in worker("step", name, dtype, str(repeats), threads=threads, env=env):
                        key = (lib, dtype, threads, row["B"], row["T"], row["H"])
                        samples.setdefault(key, []).extend(row["seconds"])
    results["step"] = [
        {"lib": k[0], "dtype": k[1], "threads": k[2], "B": k[3], "T": k[4], "H": k[5],
         "median_s": float(np.median(v)), "min_s": float(np.min(v)), "n": len(v)}
        for k, v in sorted(samples.items())
    ]  # fmt: skip

    log("matrix-multiply peak")
    results["peak"] = [
        {"lib": lib, "dtype": dtype, "threads": threads,
         "gflops": worker("peak", "numpy" if lib == "rnnbook" else lib, dtype, threads=threads)}
        for lib in libs for dtype in DTYPES for threads in THREADS
    ]  # fmt: skip
    log("ablations")
    results["ablations"] = worker("ablations")
    results["faults"] = [worker("faults", "32"), worker("faults", "32", env=NO_FAULTS)]
    log("threads on a busy machine")
    results["busy"] = busy_machine(rounds)
    log("seed configuration")
    results["seed"] = worker("seed")
    if "torch" in libs:
        log("gradient check against torch autograd")
        results["gradcheck"] = worker("gradcheck")
    results["load_end"] = loadavg()
    return results


# ------------------------------------------------------------------------------------------
# Tables (Markdown), marked so that book/performance.md can include each one.


def _section(name: str, lines: list[str]) -> list[str]:
    return [f"<!-- {name} -->", *lines, f"<!-- /{name} -->", ""]


def _step_medians(results: dict) -> dict[tuple, float]:
    """Median step seconds by (lib, dtype, threads, B, T, H)."""
    return {tuple(s[k] for k in ("lib", "dtype", "threads", "B", "T", "H")): s["median_s"]
            for s in results["step"]}  # fmt: skip


def step_table(results: dict) -> list[str]:
    step = _step_medians(results)
    peak = {}
    for p in results["peak"]:  # the machine's peak: the better of the two BLAS libraries
        key = (p["dtype"], p["threads"])
        peak[key] = max(peak.get(key, 0.0), p["gflops"])
    torch = "torch" in results["libs"]
    head = "| dtype | threads | T | H | rnnbook ms |"
    rule = "|---|---:|---:|---:|---:|"
    if torch:
        head += " torch ms | rnnbook / torch |"
        rule += "---:|---:|"
    head += " rnnbook GFLOP/s (% of peak) |" + (" torch GFLOP/s (% of peak) |" if torch else "")
    rule += "---:|" + ("---:|" if torch else "")
    lines = [f"B = {SIZES[0][0]} sequences in every row.", "", head, rule]
    for dtype in DTYPES:
        for threads in THREADS:
            for B, T, H in SIZES:
                flops, top = matmul_flops(B, T, H) / 1e9, peak[(dtype, threads)]
                libs = ["rnnbook", "torch"] if torch else ["rnnbook"]
                ms = {lib: step[(lib, dtype, threads, B, T, H)] for lib in libs}
                row = f"| {dtype} | {threads} | {T} | {H} | {1e3 * ms['rnnbook']:.2f} |"
                if torch:
                    row += f" {1e3 * ms['torch']:.2f} | **{ms['rnnbook'] / ms['torch']:.2f}** |"
                for lib in libs:
                    row += f" {flops / ms[lib]:.1f} ({100 * flops / ms[lib] / top:.0f}%) |"
                lines.append(row)
    return lines


def before_table(results: dict) -> list[str]:
    if "before" not in results:
        return ["(no git history: the version before the speed work was not measured)"]
    step = _step_medians(results)
    lines = [f"rnnbook/rnn.py at commit {results['before']} (before) and now, 1 thread.", "",
             "| dtype | B | T | H | before ms | now ms | speed-up |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for dtype in DTYPES:
        for B, T, H in SIZES:
            old = step[("rnnbook-before", dtype, 1, B, T, H)]
            new = step[("rnnbook", dtype, 1, B, T, H)]
            lines.append(f"| {dtype} | {B} | {T} | {H} | {1e3 * old:.2f} | {1e3 * new:.2f} | "
                         f"{old / new:.2f}x |")  # fmt: skip
    return lines


def peak_table(results: dict) -> list[str]:
    lines = ["| library | dtype | threads | GFLOP/s, 2000 x 2000 matrix product |",
             "|---|---|---:|---:|"]  # fmt: skip
    for p in results["peak"]:
        lib = "NumPy (OpenBLAS)" if p["lib"] == "rnnbook" else "torch"
        lines.append(f"| {lib} | {p['dtype']} | {p['threads']} | {p['gflops']:.1f} |")
    return lines


def _seed_row(label: str, run: dict) -> str:
    return (f"| {label} | {run['data_seed']} | {run['epochs']} | {run['test_mse']:.5f} | "
            f"{run['floor']:.5f} | {run['seconds']:.2f} | "
            f"{SEED_NOTEBOOK_SECONDS / run['seconds']:.0f}x |")  # fmt: skip


def seed_table(results: dict) -> list[str]:
    seed = results["seed"]
    fixed, target = seed["fixed"], seed["target"]
    lines = ["| run | data seed | epochs | test MSE | floor of this test set | wall s | "
             f"speed-up over {SEED_NOTEBOOK_SECONDS} s |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    lines.append(_seed_row("100 epochs, as the seed notebook", fixed))
    if target:
        lines.append(_seed_row(f"until test MSE <= {SEED_TARGET_MSE}", target))
    skipped = ", ".join(f"{s['data_seed']} ({s['reason']})" for s in seed["skipped"])
    lines += ["", f"Data seeds tried before: {skipped or 'none'}."]
    return lines


def ablation_table(results: dict) -> list[str]:
    lines = ["| operation | H | plain | µs | rnnbook | µs | speed-up |",
             "|---|---:|---|---:|---|---:|---:|"]  # fmt: skip
    for a in results["ablations"]:
        speedup = a["slow_us"] / a["fast_us"]
        lines.append(f"| {a['what']} | {a['H']} | `{a['slow']}` | {a['slow_us']:.0f} | "
                     f"`{a['fast']}` | {a['fast_us']:.0f} | {speedup:.1f}x |")  # fmt: skip
    return lines


def busy_table(results: dict) -> list[str]:
    lines = ["| BLAS threads | rnnbook step ms (float64, B = 500, T = 25, H = 32), one core busy |",
             "|---:|---:|"]  # fmt: skip
    lines += [f"| {b['threads']} | {b['step_us'] / 1e3:.2f} |" for b in results["busy"]]
    return lines


def faults_table(results: dict) -> list[str]:
    lines = ["| allocator setting | page faults per step | step ms |", "|---|---:|---:|"]
    for f in results["faults"]:
        env = " ".join(f"`{k}={v}`" for k, v in f["malloc_env"].items()) or "default"
        lines.append(f"| {env} | {f['faults']:.0f} | {f['step_us'] / 1e3:.2f} |")
    return lines


def gradcheck_table(results: dict) -> list[str]:
    if "gradcheck" not in results:
        return ["torch was not installed for this run: no comparison."]
    g = results["gradcheck"]
    shape = ", ".join(f"{k}={v}" for k, v in g["shape"].items())
    lines = [f"float64, {shape}, random h0; torch {g['torch']}. Loss: rnnbook "
             f"{g['loss_rnnbook']:.15f}, torch {g['loss_torch']:.15f}.", "",
             "| gradient | max relative difference |", "|---|---:|"]  # fmt: skip
    lines += [f"| {k} | {v:.1e} |" for k, v in g["max_relative_error"].items()]
    return lines


def markdown(results: dict) -> str:
    m = results["machine"]
    versions = f"NumPy {m['numpy']}" + (f", torch {m['torch']}" if "torch" in m else "")
    about = [
        f"Measured {results['started']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        f"{versions}; {results['rounds']} rounds x {results['repeats']} steps per library and "
        f"configuration, medians. Load average (1, 5, 15 min) at the start "
        f"{results['load_start']}, at the end {results['load_end']}.",
    ]
    out = ["# Benchmark results", "",
           "Written by `python benchmarks/run.py`; do not edit by hand.", ""]  # fmt: skip
    for name, lines in [("about", about), ("step", step_table(results)),
                        ("peak", peak_table(results)), ("before", before_table(results)),
                        ("seed", seed_table(results)),
                        ("ablations", ablation_table(results)), ("faults", faults_table(results)),
                        ("busy", busy_table(results)),
                        ("gradcheck", gradcheck_table(results))]:  # fmt: skip
        out += _section(name, lines)
    return "\n".join(out)


# Scripts that store the times the BPTT and training chapters read (each writes its own .json).
CHAPTER_TIMINGS = ("bptt_cost.py", "training_time.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=15, help="timed steps per size and round")
    parser.add_argument("--quick", action="store_true", help="1 round of 3 steps: a smoke test")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.{json,md}")
    parser.add_argument("--tables-only", action="store_true",
                        help="measure nothing: rewrite results.md from results.json")  # fmt: skip
    parser.add_argument("--skip-chapters", action="store_true",
                        help=f"do not run {' and '.join(CHAPTER_TIMINGS)}")  # fmt: skip
    args = parser.parse_args()
    if args.tables_only:
        text = markdown(json.loads((args.out / "results.json").read_text()))
        (args.out / "results.md").write_text(text)
        print(text)
        return
    rounds, repeats = (1, 3) if args.quick else (args.rounds, args.repeats)
    libs = ["rnnbook"] + (["torch"] if importlib.util.find_spec("torch") else [])
    if len(libs) == 1:
        print("torch is not installed (pip install -e '.[bench]'): measuring rnnbook only")

    results = measure(rounds, repeats, libs, lambda msg: print(msg, file=sys.stderr, flush=True))
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
