"""One measurement in a process of its own; run by benchmarks/run.py, prints JSON.

    python benchmarks/worker.py step LIB float64|float32 REPEATS [B,T,H;B,T,H;...]
    python benchmarks/worker.py fitstep LIB REPEATS
    python benchmarks/worker.py seed LIB [EPOCHS]
    python benchmarks/worker.py peak numpy|torch float64|float32
    python benchmarks/worker.py ablations
    python benchmarks/worker.py profile
    python benchmarks/worker.py torchprofile
    python benchmarks/worker.py torchcompile
    python benchmarks/worker.py gradcheck

LIB is one of
    rnnbook          the fast path: a workspace (rnnbook.rnn.Workspace), as rnnbook.fit runs it
    rnnbook-public   the public functions rb.forward, rb.mse_loss, rb.backward (fresh arrays)
    rnnbook-split    the batch split over two threads (rnnbook.train.BatchSplit)
    torch            eager PyTorch (nn.RNN(tanh) + nn.Linear, loss.backward(); no torch.compile)
An earlier rnnbook is measured as rnnbook-public with that package first on PYTHONPATH.

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
from common import SIZES, problem

import rnnbook as rb

WARMUP = 2  # calls before timing: the first allocates the buffers


def _time(step, repeats: int, clock=time.perf_counter) -> list[float]:
    """Seconds of `repeats` calls of ``step()`` (wall clock by default), after WARMUP calls."""
    for _ in range(WARMUP):
        step()
    times = []
    for _ in range(repeats):
        start = clock()
        step()
        times.append(clock() - start)
    return times


def _times(step, repeats: int) -> dict:
    """Wall-clock and CPU seconds (this process, all its threads) of each call."""
    for _ in range(WARMUP):
        step()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"seconds": wall, "cpu_seconds": cpu}


# ------------------------------------------------------------------------------------------
# One training step (forward, MSE, BPTT), four ways.


def rnnbook_step(params, x, target):
    """The fast path: one workspace, reused by every step (as rnnbook.fit does)."""
    ws = rb.rnn.make_workspace(params)

    def step():
        cache = ws.forward(params, x)
        _, dy = rb.mse_loss(cache.y, target)
        return ws.backward(params, cache, dy)

    return step


def public_step(params, x, target):
    """The public functions: full validation and fresh arrays on every call."""

    def step():
        cache = rb.forward(params, x)
        _, dy = rb.mse_loss(cache.y, target)
        return rb.backward(params, cache, dy)

    return step


def split_step(params, x, target):
    """Two halves of the batch in two threads, a workspace each (BLAS at one thread)."""
    split = rb.train.BatchSplit(params, parts=2)

    def step():
        cache = split.forward(params, x)
        _, dy = rb.mse_loss(cache.y, target)
        return split.backward(params, cache, dy)

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


STEPS = {"rnnbook": rnnbook_step, "rnnbook-public": public_step, "rnnbook-split": split_step,
         "torch": torch_step}  # fmt: skip


def _torch_with_threads():
    """torch, set to as many threads as the BLAS (``OMP_NUM_THREADS``, which run.py sets)."""
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    return torch


def step(lib: str, dtype: str, repeats: int, only: str | None = None) -> list[dict]:
    """Step times at every size of SIZES (or only at `only`, "B,T,H;B,T,H;...")."""
    if lib == "torch":
        _torch_with_threads()
    rows = []
    sizes = [tuple(int(n) for n in size.split(",")) for size in only.split(";")] if only else SIZES
    for B, T, H in sizes:
        params, x, target = problem(B, T, H, dtype)
        rows.append({"B": B, "T": T, "H": H, **_times(STEPS[lib](params, x, target), repeats)})
    return rows


# ------------------------------------------------------------------------------------------
# Whole training steps and runs: forward, loss, BPTT, clipping and the optimizer.

FIT = {"T": 25, "B": 32, "hidden_sizes": (16, 32), "epochs": 5, "sequences": 320}


def _torch_fit(params, x, target, *, optimizer: str, lr: float, epochs: int, batch_size: int,
               clip_norm: float | None, rng):  # fmt: skip
    """fit's algorithm in eager PyTorch: shuffled minibatches, MSE, BPTT, clipping, a step."""
    import torch

    rnn, linear = torch_modules(params, torch.float64)
    parameters = [*rnn.parameters(), *linear.parameters()]
    make = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer]
    opt = make(parameters, lr=lr)
    xt, tt = torch.from_numpy(x), torch.from_numpy(target)
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(x)))
        for first in range(0, len(x), batch_size):
            batch = order[first : first + batch_size]
            opt.zero_grad(set_to_none=True)
            out, _ = rnn(xt[batch])
            loss = torch.nn.functional.mse_loss(linear(out), tt[batch])
            loss.backward()
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(parameters, clip_norm)
            opt.step()
    return rnn, linear


def fitstep(lib: str, repeats: int) -> list[dict]:
    """CPU seconds per training step (step + clip at 1 + Adam 0.01) at B = 32, T = 25.

    Each repeat is one call of fit for FIT["epochs"] epochs over FIT["sequences"] sequences;
    its time divided by the number of steps is one sample.
    """
    if lib == "torch":
        _torch_with_threads()
    data = rb.sine_waves(FIT["sequences"], FIT["T"], rng=np.random.default_rng(0))
    steps = FIT["epochs"] * -(-FIT["sequences"] // FIT["B"])
    rows = []
    for H in FIT["hidden_sizes"]:
        seconds = _time(_fit_run(lib, H, data), repeats, time.process_time)
        rows.append({"H": H, "B": FIT["B"], "T": FIT["T"], "steps": steps,
                     "seconds": [s / steps for s in seconds]})  # fmt: skip
    return rows


def _fit_run(lib: str, H: int, data):
    """One call of fit (or of its eager-PyTorch twin) as FIT says, from the same start."""
    params = rb.init_params(1, H, 1, rng=np.random.default_rng(0))
    options = dict(epochs=FIT["epochs"], batch_size=FIT["B"], clip_norm=1.0)

    if lib == "torch":
        return lambda: _torch_fit(params, data.x, data.y, optimizer="adam", lr=0.01,
                                  rng=np.random.default_rng(0), **options)  # fmt: skip
    return lambda: rb.fit(params.copy(), data.x, data.y, optimizer=rb.Adam(0.01),
                          rng=np.random.default_rng(0), **options)  # fmt: skip


# Like for like on the seed configuration: the same algorithm and the same number of updates.
SEED_RUNS = {
    "per-sequence SGD": dict(optimizer="sgd", lr=0.01, epochs=3, batch_size=1, clip_norm=None),
    "Adam, minibatches of 32": dict(optimizer="adam", lr=0.01, epochs=3, batch_size=32,
                                    clip_norm=1.0),
}  # fmt: skip
SEED_HIDDEN = 32


def seed(lib: str, epochs: int | None = None) -> list[dict]:
    """Each SEED_RUNS recipe on the seed configuration's split (H = 32): CPU time, test MSE.

    `epochs` replaces the recipes' epochs (for a quick smoke test of the benchmark).
    """
    if lib == "torch":
        _torch_with_threads()
    rng = np.random.default_rng(0)
    parts = rb.split(rb.seed_config(rng), rng=rng)  # the training chapter's split
    rows = []
    for name, recipe in SEED_RUNS.items():
        recipe = {**recipe, "epochs": epochs or recipe["epochs"]}
        params = rb.init_params(1, SEED_HIDDEN, 1, rng=np.random.default_rng(0))
        order = np.random.default_rng(0)
        start = time.process_time()  # one thread: CPU time, not the waits for the core
        if lib == "torch":
            rnn, linear = _torch_fit(params, parts.train.x, parts.train.y, rng=order, **recipe)
            seconds = time.process_time() - start  # the training, not the evaluation
            import torch

            with torch.no_grad():
                y = linear(rnn(torch.from_numpy(parts.test.x))[0]).numpy()
        else:
            make = {"adam": rb.Adam, "sgd": rb.SGD}[recipe["optimizer"]]
            rb.fit(params, parts.train.x, parts.train.y, optimizer=make(recipe["lr"]),
                   epochs=recipe["epochs"], batch_size=recipe["batch_size"],
                   clip_norm=recipe["clip_norm"], rng=order)  # fmt: skip
            seconds = time.process_time() - start
            y = rb.forward(params, parts.test.x).y
        updates = recipe["epochs"] * -(-len(parts.train.x) // recipe["batch_size"])
        rows.append({"run": name, "H": SEED_HIDDEN, "epochs": recipe["epochs"],
                     "updates": updates, "seconds": seconds,
                     "test_mse": float(np.mean((y - parts.test.y) ** 2))})  # fmt: skip
    return rows


# ------------------------------------------------------------------------------------------
# The machine's peak, and the gradient check.


def peak(lib: str, dtype: str, n: int = 1000, repeats: int = 7) -> float:
    """GFLOP/s of an n x n matrix product, the most a BLAS gets out of this machine.

    With one thread on CPU time, as the one-thread step times (two threads: wall clock).
    """
    one = int(os.environ.get("OMP_NUM_THREADS", "1")) == 1
    clock = time.process_time if one else time.perf_counter
    a = np.random.default_rng(0).normal(size=(n, n)).astype(dtype)
    if lib == "torch":
        torch = _torch_with_threads()
        a = torch.from_numpy(a)
        out = torch.empty_like(a)
        seconds = _time(lambda: torch.matmul(a, a, out=out), repeats, clock)
    else:
        out = np.empty_like(a)
        seconds = _time(lambda: np.matmul(a, a, out=out), repeats, clock)
    return 2 * n**3 / min(seconds) / 1e9


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


# ------------------------------------------------------------------------------------------
# Ablations: each arrangement of rnnbook.rnn against the plain alternative, in isolation.

ABLATION_SIZES = [(500, 16), (500, 64), (32, 32)]  # (B, H), T = 25, D = O = 1, float64


def _median_us(fn, repeats: int, clock=time.process_time) -> float:
    """Median microseconds of ``fn()``, CPU time of this (single-threaded) process."""
    return float(np.median(_time(fn, repeats, clock))) * 1e6


def ablations(repeats: int = 30) -> list[dict]:
    """Each speed choice of rnnbook.rnn against the plain alternative (float64, one thread).

    Every row times two ways of computing the same numbers on the same arrays, the plain one
    ("slow") and rnnbook's ("fast", named so even where the plain one turns out faster),
    CPU time of this process, medians.
    """
    rows = []
    for B, H in ABLATION_SIZES:
        rows += _ablate(B, H, repeats)
    return rows


def _ablate(B: int, H: int, repeats: int, T: int = 25) -> list[dict]:
    rng = np.random.default_rng(0)
    R = H + 2  # [h; 1; x] with D = 1
    W_hh, W_xh = rng.normal(size=(H, H)) / np.sqrt(H), rng.normal(size=(H, 1))
    b_h = rng.normal(size=H)
    W_hh_T = np.ascontiguousarray(W_hh.T)
    W_a = np.concatenate([W_hh, b_h[:, None], W_xh], axis=1)
    x = rng.normal(size=(T, B, 1))
    z = np.ones((T + 1, R, B))  # the stacked blocks [h_s; 1; x_{s+1}]
    z[:T, H + 1 :] = x.transpose(0, 2, 1)
    z[:, :H] = np.tanh(rng.normal(size=(T + 1, H, B)))
    hs = np.ascontiguousarray(z[:, :H].transpose(0, 2, 1))  # time-major (T + 1, B, H)
    h_bf = np.ascontiguousarray(hs.transpose(1, 0, 2))  # batch-first (B, T + 1, H)
    g = rng.normal(size=(T + 1, H + 1, B))  # [dz_{s+1}; dy_s]
    out, out_bh = np.empty((H, B)), np.empty((B, H))
    a = np.empty((T, B, H))
    products, sums = np.empty((T + 1, H + 1, R)), np.empty((H + 1, R))
    zT = z.transpose(0, 2, 1)
    rows = []

    def add(what, slow_name, slow, fast_name, fast):
        rows.append({"what": what, "B": B, "H": H, "slow": slow_name, "fast": fast_name,
                     "slow_us": _median_us(slow, repeats),
                     "fast_us": _median_us(fast, repeats)})  # fmt: skip

    def forward_plain():  # input term in bulk, then product, add and tanh per step
        np.multiply(x, W_xh[:, 0], out=a)
        np.add(a, b_h, out=a)
        for t in range(T):
            np.matmul(hs[t], W_hh_T, out=out_bh)
            a[t] += out_bh
            np.tanh(a[t], out=a[t])

    product = rb.rnn._product_for(H * B)

    def forward_stacked():  # one product with [W_hh | b_h | W_xh] and one tanh per step
        for s in range(T):
            product(W_a, z[s], out)
            np.tanh(out, out)

    add("forward pass: stacked operands [h; 1; x]",
        "input term in bulk; then product, add, tanh per step", forward_plain,
        "one product, one tanh per step", forward_stacked)  # fmt: skip
    add("tanh of one step's states, T times",
        "h[:, t] of (B, T, H): strided", lambda: [np.tanh(h_bf[:, t], out_bh) for t in range(T)],
        "a contiguous (H, B) block",
        lambda: [np.tanh(z[t, :H], out) for t in range(T)])  # fmt: skip
    # The small-block rule (rnnbook.rnn.SMALL_BLOCK), in the whole step: blocks of at most
    # SMALL_BLOCK numbers form 1 - h^2 for all steps at once and use np.dot; larger ones form
    # it step by step and use np.matmul. Against the other choice at the same size:
    params, xb, target = problem(B, T, H, "float64")
    rule = H * B <= rb.rnn.SMALL_BLOCK
    default = rb.rnn.SMALL_BLOCK
    rb.rnn.SMALL_BLOCK = 0 if rule else 10**12  # the other choice, for the buffers made now
    other = rnnbook_step(params, xb, target)
    other()
    rb.rnn.SMALL_BLOCK = default
    add("a whole step: the small-block rule",
        "1 - h^2 step by step, np.matmul" if rule else "1 - h^2 in bulk, np.dot", other,
        "1 - h^2 in bulk, np.dot" if rule else "1 - h^2 step by step, np.matmul",
        rnnbook_step(params, xb, target))  # fmt: skip
    dz2 = np.ascontiguousarray(g[:T, :H].transpose(0, 2, 1)).reshape(T * B, H)
    dy2 = np.ascontiguousarray(g[1:, H:].transpose(0, 2, 1)).reshape(T * B, 1)
    xs2, h_prev2 = x.reshape(T * B, 1), hs[:-1].reshape(T * B, H)
    h2, ones = hs[1:].reshape(T * B, H), np.ones(T * B)
    add("gradients of all five parameters",
        "five products with T B rows", lambda: (dz2.T @ xs2, dz2.T @ h_prev2, ones @ dz2,
                                                 dy2.T @ h2, ones @ dy2),
        "one batched product of the blocks, summed",
        lambda: np.sum(np.matmul(g, zT, out=products), axis=0, out=sums))  # fmt: skip
    return rows


def fit_ablations(repeats: int = 100) -> list[dict]:
    """The pieces of a training step at B = 32 that are not the RNN: validation, clipping,
    Adam (float64, H = 32, one thread)."""
    from rnnbook.clip import clip_grad_norm_

    rows = []
    params, x, target = problem(32, 25, 32, "float64")
    cache = rb.forward(params, x)
    _, dy = rb.mse_loss(cache.y, target)
    grads = rb.backward(params, cache, dy)

    def add(what, slow_name, slow, fast_name, fast):
        rows.append({"what": what, "B": 32, "H": 32, "slow": slow_name, "fast": fast_name,
                     "slow_us": _median_us(slow, repeats),
                     "fast_us": _median_us(fast, repeats)})  # fmt: skip

    ws_step = rnnbook_step(params, x, target)

    def validated_step():
        rb.rnn.check_params(params)
        rb.validate.float_array("x", x, (None, None, 1), dtype=params.dtype)
        rb.validate.float_array("dy", dy, x.shape, dtype=params.dtype)
        ws_step()

    add("a step, with the values of params, x and dy checked",
        "in every step", validated_step, "once per fit", ws_step)  # fmt: skip
    add("gradient clipping by global norm",
        "rb.clip_grad_norm: new arrays", lambda: rb.clip_grad_norm(grads, 1e9),
        "clip_grad_norm_: in place", lambda: clip_grad_norm_(grads, 1e9))  # fmt: skip
    flat, per_field = rb.Adam(1e-9), rb.Adam(1e-9)
    flat.step(params, grads)
    m, v = params.zeros_like(), params.zeros_like()

    def adam_per_field():  # the update of eq-adam, one field at a time
        per_field.t += 1
        b1, b2, t = 0.9, 0.999, per_field.t
        for (_, p), (_, g), (_, m_), (_, v_) in zip(params.items(), grads.items(), m.items(),
                                                    v.items()):  # fmt: skip
            m_ *= b1
            m_ += (1 - b1) * g
            v_ *= b2
            v_ += (1 - b2) * g * g
            p -= 1e-9 * (m_ / (1 - b1**t)) / (np.sqrt(v_ / (1 - b2**t)) + 1e-8)

    add("Adam", "field by field", adam_per_field,
        "all fields as one vector", lambda: flat.step(params, grads))  # fmt: skip
    return rows


# ------------------------------------------------------------------------------------------
# Profiles: where the time of a step goes.

PROFILE_SIZES = [(500, 25, 16), (500, 25, 64), (32, 25, 32)]


def _page_faults(fn, repeats: int = 20) -> float:
    """Minor page faults (fresh memory pages the kernel had to provide) per call of fn."""
    for _ in range(WARMUP):
        fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / repeats


def _repeats(B: int, T: int, H: int) -> int:
    return max(5, min(150, int(2e7 / (B * T * (H + 8) ** 2))))


def profile() -> dict:
    """The workspace step taken apart, float64, one thread, CPU time (medians).

    Parts: the forward products and tanh, the backward loop (products, 1 - h^2, multiplies),
    the gradient products, the loss, each timed on its own; "other" is the whole step minus
    the parts. The same step on one sequence with one hidden unit (B = H = 1, same T) has
    almost no arithmetic: its time is the step's fixed cost (the Python loop and one NumPy
    call after another). Page faults per step, and the public functions' step, for the cost
    of fresh arrays.
    """
    rows = [_profile_size(B, T, H) for B, T, H in PROFILE_SIZES]
    return {"rows": rows, "malloc_env": {k: v for k, v in os.environ.items() if k[:6] == "MALLOC"}}


def _profile_size(B: int, T: int, H: int) -> dict:
    params, x, target = problem(B, T, H, "float64")
    ws = rb.rnn.make_workspace(params)
    cache = ws.forward(params, x)
    _, dy = rb.mse_loss(cache.y, target)
    ws.backward(params, cache, dy)
    fb, bb = ws._forward_buffers[B, T], ws._backward_buffers[B, T]
    z, states, small = fb.blocks, list(fb.blocks[1:, :H]), bb.small

    def backward_loop():  # as Workspace.bptt: small blocks hold 1 - h^2 where dz goes
        if small:
            rb.rnn._tanh_derivative(z[1:, :H], out=bb.blocks[:T, :H])
        rb.rnn._backward_full(ws.W_back, bb, None if small else states, None)

    parts = {
        "forward: products": lambda: [fb.product(ws.W_a, s, h)
                                      for s, h in zip(fb.steps, fb.states[1:])],
        "forward: tanh": lambda: [np.tanh(h, h) for h in fb.states[1:]],
        "backward: products, 1 - h^2, multiplies": backward_loop,
        "gradient products": lambda: rb.rnn._sum_of_products(bb.blocks, z, bb),
        "loss (rb.mse_loss)": lambda: rb.mse_loss(cache.y, target),
    }  # fmt: skip
    n = _repeats(B, T, H)
    whole, public = rnnbook_step(params, x, target), public_step(params, x, target)
    total = _median_us(whole, n)
    times = {name: _median_us(fn, n) for name, fn in parts.items()}
    tiny = rnnbook_step(*problem(1, T, 1, "float64"))
    return {"B": B, "T": T, "H": H, "step_us": total, "parts_us": times,
            "other_us": total - sum(times.values()), "fixed_us": _median_us(tiny, 150),
            "public_us": _median_us(public, n), "faults_workspace": _page_faults(whole),
            "faults_public": _page_faults(public)}  # fmt: skip


def torchprofile(top: int = 6) -> dict:
    """Eager PyTorch's step (float64, one thread, CPU time): its fixed cost (B = H = 1) and
    torch.profiler's self CPU time by operation."""
    torch = _torch_with_threads()
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    rows = []
    for B, T, H in PROFILE_SIZES:
        params, x, target = problem(B, T, H, "float64")
        step_fn = torch_step(params, x, target)
        n = _repeats(B, T, H)
        total = _median_us(step_fn, n)
        fixed = _median_us(torch_step(*problem(1, T, 1, "float64")), 150)
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(min(n, 20)):
                step_fn()
        events = prof.key_averages()
        self_total = sum(e.self_cpu_time_total for e in events)
        ops = sorted(events, key=lambda e: -e.self_cpu_time_total)[:top]
        rows.append({"B": B, "T": T, "H": H, "step_us": total, "fixed_us": fixed,
                     "ops_per_step": sum(e.count for e in events) / min(n, 20),
                     "top": [{"op": e.key, "share": e.self_cpu_time_total / self_total,
                              "calls_per_step": e.count / min(n, 20)} for e in ops]})  # fmt: skip
    return {"rows": rows, "torch": torch.__version__}


COMPILE_SIZES = [(500, 25, 64), (32, 25, 32)]  # each compiles anew: seconds of CPU


def torchcompile(repeats: int = 20) -> dict:
    """torch.compile on the step's forward and loss (float64, one thread): the compile time,
    and eager and compiled step times in the same process, alternating, CPU time."""
    torch = _torch_with_threads()
    rows = []
    for B, T, H in COMPILE_SIZES:
        params, x, target = problem(B, T, H, "float64")
        rnn, linear = torch_modules(params, torch.float64)
        parameters = [*rnn.parameters(), *linear.parameters()]
        xt, tt = torch.from_numpy(x), torch.from_numpy(target)

        def loss(xt, tt, rnn=rnn, linear=linear):
            return torch.nn.functional.mse_loss(linear(rnn(xt)[0]), tt)

        def run(fn, parameters=parameters, xt=xt, tt=tt):
            for p in parameters:
                p.grad = None
            fn(xt, tt).backward()

        compiled = torch.compile(loss)
        start = time.perf_counter()
        run(compiled)  # compiles the forward and (through AOTAutograd) the backward
        compile_s = time.perf_counter() - start
        times: dict = {"eager": [], "compiled": []}
        for r in range(4):
            for name, fn in (("eager", loss), ("compiled", compiled))[:: 1 if r % 2 else -1]:
                times[name] += _time(lambda fn=fn: run(fn), repeats // 4 + 1, time.process_time)
        medians = {f"{k}_us": float(np.median(v)) * 1e6 for k, v in times.items()}
        rows.append({"B": B, "T": T, "H": H, "compile_s": compile_s, **medians})
    return {"rows": rows, "torch": torch.__version__}


def main(argv: list[str]) -> None:
    what = argv[0]
    if what == "step":
        result = step(argv[1], argv[2], int(argv[3]), *argv[4:])
    elif what == "fitstep":
        result = fitstep(argv[1], int(argv[2]))
    elif what == "seed":
        result = seed(argv[1], *(int(a) for a in argv[2:]))
    elif what == "peak":
        result = peak(argv[1], argv[2])
    elif what == "gradcheck":
        result = gradcheck()
    elif what == "ablations":
        result = ablations() + fit_ablations()
    elif what == "profile":
        result = profile()
    elif what == "torchprofile":
        result = torchprofile()
    elif what == "torchcompile":
        result = torchcompile()
    else:
        raise SystemExit(f"unknown measurement {what!r}; see the docstring")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
