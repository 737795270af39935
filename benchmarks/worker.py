"""One measurement in a process of its own; run by benchmarks/run.py, prints JSON.

    python benchmarks/worker.py step rnnbook|torch float64|float32 REPEATS
    python benchmarks/worker.py peak numpy|torch float64|float32
    python benchmarks/worker.py seed
    python benchmarks/worker.py gradcheck
    python benchmarks/worker.py ablations
    python benchmarks/worker.py faults H

The number of BLAS/OpenMP threads is set by the parent through the environment
(OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS) before this interpreter starts.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import numpy as np
from common import SEED_TARGET_MSE, SIZES, problem

import rnnbook as rb

WARMUP = 3


def _time(step, repeats: int) -> list[float]:
    for _ in range(WARMUP):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def rnnbook_step(params, x, target):
    def step():
        cache = rb.forward(params, x)
        _, dy = rb.mse_loss(cache.y, target)
        return rb.backward(params, cache, dy)

    return step


def torch_modules(params, dtype):
    """torch.nn.RNN(tanh) + nn.Linear holding the same weights as `params`."""
    import torch

    H, D, O = params.hidden_size, params.input_size, params.output_size
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True).to(dtype)
    linear = torch.nn.Linear(H, O).to(dtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params.W_xh))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params.W_hh))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params.b_h))
        rnn.bias_hh_l0.zero_()  # torch has two hidden biases; their sum is b_h
        linear.weight.copy_(torch.from_numpy(params.W_hy))
        linear.bias.copy_(torch.from_numpy(params.b_y))
    return rnn, linear


def torch_step(params, x, target):
    import torch

    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    rnn, linear = torch_modules(params, dtype)
    xt, tt = torch.from_numpy(x), torch.from_numpy(target)
    parameters = [*rnn.parameters(), *linear.parameters()]

    def step():
        for p in parameters:
            p.grad = None
        out, _ = rnn(xt)
        loss = torch.nn.functional.mse_loss(linear(out), tt)
        loss.backward()

    return step


def _torch_with_threads():
    """torch, set to as many threads as the BLAS (``OMP_NUM_THREADS``, which run.py sets)."""
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    return torch


def step(lib: str, dtype: str, repeats: int) -> list[dict]:
    if lib == "torch":
        _torch_with_threads()
    make = {"rnnbook": rnnbook_step, "torch": torch_step}[lib]
    rows = []
    for B, T, H in SIZES:
        params, x, target = problem(B, T, H, dtype)
        rows.append({"B": B, "T": T, "H": H, "seconds": _time(make(params, x, target), repeats)})
    return rows


def peak(lib: str, dtype: str, n: int = 2000, repeats: int = 7) -> float:
    """GFLOP/s of an n x n matrix product, the most a BLAS gets out of this machine."""
    a = np.random.default_rng(0).normal(size=(n, n)).astype(dtype)
    if lib == "torch":
        torch = _torch_with_threads()
        a = torch.from_numpy(a)
        out = torch.empty_like(a)
        seconds = _time(lambda: torch.matmul(a, a, out=out), repeats)
    else:
        out = np.empty_like(a)
        seconds = _time(lambda: np.matmul(a, a, out=out), repeats)
    return 2 * n**3 / min(seconds) / 1e9


TARGET = SEED_TARGET_MSE  # the seed notebook's test MSE
SEED = rb.data.SEED_CONFIG  # frequency 0.1, sequences of 25 steps


def _seed_run(data_seed: int, epochs: int, *, until_target: bool) -> dict:
    """Data, split, training (H = 16, Adam 0.01, minibatches of 32, clip 1) and test MSE."""
    start = time.perf_counter()
    rng = np.random.default_rng(data_seed)
    parts = rb.split(rb.seed_config(rng), rng=rng)  # 500 sequences of length 25
    params = rb.init_params(1, 16, 1, rng=np.random.default_rng(0))
    optimizer, order = rb.Adam(0.01), np.random.default_rng(0)
    test = None
    for epoch in range(1, epochs + 1):
        rb.fit(params, parts.train.x, parts.train.y, optimizer=optimizer, epochs=1,
               batch_size=32, clip_norm=1.0, rng=order)  # fmt: skip
        if until_target or epoch == epochs:
            test = rb.evaluate(params, parts.test.x, parts.test.y)
            if until_target and test <= TARGET:
                break
    T = parts.test.x.shape[1]
    floor = float(rb.first_step_floor(SEED["freq"], parts.test.phase, T))
    return {"data_seed": data_seed, "epochs": epoch, "test_mse": test, "floor": floor,
            "seconds": time.perf_counter() - start}  # fmt: skip


def seed() -> dict:
    """The seed configuration end to end, two ways (see the Performance appendix)."""
    fixed = _seed_run(0, 100, until_target=False)  # the book's split, the seed's 100 epochs
    tried = []
    for data_seed in range(20):  # the first split on which TARGET is reachable and reached
        rng = np.random.default_rng(data_seed)
        phase = rb.split(rb.seed_config(rng), rng=rng).test.phase
        if rb.first_step_floor(SEED["freq"], phase, SEED["length"]) > TARGET:
            tried.append({"data_seed": data_seed, "reason": "test-set floor above the target"})
            continue
        run = _seed_run(data_seed, 300, until_target=True)
        if run["test_mse"] <= TARGET:
            return {"fixed": fixed, "target": run, "skipped": tried}
        tried.append({"data_seed": data_seed, "reason": "not reached in 300 epochs"})
    return {"fixed": fixed, "target": None, "skipped": tried}


def gradcheck() -> dict:
    """rnnbook's BPTT against torch autograd, float64, with h0 and D, O > 1."""
    import torch

    rng = np.random.default_rng(7)
    B, T, D, H, O = 4, 9, 3, 6, 2
    params = rb.init_params(D, H, O, scheme="xavier_normal", rng=rng)
    params.b_h[:], params.b_y[:] = rng.normal(size=H), rng.normal(size=O)
    x, target = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, O))
    h0 = rng.normal(size=(B, H))

    cache = rb.forward(params, x, h0)
    loss, dy = rb.mse_loss(cache.y, target)
    grads, dh0 = rb.bptt(params, cache, dy)

    rnn, linear = torch_modules(params, torch.float64)
    h0_t = torch.from_numpy(h0).unsqueeze(0).requires_grad_(True)
    out, _ = rnn(torch.from_numpy(x), h0_t)
    loss_t = torch.nn.functional.mse_loss(linear(out), torch.from_numpy(target))
    loss_t.backward()
    theirs = {
        "W_xh": rnn.weight_ih_l0.grad, "W_hh": rnn.weight_hh_l0.grad,
        "b_h": rnn.bias_ih_l0.grad, "W_hy": linear.weight.grad, "b_y": linear.bias.grad,
        "h0": h0_t.grad[0],
    }  # fmt: skip
    ours = {**dict(grads.items()), "h0": dh0}
    errors = {}
    for name, g in ours.items():
        t = theirs[name].numpy()
        errors[name] = float(np.abs(g - t).max() / max(np.abs(t).max(), 1e-300))
    # torch's second bias gets the same gradient as b_h
    errors["b_h (torch bias_hh)"] = float(
        np.abs(grads.b_h - rnn.bias_hh_l0.grad.numpy()).max() / np.abs(grads.b_h).max()
    )
    return {"shape": {"B": B, "T": T, "D": D, "H": H, "O": O}, "loss_rnnbook": loss,
            "loss_torch": float(loss_t.detach()), "max_relative_error": errors,
            "torch": torch.__version__}  # fmt: skip


def ablations(repeats: int = 200) -> list[dict]:
    """Each speed choice in rnnbook.rnn against the plain alternative, float64, B = 500, T = 25."""
    rows = []

    def add(what, H, slow_name, slow, fast_name, fast, n=repeats):
        s, f = np.median(_time(slow, n)), np.median(_time(fast, n))
        rows.append({"what": what, "H": H, "slow": slow_name, "fast": fast_name,
                     "slow_us": s * 1e6, "fast_us": f * 1e6})  # fmt: skip

    for H in (16, 32, 128):
        _ablate(H, add)
    return rows


def _ablate(H: int, add, B: int = 500, T: int = 25) -> None:
    """Time each pair of operations of `ablations` on arrays of hidden size H."""
    rng = np.random.default_rng(0)
    W = rng.normal(size=(H, H)) / np.sqrt(H)
    W_T = np.ascontiguousarray(W.T)
    w = rng.normal(size=(H, 1))
    hs = np.tanh(rng.normal(size=(T + 1, B, H)))
    xs = rng.normal(size=(T, B, 1))
    h_bf = np.ascontiguousarray(hs.transpose(1, 0, 2))  # batch-first (B, T + 1, H)
    out = np.empty((B, H))
    big = np.empty((T, B, H))
    dz2 = rng.normal(size=(T * B, H))
    ones = np.ones(T * B)

    def loop(f):
        return lambda: [f(t) for t in range(1, T + 1)]

    add(
        "recurrent products, one per step",
        H,
        "h @ W.T (a transposed view)",
        loop(lambda t: np.matmul(hs[t - 1], W.T, out=out)),
        "h @ W_T (a contiguous copy)",
        loop(lambda t: np.matmul(hs[t - 1], W_T, out=out)),
    )
    add(
        "time-major storage, one step's slice",
        H,
        "h[:, t] of (B, T, H) @ W_T",
        loop(lambda t: np.matmul(h_bf[:, t - 1], W_T, out=out)),
        "hs[t] of (T, B, H) @ W_T",
        loop(lambda t: np.matmul(hs[t - 1], W_T, out=out)),
    )
    add(
        "einsum instead of @, one per step",
        H,
        "np.einsum('bi,ij->bj', h, W_T)",
        loop(lambda t: np.einsum("bi,ij->bj", hs[t - 1], W_T, out=out)),
        "np.matmul(h, W_T, out=)",
        loop(lambda t: np.matmul(hs[t - 1], W_T, out=out)),
    )
    add(
        "input term W_xh x_t, all steps (D = 1)",
        H,
        "np.matmul(xs, w.T, out=)",
        lambda: np.matmul(xs, w.T, out=big),
        "np.multiply(xs, w.T, out=)",
        lambda: np.multiply(xs, w.T, out=big),
    )
    add(
        "bias gradient, sum over T*B rows",
        H,
        "dz.sum(axis=0)",
        lambda: dz2.sum(axis=0),
        "ones @ dz",
        lambda: ones @ dz2,
    )
    add("tanh derivative 1 - h^2, all steps", H,
        "1.0 - hs**2 (fresh arrays)", lambda: 1.0 - hs[1:] ** 2,
        "in place per step, out=", loop(lambda t: np.subtract(
            1.0, np.multiply(hs[t], hs[t], out=out), out=out)))  # fmt: skip


def faults(H: int = 32, repeats: int = 50) -> dict:
    """A whole rnnbook step (float64, B = 500, T = 25): its time and its page faults."""
    params, x, target = problem(500, 25, H, "float64")
    step_fn = rnnbook_step(params, x, target)
    for _ in range(WARMUP):
        step_fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    seconds = _time(step_fn, repeats)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    return {"H": H, "faults": (after - before) / (repeats + WARMUP),
            "step_us": float(np.median(seconds)) * 1e6,
            "malloc_env": {k: v for k, v in os.environ.items() if k[:6] == "MALLOC"}}  # fmt: skip


def main(argv: list[str]) -> None:
    what = argv[0]
    if what == "step":
        result = step(argv[1], argv[2], int(argv[3]))
    elif what == "peak":
        result = peak(argv[1], argv[2])
    elif what == "seed":
        result = seed()
    elif what == "gradcheck":
        result = gradcheck()
    elif what == "ablations":
        result = ablations()
    elif what == "faults":
        result = faults(int(argv[1]))
    else:
        raise SystemExit(f"unknown measurement {what!r}; see the docstring")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
