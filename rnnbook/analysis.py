"""Looking inside BPTT: Jacobian products, gradient norm vs lag, hidden-state PCA, a memory task.

The backward recurrence of BPTT multiplies the gradient by one local Jacobian
per step,

    J_t = dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh                       (eq-jacobian)

so the sensitivity of h_t to an earlier state h_j, a total derivative through
the states in between, is the product over the lag t - j

    dh_t/dh_j = J_t J_{t-1} ... J_{j+1}                             (eq-jacobian-product)

and norm(dh_t/dh_j) <= sigma_max(W_hh)^(t-j) because 0 < 1 - h^2 <= 1 (eq-jacobian-bound).
Jacobians are in numerator layout: entry (a, b) of dh_t/dh_j is d h_{t,a} / d h_{j,b}.
The functions here compute these quantities from a forward cache, so that the
chapters on BPTT and vanishing gradients can measure what the equations claim.
All of them read the states h_0..h_T from ``cache.hs``.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import validate
from .data import RecallTask, recall_batches, sine_waves
from .init import init_params
from .loss import mse_loss, recall_loss
from .optim import Adam
from .params import Params, model_of
from .rnn import ForwardCache, RNNParams, backward, bptt, check_params, forward
from .train import DivergenceError


def _states(params: RNNParams, cache: ForwardCache) -> np.ndarray:
    """h_0..h_T of every sequence, shape (B, T + 1, H), after checking they fit `params`."""
    check_params(params)
    if not isinstance(cache, ForwardCache):
        raise ValueError(f"cache: expected rnnbook.ForwardCache, got {type(cache).__name__}")
    H = params.hidden_size
    hs = validate.float_array("cache.hs", cache.hs, (None, None, H), dtype=params.dtype)
    return hs.transpose(1, 0, 2)  # a batch-first view of the time-major states


def _jacobian(h: np.ndarray, W_hh: np.ndarray) -> np.ndarray:
    """J = diag(1 - h^2) W_hh for states h of shape (..., H); shape (..., H, H)  (eq-jacobian)."""
    return (1.0 - h**2)[..., :, None] * W_hh  # row i scaled by 1 - h_i^2


def _step(name: str, value: object, T: int) -> int:
    step = validate.size(name, value, minimum=0)
    if step > T:
        raise ValueError(f"{name}: expected a step in 0..{T} (the sequence length), got {step}")
    return step


def local_jacobians(params: RNNParams, cache: ForwardCache) -> np.ndarray:
    """The one-step Jacobians J_t = dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh, t = 1..T.

    Parameters
    ----------
    params : RNNParams
    cache : ForwardCache
        What :func:`rnnbook.forward` returned for `params`.

    Returns
    -------
    ndarray, shape (B, T, H, H)
        ``J[b, t - 1]`` is J_t of sequence b.
    """
    return _jacobian(_states(params, cache)[:, 1:], params.W_hh)


def jacobian_product(params: RNNParams, cache: ForwardCache, t: int, j: int) -> np.ndarray:
    """The Jacobian dh_t/dh_j = J_t J_{t-1} ... J_{j+1} of every sequence.

    Parameters
    ----------
    params : RNNParams
    cache : ForwardCache
    t, j : int
        Steps with 0 <= j <= t <= T; step 0 is h_0. For t == j the result is the identity.

    Returns
    -------
    ndarray, shape (B, H, H)
    """
    hs = _states(params, cache)
    B, T1, H = hs.shape
    t, j = _step("t", t, T1 - 1), _step("j", j, T1 - 1)
    if j > t:
        raise ValueError(f"j: expected j <= t = {t} (h_t depends only on earlier states), got {j}")
    product = np.broadcast_to(np.eye(H, dtype=params.dtype), (B, H, H)).copy()
    for i in range(j + 1, t + 1):
        product = _jacobian(hs[:, i], params.W_hh) @ product  # (eq-jacobian-product)
    return product


def jacobian_norms(params: RNNParams, cache: ForwardCache, index: int = 0) -> np.ndarray:
    """The spectral norms of dh_t/dh_j for all pairs of steps, of one sequence.

    Costs O(T^2 H^3): meant for the chapters' T of a few hundred and H of a few dozen.

    Parameters
    ----------
    params : RNNParams
    cache : ForwardCache
    index : int
        Which sequence of the batch.

    Returns
    -------
    ndarray, shape (T + 1, T + 1)
        ``N[t, j] = ||dh_t/dh_j||_2`` for 0 <= j <= t <= T (so ``N[t, t] = 1``);
        NaN for j > t, where h_t does not depend on h_j.
    """
    hs = _states(params, cache)
    B, T1, H = hs.shape
    index = validate.size("index", index, minimum=0)
    if index >= B:
        raise ValueError(f"index: expected a sequence index in 0..{B - 1}, got {index}")
    h = hs[index]
    norms = np.full((T1, T1), np.nan)
    identity = np.eye(H, dtype=params.dtype)[None]
    products = identity  # dh_0/dh_0, stacked over j = 0..t
    norms[0, 0] = 1.0
    for t in range(1, T1):
        products = np.concatenate([_jacobian(h[t], params.W_hh) @ products, identity])
        norms[t, : t + 1] = np.linalg.norm(products, ord=2, axis=(1, 2))
    return norms


def last_step_gradients(
    params: RNNParams,
    cache: ForwardCache,
    dh_T: np.ndarray,
) -> np.ndarray:
    """dL_T/dh_j for every j, for a loss L_T that depends on h_T only.

    Runs the backward recurrence (eq-bptt-recurrence) with a single source,
    dL_T/dh_T = `dh_T`, so that dL_T/dh_j = (dh_T/dh_j)^T dL_T/dh_T.

    Parameters
    ----------
    params : RNNParams
    cache : ForwardCache
    dh_T : ndarray, shape (B, H)
        The gradient of L_T with respect to h_T, e.g. ``dy_T @ params.W_hy``.

    Returns
    -------
    ndarray, shape (B, T + 1, H)
        ``g[:, j]`` is dL_T/dh_j for j = 0..T (``g[:, T]`` is `dh_T`,
        ``g[:, 0]`` is dL_T/dh_0).
    """
    hs = _states(params, cache)
    B, T1, H = hs.shape
    dh_T = validate.float_array("dh_T", dh_T, (B, H), dtype=params.dtype)
    g = np.empty_like(hs)
    g[:, -1] = dh_T
    for j in range(T1 - 1, 0, -1):
        # dL_T/dh_{j-1} = J_j^T dL_T/dh_j  (eq-jacobian), in row form:
        g[:, j - 1] = (g[:, j] * (1.0 - hs[:, j] ** 2)) @ params.W_hh
    return g


def W_hh_gradient_double_sum(
    params: RNNParams,
    cache: ForwardCache,
    dy: np.ndarray,
    *,
    truncate: int | None = None,
) -> np.ndarray:
    """dL/dW_hh term by term from the double sum, with explicit Jacobians.

    A slow reference for :func:`rnnbook.bptt` (O(T^2) products of H x H
    matrices), (eq-dW-hh-double-sum):

        dL/dW_hh = sum_t sum_{j <= t}
                   diag(1 - h_j^2) (dh_t/dh_j)^T dL_t/dh_t h_{j-1}^T

    With `truncate` = K only the terms with t - j < K are kept, which is what
    ``bptt(..., truncate=K)`` computes (eq-truncated-bptt).

    Parameters
    ----------
    params : RNNParams
    cache : ForwardCache
    dy : ndarray, shape (B, T, O)
        dL/dy_t for every step.
    truncate : int, optional
        K: keep only the terms with lag t - j < K; ``None`` keeps all.

    Returns
    -------
    ndarray, shape (H, H)
    """
    hs = _states(params, cache)
    B, T1, H = hs.shape
    T = T1 - 1
    O, dtype = params.output_size, params.dtype
    dy = validate.float_array("dy", dy, (B, T, O), dtype=dtype)
    K = T if truncate is None else min(validate.size("truncate", truncate), T)
    identity = np.broadcast_to(np.eye(H, dtype=dtype), (B, H, H))
    grad = np.zeros((H, H), dtype=dtype)
    for t in range(1, T + 1):
        dLt_dht = dy[:, t - 1] @ params.W_hy  # (eq-dL-dh-direct), (B, H)
        product = identity  # dh_t/dh_j for j = t
        for j in range(t, max(t - K, 0), -1):  # j = t, ..., t-K+1, j >= 1
            # (dh_t/dh_j)^T dL_t/dh_t, then through the tanh at step j
            dLt_dhj = np.einsum("bi,bij->bj", dLt_dht, product)
            dLt_daj = dLt_dhj * (1.0 - hs[:, j] ** 2)  # (eq-tanh-derivative)
            grad += dLt_daj.T @ hs[:, j - 1]  # term (t, j)
            J_j = _jacobian(hs[:, j], params.W_hh)  # (eq-jacobian)
            product = product @ J_j  # dh_t/dh_{j-1} (eq-jacobian-product)
    return grad


def grad_norm_vs_lag(params: RNNParams, cache: ForwardCache, dh_T: np.ndarray) -> np.ndarray:
    """The norm of dL_T/dh_{T - lag} for lag = 0..T: how much gradient reaches back `lag` steps.

    Parameters
    ----------
    params, cache, dh_T
        As for :func:`last_step_gradients`.

    Returns
    -------
    ndarray, shape (B, T + 1)
        Column ``lag`` holds the norm for h_{T - lag}; column 0 is the norm of `dh_T`.
    """
    g = last_step_gradients(params, cache, dh_T)
    return np.linalg.norm(g[:, ::-1], axis=2)


def power_norms(W: np.ndarray, n: int) -> np.ndarray:
    """Spectral norms of W^j for j = 0..n: the Jacobian products of a *linear* RNN.

    For h_t = W h_{t-1} + W_xh x_t + b_h (no tanh), dh_t/dh_j = W^(t-j) whatever the input.

    Parameters
    ----------
    W : ndarray, shape (H, H)
    n : int
        The largest power.

    Returns
    -------
    ndarray, shape (n + 1,)
    """
    W = validate.float_array("W", W, (None, None))
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix, got shape {W.shape}")
    n = validate.size("n", n, minimum=0)
    out = np.empty(n + 1)
    power = np.eye(W.shape[0], dtype=W.dtype)
    for j in range(n + 1):
        out[j] = np.linalg.norm(power, ord=2)
        power = W @ power
    return out


def geometric_rate(norms: np.ndarray, start: int = 0) -> np.ndarray:
    """The per-step factor r of a geometric trend, norms[..., lag] ~ C r^lag.

    Fits a least-squares line to log(norms) against the lag, using lags
    ``start`` .. n - 1 (skip a transient with `start`), and returns exp(slope).

    Parameters
    ----------
    norms : ndarray, shape (..., n)
        Positive values indexed by lag along the last axis.
    start : int
        The first lag used in the fit.

    Returns
    -------
    ndarray, shape (...)
        r > 1: growth; r < 1: decay.
    """
    norms = np.asarray(norms, dtype=float)
    if norms.ndim == 0 or not np.isfinite(norms).all() or (norms <= 0).any():
        raise ValueError("norms: expected an array of positive values indexed by lag")
    n = norms.shape[-1]
    start = validate.size("start", start, minimum=0)
    if n - start < 2:
        raise ValueError(f"start: expected at most {n - 2} so that two lags remain, got {start}")
    lags = np.arange(start, n, dtype=float)
    logs = np.log(norms[..., start:])
    centred = lags - lags.mean()
    slope = (logs - logs.mean(axis=-1, keepdims=True)) @ centred / (centred @ centred)
    return np.exp(slope)


def lyapunov_factor(
    params: RNNParams,
    cache: ForwardCache,
    start: int = 0,
) -> np.ndarray:
    """A finite-time estimate of exp(lambda_1), the top Lyapunov factor.

    A perturbation v of the state is carried through the Jacobians,
    v <- J_t v (eq-jacobian), and renormalised after every step. Over the
    steps t = start+1..T the growth factors ||J_t v|| are averaged
    geometrically:

        exp( (1 / (T - start)) sum_t log ||J_t v_{t-1}|| )

    which estimates exp(lambda_1), the top Lyapunov exponent
    lambda_1 = lim (1/tau) log ||dh_{j+tau}/dh_j|| along this trajectory:
    above 1, nearby trajectories separate; below 1, they converge.
    The first `start` steps only turn v towards the most expanding direction
    (it starts as the normalised all-ones vector) and are not counted.

    Parameters
    ----------
    params : RNNParams
    cache : ForwardCache
    start : int
        The number of steps discarded as a transient, 0 <= start < T.

    Returns
    -------
    ndarray, shape (B,)
    """
    hs = _states(params, cache)
    B, T1, H = hs.shape
    start = _step("start", start, T1 - 2)
    v = np.full((B, H), 1.0 / np.sqrt(H), dtype=params.dtype)
    log_growth = np.zeros(B)
    for t in range(1, T1):
        v = (v @ params.W_hh.T) * (1.0 - hs[:, t] ** 2)  # J_t v (eq-jacobian)
        norm = np.linalg.norm(v, axis=1)
        if t > start:
            log_growth += np.log(norm)
        v /= norm[:, None]
    return np.exp(log_growth / (T1 - 1 - start))


# ---------------------------------------------------------------------------------------------
# Principal components of hidden trajectories.


@dataclass(frozen=True)
class PCA:
    """Principal axes of a cloud of hidden states (see :func:`hidden_pca`).

    Attributes
    ----------
    mean : ndarray, shape (H,)
        The mean state, subtracted before projecting.
    components : ndarray, shape (n_components, H)
        Orthonormal principal axes, by decreasing variance. Each axis's sign is
        fixed so that its largest-magnitude entry is positive (deterministic output).
    explained_variance : ndarray, shape (n_components,)
        Variance of the states along each axis.
    explained_variance_ratio : ndarray, shape (n_components,)
        That variance as a fraction of the total variance of the states.
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray

    def transform(self, h: np.ndarray) -> np.ndarray:
        """Coordinates of states `h` (shape (..., H)) on the axes: shape (..., n_components)."""
        H = self.mean.shape[0]
        h = validate.float_array("h", h, (None,) * (np.ndim(h) - 1) + (H,))
        return (h - self.mean) @ self.components.T

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        """States (shape (..., H)) with coordinates `z` (shape (..., n_components))."""
        k = self.components.shape[0]
        z = validate.float_array("z", z, (None,) * (np.ndim(z) - 1) + (k,))
        return z @ self.components + self.mean


def hidden_pca(h: np.ndarray, n_components: int = 2) -> PCA:
    """Principal component analysis of hidden states, by the SVD of the
    centred states.

    Parameters
    ----------
    h : ndarray, shape (..., H)
        Hidden states, e.g. ``cache.h`` of shape (B, T, H) or one trajectory
        (T, H); all leading axes are pooled into one cloud of points in R^H.
    n_components : int
        How many axes to keep, 1 <= n_components <= H.

    Returns
    -------
    PCA
        Use ``pca.transform(h)`` for the coordinates, shape
        (..., n_components).

    Examples
    --------
    >>> import numpy as np, rnnbook as rb
    >>> rng = np.random.default_rng(0)
    >>> params = rb.init_params(1, 8, 1, rng=rng)
    >>> cache = rb.forward(params, rng.normal(size=(4, 30, 1)))
    >>> pca = rb.hidden_pca(cache.h, 2)
    >>> pca.transform(cache.h).shape
    (4, 30, 2)
    """
    if not isinstance(h, np.ndarray) or h.ndim < 2:
        raise ValueError(
            "h: expected an array of hidden states of shape (..., H) "
            "with at least 2 axes, "
            f"got {h.shape if isinstance(h, np.ndarray) else type(h).__name__}"
        )
    h = validate.float_array("h", h, (None,) * h.ndim)
    H = h.shape[-1]
    n_components = validate.size("n_components", n_components)
    if n_components > H:
        raise ValueError(
            f"n_components: expected at most H = {H}, got {n_components}",
        )
    points = h.reshape(-1, H)
    if points.shape[0] < 2:
        raise ValueError(
            f"h: expected at least 2 states to analyse, got {points.shape[0]}",
        )
    mean = points.mean(axis=0)
    _, s, Vt = np.linalg.svd(points - mean, full_matrices=False)
    variance = s**2 / (points.shape[0] - 1)
    axes = Vt[:n_components]
    signs = np.sign(axes[np.arange(n_components), np.abs(axes).argmax(axis=1)])
    axes = axes * signs[:, None]
    total = variance.sum()
    if total > 0:
        ratio = variance[:n_components] / total
    else:
        ratio = np.zeros(n_components)
    return PCA(mean, axes, variance[:n_components], ratio)


# ---------------------------------------------------------------------------------------------
# The memory task: recall the input from `lag` steps ago (data in rnnbook.data.recall_task,
# loss in rnnbook.loss.recall_loss, training with rnnbook.fit and rnnbook.recall_batches).


def recall_score(params: RNNParams, data: RecallTask) -> float:
    """R^2 = 1 - MSE / Var(target) of the last output on a recall data set.

    1 is perfect recall; 0 is what predicting the mean of the targets scores.
    """
    if not isinstance(data, RecallTask):
        raise ValueError(f"data: expected rnnbook.RecallTask, got {type(data).__name__}")
    forward_of = model_of(params).forward
    squared = 0.0  # sum of squared errors, 1000 sequences at a time: the
    for first in range(0, len(data), 1000):  # states stay in the CPU's cache
        block = slice(first, first + 1000)
        loss, _ = recall_loss(forward_of(params, data.x[block]).y, data.y[block])
        squared += loss * data.y[block].size
    return 1.0 - squared / data.y.size / float(np.var(data.y))


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's score interval for a success fraction k / n (95 % for z = 1.96).

    Unlike k/n +- z sqrt(p(1-p)/n) it stays inside [0, 1] and is not empty
    for k = 0 or k = n, which matters for the handful of seeds of a
    chapter's experiment.
    """
    n = validate.size("n", n)
    k = validate.size("k", k, minimum=0)
    if k > n:
        raise ValueError(f"k: expected at most n = {n} successes, got {k}")
    z = validate.positive("z", z)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class _Stack(Params):
    """The parameters of S networks of the same shape, stacked on a first axis."""

    W_xh: np.ndarray  # (S, H, D)
    W_hh: np.ndarray  # (S, H, H)
    b_h: np.ndarray  # (S, H)
    W_hy: np.ndarray  # (S, O, H)
    b_y: np.ndarray  # (S, O)


def _stack(nets: list[RNNParams]) -> _Stack:
    return _Stack(
        **{name: np.stack([getattr(p, name) for p in nets]) for name, _ in nets[0].items()}
    )


def _unstack(stack: _Stack) -> list[RNNParams]:
    S = stack.W_hh.shape[0]
    return [RNNParams(**{name: a[s].copy() for name, a in stack.items()}) for s in range(S)]


def _stack_recall_gradients(
    p: _Stack, x: np.ndarray, target: np.ndarray, work: dict[str, np.ndarray]
) -> _Stack:
    """The recall loss's gradients of S networks at once; x (S, B, T, D), target (S, B, O).

    The same maths as ``bptt(params, cache, recall_loss(...)[1])`` for each network:
    only the last step is scored, so dL/dh_T = W_hy^T dL/dy_T is the only immediate
    partial, and the recurrence (eq-bptt-recurrence) carries it back. Arrays are
    network-major, (S, T, B, H), so that each network's sums over t and b are
    products of contiguous (T B, H) blocks; `work` keeps the large arrays from one
    call to the next (allocating them afresh costs more than the arithmetic).
    """
    S, B, T, D = x.shape
    O, H = p.W_hy.shape[1:]
    if work.get("hs", np.empty(0)).shape != (S, T + 1, B, H):
        work.update(hs=np.empty((S, T + 1, B, H)), da=np.empty((S, T, B, H)),
                    xs=np.empty((S, T, B, D)), step=np.empty((S, B, H)))  # fmt: skip
    hs, da, xs, step = work["hs"], work["da"], work["xs"], work["step"]
    xs[...] = x.transpose(0, 2, 1, 3)  # (S, T, B, D)
    hs[:, 0] = 0.0
    x_rows = xs.reshape(S, T * B, D)
    if D == 1:  # an outer product: broadcasting is much faster than matmul
        np.multiply(xs, p.W_xh[:, None, None, :, 0], out=hs[:, 1:])
    else:
        hs[:, 1:] = (x_rows @ p.W_xh.transpose(0, 2, 1)).reshape(S, T, B, H)
    hs[:, 1:] += p.b_h[:, None, None, :]  # W_xh x_t + b_h for every t
    W_hh_T = np.ascontiguousarray(p.W_hh.transpose(0, 2, 1))
    for t in range(1, T + 1):
        np.matmul(hs[:, t - 1], W_hh_T, out=step)
        hs[:, t] += step
        np.tanh(hs[:, t], out=hs[:, t])  # (eq-hidden-state)
    y_T = hs[:, T] @ p.W_hy.transpose(0, 2, 1) + p.b_y[:, None, :]  # (S, B, O)
    dy_T = 2.0 * (y_T - target) / (B * O)  # recall_loss of each network
    np.square(hs[:, 1:], out=da)
    np.subtract(1.0, da, out=da)  # 1 - h_t^2 for every t, overwritten below
    dh = dy_T @ p.W_hy  # dL/dh_T (eq-dL-dh-direct)
    for t in range(T, 0, -1):
        da[:, t - 1] *= dh  # dL/da_t (eq-tanh-derivative)
        dh = np.matmul(da[:, t - 1], p.W_hh, out=step)  # (eq-bptt-recurrence)
    da_rows = da.reshape(S, T * B, H)
    da_T = da_rows.transpose(0, 2, 1)  # (S, H, T B)
    return _Stack(
        W_xh=da_T @ x_rows,  # (eq-param-grads)
        W_hh=da_T @ hs[:, :-1].reshape(S, T * B, H),
        b_h=np.ones(T * B) @ da_rows,
        W_hy=dy_T.transpose(0, 2, 1) @ hs[:, T],
        b_y=dy_T.sum(axis=1),
    )


def train_recall(
    seeds: Sequence[int],
    lag: int,
    budgets: Sequence[int],
    *,
    hidden_size: int = 16,
    batch_size: int = 32,
    lr: float = 0.01,
    scheme: str = "xavier",
    distractor: float = 1.0,
) -> dict[int, list[RNNParams]]:
    """Train one network per seed on the recall task, all seeds at once.

    Network s is what ::

        rng = np.random.default_rng(seeds[s])
        p = init_params(1, hidden_size, 1, scheme, rng=rng)
        fit(p, recall_batches(lag, batch_size, distractor=distractor),
            loss=recall_loss, optimizer=Adam(lr), steps=budgets[-1], rng=rng)

    computes: each network has its own initialization, data stream and Adam
    moments, and every step computes the same numbers to rounding error. The
    S small networks are stacked on a new axis so that every step is one
    batched product for all of them instead of S small ones: for H = 16 a
    step costs mostly NumPy calls, not arithmetic. (Training amplifies
    rounding differences in the runs that learn: at lag 40 they grew from
    1e-13 in the weights after 50 steps to 1e-2 after 200, so a run can end
    in a different place than ``fit`` takes it. Report fractions over seeds,
    not what one seed does.)

    Parameters
    ----------
    seeds : sequence of int
        One network per seed.
    lag : int
        The recall lag tau (sequences of tau + 1 steps).
    budgets : sequence of int
        Increasing numbers of training steps at which to keep a copy of the
        parameters; 0 keeps the initialization. Later budgets continue the
        same runs, so budget 600 shares its first 200 steps with budget 200.
    hidden_size, batch_size, lr, scheme, distractor
        H, sequences per step, Adam's learning rate, the initialization
        (see :func:`rnnbook.init_params`), the distractors' half-width.

    Returns
    -------
    dict of int to list of RNNParams
        ``out[steps][s]``: network s after `steps` updates.
    """
    seeds = [validate.size("seeds", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds: expected at least one seed, got none")
    budgets = [validate.size("budgets", b, minimum=0) for b in budgets]
    if not budgets or any(b <= a for a, b in zip(budgets, budgets[1:])):
        raise ValueError(f"budgets: expected increasing step counts, got {budgets}")
    sample = recall_batches(lag, batch_size, distractor=distractor)
    rngs = [np.random.default_rng(s) for s in seeds]
    nets = [init_params(1, hidden_size, 1, scheme, rng=rng) for rng in rngs]
    stack, adam = _stack(nets), Adam(validate.positive("lr", lr))
    out, done, work = {}, 0, {}
    for steps in budgets:
        for _ in range(steps - done):
            batches = [sample(rng) for rng in rngs]
            x = np.stack([b[0] for b in batches])  # (S, B, T, 1)
            target = np.stack([b[1] for b in batches])  # (S, B, 1)
            adam.step(stack, _stack_recall_gradients(stack, x, target, work))
        if not all(np.isfinite(a).all() for _, a in stack.items()):
            raise DivergenceError(f"training diverged within {steps} steps (lr = {lr})")
        out[steps], done = _unstack(stack), steps
    return out


# ---------------------------------------------------------------------------------------------
# Truncated BPTT as practitioners run it: chunks, with the state carried forward.


def _add(total: RNNParams, part: RNNParams) -> None:
    for (_, a), (_, b) in zip(total.items(), part.items()):
        a += b


def chunked_bptt(
    params: RNNParams,
    x: np.ndarray,
    target: np.ndarray,
    K: int,
    *,
    h0: np.ndarray | None = None,
    exact: bool = False,
) -> tuple[float, RNNParams]:
    """The MSE of a long sequence and its gradient, computed chunk by chunk.

    The T steps are cut into chunks of K steps (the last may be shorter).
    Each chunk's forward pass starts from the last state of the previous
    chunk, so the states and the loss are exactly those of the whole
    sequence; only the backward pass differs.

    - ``exact=False``: each chunk is backpropagated as soon as its forward
      pass is done and its dL/dh_0 is dropped (min-char-rnn's ``hprev``,
      ``detach`` in PyTorch). This is Williams and Peng's BPTT(K; K): the
      loss at the end of a chunk sees K steps of history, the one at its
      start one step. Memory: one chunk.
    - ``exact=True``: only the state entering each chunk is kept; after the
      last chunk, the chunks are recomputed and backpropagated from last to
      first, each with ``dh_T`` = the ``dh0`` of the chunk after it. This is
      full BPTT (gradient checkpointing): memory T / K states plus one
      chunk, for a second forward pass.

    Parameters
    ----------
    params : RNNParams
    x : ndarray, shape (B, T, D)
    target : ndarray, shape (B, T, O)
    K : int
        The chunk length.
    h0 : ndarray, shape (B, H), optional
        The state before step 1; zeros by default.
    exact : bool
        Chain the chunks exactly instead of dropping dL/dh_0 of each.

    Returns
    -------
    loss : float
        The MSE over all B T O outputs, as ``rnnbook.mse_loss`` of the whole.
    grads : RNNParams
        Its gradient: exact, or truncated at the chunk boundaries.
    """
    check_params(params)
    D, O, dtype = params.input_size, params.output_size, params.dtype
    x = validate.float_array("x", x, (None, None, D), dtype=dtype)
    B, T, _ = x.shape
    target = validate.float_array("target", target, (B, T, O), dtype=dtype)
    K = validate.size("K", K)
    chunks = [slice(s, min(s + K, T)) for s in range(0, T, K)]

    def chunk_loss(c: slice, cache: ForwardCache) -> tuple[float, np.ndarray]:
        value, dy = mse_loss(cache.y, target[:, c])  # mean over B K O
        share = (c.stop - c.start) / T  # ... so weigh by K / T
        return share * value, share * dy

    loss, grads = 0.0, params.zeros_like()
    h, entering = h0, []  # entering: the state before each chunk
    for c in chunks:
        entering.append(h)
        cache = forward(params, x[:, c], h)
        value, dy = chunk_loss(c, cache)
        loss += value
        h = cache.h[:, -1].copy()  # carried forward; the cache can go
        if not exact:
            g, _ = bptt(params, cache, dy)  # dL/dh_0 of the chunk: dropped
            _add(grads, g)
    if exact:
        dh_T = None  # nothing comes after the last chunk
        for c, h_start in zip(reversed(chunks), reversed(entering)):
            cache = forward(params, x[:, c], h_start)  # recomputed
            g, dh_T = bptt(params, cache, chunk_loss(c, cache)[1], dh_T)
            _add(grads, g)
    return loss, grads


# ---------------------------------------------------------------------------------------------
# What a training step costs.


def peak_memory(fn: Callable[[], object]) -> int:
    """The peak of memory allocated while ``fn()`` runs, in bytes (``tracemalloc``).

    Counts what Python and NumPy allocate during the call, not what existed
    before it. ``tracemalloc`` counts every thread's allocations: in a process
    with no other thread the same call gives the same number in every run; in
    a notebook kernel, whose own threads allocate a little, call it in a forked
    child process for a reproducible number.
    """
    if not callable(fn):
        raise ValueError(f"fn: expected a function of no arguments, got {type(fn).__name__}")
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def step_cost(
    lengths: Sequence[int],
    *,
    batch_size: int = 32,
    hidden_size: int = 32,
    truncate: int | None = None,
    rounds: int = 9,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """CPU time and peak memory of a training step (forward, MSE, BPTT), per T.

    The lengths are timed in interleaved rounds and the fastest round of each
    is kept, so that a burst of load from other programs spoils one round of
    every length rather than every round of one length. Times are CPU time of
    this process (``time.process_time``); with several BLAS threads that
    includes their spinning, so measure with one thread
    (``OPENBLAS_NUM_THREADS=1`` set before NumPy is imported).

    Parameters
    ----------
    lengths : sequence of int
        The sequence lengths T to measure.
    batch_size, hidden_size : int
        B and H; D = O = 1, sine-wave inputs and next-step targets.
    truncate : int, optional
        Passed to :func:`rnnbook.backward`.
    rounds : int
        Timing rounds.
    seed : int
        Seeds the parameters and (with T) the data, so memory is reproducible.

    Returns
    -------
    dict
        ``"lengths"`` (n,), ``"cpu_seconds"`` (n,), the fastest step, and
        ``"peak_bytes"`` (n,), the peak memory of a step (:func:`peak_memory`).
    """
    lengths = [validate.size("lengths", T) for T in lengths]
    rounds = validate.size("rounds", rounds)
    params = init_params(1, hidden_size, 1, rng=np.random.default_rng(seed))
    data = []
    for T in lengths:
        rng = np.random.default_rng([seed, T])
        data.append(sine_waves(batch_size, T, rng=rng))

    def step(d) -> None:
        cache = forward(params, d.x)
        _, dy = mse_loss(cache.y, d.y)
        backward(params, cache, dy, truncate=truncate)

    for d in data:
        step(d)  # warm up
    seconds = np.full(len(lengths), np.inf)
    for _ in range(rounds):
        for i, d in enumerate(data):
            start = time.process_time()
            step(d)
            seconds[i] = min(seconds[i], time.process_time() - start)
    peak = np.array([peak_memory(lambda d=d: step(d)) for d in data])
    return {
        "lengths": np.array(lengths),
        "cpu_seconds": seconds,
        "peak_bytes": peak,
    }
