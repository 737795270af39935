"""The references a sequence model is judged against, from the weakest to the best possible.

- **Persistence**: predict that the next value equals the current one.
- **AR(k)**: least-squares linear prediction from the last k values.
- **The full-history linear predictor**: AR(t) at step t, up to AR(T), so it sees
  exactly what an RNN started from h_0 = 0 has seen. No linear predictor fitted on
  the same data does better on average.
- **The Bayes predictor** of the book's task family: it knows how the sequences
  are drawn (the ranges of frequency, amplitude and phase, and the noise) and
  predicts with the posterior mean, so no predictor can beat it on average. It
  needs no training. :func:`bayes_predict` (one step ahead at every step) and
  :func:`bayes_forecast` (many steps ahead after a prompt) use a Gaussian prior
  on the amplitudes that makes the posterior closed-form; :func:`bayes_exact_predict`
  uses the task's own amplitude prior, by importance sampling, to measure how
  close that comes to the true Bayes risk.

The windowed MLP, a nonlinear model without recurrence, is a trained model and
lives in :mod:`rnnbook.window`.

Every predictor returns arrays shaped like the inputs, (B, T, 1), so they are
scored exactly as a network's outputs are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from .data import BOOK_TASK

# ---------------------------------------------------------------------------------------------
# Persistence and linear autoregression.


def _series(name: str, x: np.ndarray) -> np.ndarray:
    return validate.float_array(name, x, (None, None, 1))


def persistence(x: np.ndarray) -> np.ndarray:
    """The persistence baseline: predict s_{t+1} = s_t. Shape (B, T, 1)."""
    return _series("x", x).copy()


def lagged(x: np.ndarray, k: int) -> np.ndarray:
    """Features [x_t, x_{t-1}, ..., x_{t-k+1}, 1] for every step, shape (B, T, k + 1).

    Values before the start of a sequence are zero, as h_0 = 0 is for the RNN.
    """
    x = _series("x", x)[:, :, 0]
    k = validate.size("k", k)
    B, T = x.shape
    features = np.zeros((B, T, k + 1), dtype=x.dtype)
    for lag in range(k):
        features[:, lag:, lag] = x[:, : T - lag]
    features[:, :, k] = 1.0  # bias
    return features


def fit_ar(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Least-squares AR(k) models for next-step prediction, one per history length.

    At step t only t + 1 past values exist, so the baseline uses the model with
    j = min(t + 1, k) lags there: y_t ~ c_j . [x_t, ..., x_{t-j+1}, 1]  (eq-ar).
    Model j is fitted by least squares on every step that has j values of history
    (the sequences are stationary, so one model serves every step). With k = T this
    is the full-history linear predictor, :func:`fit_linear`.

    Parameters
    ----------
    x, y : ndarray, shape (B, T, 1)
        Training inputs and next-step targets.
    k : int
        The longest history used, 1 <= k <= T.

    Returns
    -------
    ndarray, shape (k, k + 1)
        Row j - 1 holds model j: its j lag coefficients, zeros for unused lags,
        and the intercept in the last column.
    """
    features = lagged(x, k)
    y = validate.float_array("y", y, x.shape, dtype=x.dtype)
    T = x.shape[1]
    if k > T:
        raise ValueError(f"k: expected at most the sequence length {T}, got {k}")
    coefs = np.zeros((k, k + 1), dtype=x.dtype)
    for j in range(1, k + 1):
        columns = [*range(j), k]  # j lags and the intercept
        A = features[:, j - 1 :, columns].reshape(-1, j + 1)
        b = y[:, j - 1 :, 0].reshape(-1)
        coefs[j - 1, columns], *_ = np.linalg.lstsq(A, b, rcond=None)
    return coefs


def predict_ar(coefs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Predictions of the AR models from :func:`fit_ar` at every step, shape (B, T, 1)."""
    coefs = validate.float_array("coefs", coefs, (None, None))
    k = coefs.shape[0]
    if coefs.shape[1] != k + 1:
        raise ValueError(f"coefs: expected shape (k, k + 1) from fit_ar, got {coefs.shape}")
    features = lagged(x, k)  # (B, T, k + 1)
    T = x.shape[1]
    per_step = coefs[np.minimum(np.arange(T), k - 1)]  # (T, k + 1): model min(t + 1, k)
    return np.sum(features * per_step, axis=2, keepdims=True)


def fit_linear(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The full-history linear predictor: AR(t + 1) at step t, for every t up to T.

    ``fit_ar(x, y, k=T)``: at each step it uses every value seen so far, which is
    what an RNN started from h_0 = 0 has seen, and no linear function of those
    values fitted on the same training data predicts better on average. This, not
    AR(k) for a smaller k, is the linear reference. Predict with :func:`predict_linear`.

    Parameters
    ----------
    x, y : ndarray, shape (B, T, 1)
        Training inputs and next-step targets.

    Returns
    -------
    ndarray, shape (T, T + 1)
        The coefficients, as :func:`fit_ar` returns them.
    """
    return fit_ar(x, y, _series("x", x).shape[1])


def predict_linear(coefs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Predictions of the full-history linear predictor at every step, shape (B, T, 1).

    Past the training length T (a longer `x`), the last model, AR(T), is used.
    """
    return predict_ar(coefs, x)


# ---------------------------------------------------------------------------------------------
# The Bayes predictor of the book's task.
#
# A clean sine is  A sin(omega tau + phi) = a sin(omega tau) + b cos(omega tau)  with
# (a, b) = A (cos phi, sin phi): for a known frequency, linear in theta = (a, b). Given
# omega and the values s_0..s_t, with noise N(0, sigma^2) and the prior theta ~ N(0, v I),
# the posterior of theta is Gaussian,                                  (eq-bayes-theta)
#     Lambda = I / v + M / sigma^2,   m = Lambda^-1 u / sigma^2,
#     M = sum_tau phi_tau phi_tau^T,   u = sum_tau s_tau phi_tau,   phi_tau = (sin, cos)(omega tau),
# and the evidence of the frequency is, up to terms that do not depend on omega,
#     log p(s_0..s_t | omega) = u^T Lambda^-1 u / (2 sigma^4) - log det(v Lambda) / 2.
#                                                                       (eq-bayes-evidence)
# A grid of frequencies carries the prior on omega; the posterior weights are
#     w_j  propto  pi_j p(s_0..s_t | omega_j),                          (eq-bayes-weights)
# and the prediction of s_{t+1} is the posterior mean
#     E[s_{t+1} | s_0..s_t] = sum_j w_j phi_{t+1}(omega_j)^T m_j.       (eq-bayes-predict)


@dataclass(frozen=True)
class SinePrior:
    """What the Bayes predictor assumes about the sequences.

    s_tau = a sin(2 pi f tau) + b cos(2 pi f tau) + noise, with f on a grid and
    (a, b) ~ N(0, var I) independent of f (a uniformly random phase).

    Attributes
    ----------
    freqs : ndarray, shape (F,)
        The frequencies f_j the prior puts mass on, in cycles per step, in (0, 0.5).
    log_weights : ndarray, shape (F,)
        log pi_j, the prior log-probabilities of the frequencies (normalised here).
    var : float
        v, the prior variance of a and of b.
    noise : float
        sigma, the standard deviation of the noise on every sample.
    """

    freqs: np.ndarray
    log_weights: np.ndarray
    var: float
    noise: float

    def __post_init__(self) -> None:
        freqs = validate.float_array("freqs", np.asarray(self.freqs, dtype=float), (None,))
        if freqs.size == 0 or np.any(freqs <= 0) or np.any(freqs >= 0.5):
            raise ValueError(f"freqs: expected values in (0, 0.5) cycles per step, got {freqs}")
        log_w = validate.float_array(
            "log_weights", np.asarray(self.log_weights, dtype=float), freqs.shape
        )
        validate.positive("var", self.var)
        validate.positive("noise", self.noise)
        object.__setattr__(self, "freqs", freqs)
        object.__setattr__(self, "log_weights", log_w - np.logaddexp.reduce(log_w))


def _interval(name: str, value) -> tuple[float, float]:
    """A task entry as an interval: a number is the interval (value, value)."""
    low, high = value if isinstance(value, tuple) else (value, value)
    if not (np.isfinite(low) and np.isfinite(high) and 0 <= low <= high):
        raise ValueError(f"task[{name!r}]: expected a number >= 0 or an interval, got {value!r}")
    return float(low), float(high)


def _task(task: dict | None) -> dict:
    """The book's task with the entries of `task` replaced; the phase must be uniform."""
    task = {**BOOK_TASK, **(task or {})}
    unknown = set(task) - set(BOOK_TASK)
    if unknown:
        raise ValueError(f"task: unknown entries {sorted(unknown)}, expected {sorted(BOOK_TASK)}")
    phase = task["phase"]
    if not (isinstance(phase, tuple) and np.isclose(phase[1] - phase[0], 2 * np.pi)):
        raise ValueError(
            f"task['phase']: the Bayes predictor needs a uniformly random phase over a full "
            f"period, an interval of length 2 pi; got {phase!r}"
        )
    if not task["noise"] > 0:
        raise ValueError(
            f"task['noise']: expected noise > 0 (for noiseless data, give a small noise such "
            f"as 1e-3), got {task['noise']!r}"
        )
    return task


def sine_prior(task: dict | None = None, n_freqs: int = 512) -> SinePrior:
    """The Gaussian-amplitude prior of the Bayes predictor for a task like ``BOOK_TASK``.

    The frequency's uniform prior becomes `n_freqs` equally weighted points at the
    midpoints of equal cells (the midpoint rule). The amplitude A and the phase phi
    become (a, b) = A (cos phi, sin phi), and the prior on (a, b) is the Gaussian with
    the task's second moments, var = E[A^2] / 2 for each (eq-bayes-theta). For A
    uniform on [A_lo, A_hi], E[A^2] = (A_hi^3 - A_lo^3) / (3 (A_hi - A_lo)).

    That Gaussian is not the task's prior (which puts (a, b) on a ring,
    A_lo <= |(a, b)| <= A_hi), so :func:`bayes_predict` is the exact Bayes predictor
    of a slightly different task and its error is an upper bound on the Bayes risk
    of this one; :func:`bayes_exact_predict` measures the difference.

    Parameters
    ----------
    task : dict, optional
        Entries of :data:`rnnbook.data.BOOK_TASK` to replace, e.g. ``{"noise": 0.02}``.
        The phase must be uniform over a full period and the noise positive.
    n_freqs : int
        Grid points for the frequency. 512 points leave the book task's test MSE
        within 1e-8 of a grid 8 times finer.

    Returns
    -------
    SinePrior
    """
    task = _task(task)
    n_freqs = validate.size("n_freqs", n_freqs)
    f_lo, f_hi = _interval("freq", task["freq"])
    freqs = f_lo + (np.arange(n_freqs) + 0.5) * (f_hi - f_lo) / n_freqs  # midpoint rule
    if f_lo == f_hi:
        freqs = np.array([f_lo])
    a_lo, a_hi = _interval("amplitude", task["amplitude"])
    mean_A2 = a_lo**2 if a_lo == a_hi else (a_hi**3 - a_lo**3) / (3 * (a_hi - a_lo))
    return SinePrior(freqs, np.zeros(freqs.size), mean_A2 / 2, float(task["noise"]))


@dataclass(frozen=True)
class _Grid:
    """What the posterior needs per step t and frequency j, shared by all sequences."""

    S: np.ndarray  # (T + 1, F): sin(omega_j tau)
    C: np.ndarray  # (T + 1, F): cos(omega_j tau)
    inv: tuple[np.ndarray, np.ndarray, np.ndarray]  # Lambda^-1 entries 11, 12, 22, (T, F) each
    log_norm: np.ndarray  # (T, F): log pi_j - log det(v Lambda) / 2


def _grid(prior: SinePrior, T: int) -> _Grid:
    """Lambda^-1 and the evidence's constant for every step t < T (eq-bayes-theta)."""
    tau = np.arange(T + 1)[:, None]
    S, C = np.sin(2 * np.pi * prior.freqs * tau), np.cos(2 * np.pi * prior.freqs * tau)
    v, s2 = prior.var, prior.noise**2
    l11 = 1 / v + np.cumsum(S * S, 0)[:T] / s2  # Lambda = I / v + M / sigma^2
    l12 = np.cumsum(S * C, 0)[:T] / s2
    l22 = 1 / v + np.cumsum(C * C, 0)[:T] / s2
    det = l11 * l22 - l12**2
    inv = (l22 / det, -l12 / det, l11 / det)
    log_norm = prior.log_weights - 0.5 * np.log(det * v * v)  # (eq-bayes-evidence)
    return _Grid(S, C, inv, log_norm)


def _posterior(grid: _Grid, t: int, u1, u2, noise: float, cols=slice(None)):
    """Log weights (unnormalised) and means of theta on the grid, after s_0..s_t.

    `u1`, `u2` (B, F') are u = sum_tau s_tau phi_tau for the frequencies `cols`.
    Returns log w (B, F'), m_a and m_b (B, F'), by (eq-bayes-theta), (eq-bayes-evidence).
    """
    i11, i12, i22 = (a[t, cols] for a in grid.inv)
    m_a = (i11 * u1 + i12 * u2) / noise**2  # m = Lambda^-1 u / sigma^2
    m_b = (i12 * u1 + i22 * u2) / noise**2
    log_w = (u1 * m_a + u2 * m_b) / (2 * noise**2) + grid.log_norm[t, cols]
    return log_w, m_a, m_b


def _check_prior(prior: SinePrior | None) -> SinePrior:
    if prior is None:
        return sine_prior()
    if not isinstance(prior, SinePrior):
        raise ValueError(f"prior: expected an rnnbook SinePrior, got {type(prior).__name__}")
    return prior


#: Frequencies whose posterior weight falls below exp(-PRUNE) of the largest, for every
#: sequence of a block, are dropped for the rest of the sequence (see bayes_predict).
PRUNE = 60.0


def bayes_predict(x: np.ndarray, prior: SinePrior | None = None, *, block: int = 64) -> np.ndarray:
    """The Bayes predictor's one-step predictions E[s_{t+1} | s_0..s_t] at every step.

    For each step t it weighs every frequency of the grid by its evidence
    (eq-bayes-weights) and averages the posterior means of the next value
    (eq-bayes-predict). It knows the task, so it needs no training data; its MSE
    is the floor a trained model can reach, up to the small gap the Gaussian
    amplitude prior leaves (see :func:`sine_prior`).

    Parameters
    ----------
    x : ndarray, shape (B, T, 1)
        Inputs s_0..s_{T-1}.
    prior : SinePrior, optional
        ``sine_prior()``, the book's task, by default.
    block : int
        Sequences processed together. Sequences are grouped by a first estimate of
        their frequency, and a frequency is dropped once its weight is below
        exp(-60) of the best for every sequence of the group: the result is the full
        grid's to rounding error, at about half the cost.

    Returns
    -------
    ndarray, shape (B, T, 1)
        ``y[:, t]`` predicts s_{t+1} from s_0..s_t, like an RNN's output.
    """
    prior = _check_prior(prior)
    s = _series("x", x)[:, :, 0].astype(np.float64)
    block = validate.size("block", block)
    B, T = s.shape
    grid = _grid(prior, T)
    F = prior.freqs.size
    # Group sequences of similar frequency: the best grid frequency after the last step.
    log_w, _, _ = _posterior(grid, T - 1, s @ grid.S[:T], s @ grid.C[:T], prior.noise)
    order = np.argsort(np.argmax(log_w, axis=1), kind="stable")
    out = np.empty((B, T))
    for first in range(0, B, block):
        rows = order[first : first + block]
        j0, j1 = 0, F  # the frequencies still in play for this block
        u1 = np.zeros((rows.size, F))
        u2 = np.zeros((rows.size, F))
        for t in range(T):
            cols = slice(j0, j1)
            u1 += s[rows, t, None] * grid.S[t, cols]  # u = sum_tau s_tau phi_tau
            u2 += s[rows, t, None] * grid.C[t, cols]
            log_w, m_a, m_b = _posterior(grid, t, u1, u2, prior.noise, cols)
            log_w -= log_w.max(axis=1, keepdims=True)
            w = np.exp(log_w)  # (eq-bayes-weights), unnormalised
            next_value = m_a * grid.S[t + 1, cols] + m_b * grid.C[t + 1, cols]
            out[rows, t] = np.einsum("bj,bj->b", w, next_value) / w.sum(axis=1)
            keep = np.flatnonzero(log_w.max(axis=0) > -PRUNE)
            u1, u2 = u1[:, keep[0] : keep[-1] + 1], u2[:, keep[0] : keep[-1] + 1]
            j0, j1 = j0 + keep[0], j0 + keep[-1] + 1
    return out[:, :, None].astype(x.dtype)


def bayes_forecast(prompt: np.ndarray, steps: int, prior: SinePrior | None = None) -> np.ndarray:
    """The Bayes forecast: E[s_{T0+k} | s_0..s_{T0-1}] for k = 0..steps-1.

    The reachable reference for free-running generation: the posterior after the
    prompt (eq-bayes-weights), extrapolated by each frequency's posterior mean
    sine. Unlike a model fed its own outputs, it never conditions on a forecast.

    Parameters
    ----------
    prompt : ndarray, shape (B, T0, 1)
        The observed values s_0..s_{T0-1}, T0 >= 1.
    steps : int
        How many values to forecast.
    prior : SinePrior, optional
        ``sine_prior()``, the book's task, by default.

    Returns
    -------
    ndarray, shape (B, steps, 1)
        Forecasts of s_{T0}, ..., s_{T0+steps-1}, as :func:`rnnbook.generate` returns
        them; the first is ``bayes_predict(prompt)[:, -1]``.
    """
    prior = _check_prior(prior)
    s = _series("prompt", prompt)[:, :, 0].astype(np.float64)
    steps = validate.size("steps", steps)
    T0 = s.shape[1]
    grid = _grid(prior, T0)
    log_w, m_a, m_b = _posterior(grid, T0 - 1, s @ grid.S[:T0], s @ grid.C[:T0], prior.noise)
    w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)  # (eq-bayes-weights)
    omega_tau = 2 * np.pi * prior.freqs * np.arange(T0, T0 + steps)[:, None]  # (steps, F)
    out = (w * m_a) @ np.sin(omega_tau).T + (w * m_b) @ np.cos(omega_tau).T  # (eq-bayes-predict)
    return out[:, :, None].astype(prompt.dtype)


# ---------------------------------------------------------------------------------------------
# The exact Bayes predictor, under the task's own amplitude prior.
#
# The task draws A uniformly on [A_lo, A_hi] and phi uniformly, so theta = (a, b) has the
# density p(theta) = 1 / (2 pi |theta| (A_hi - A_lo)) on the ring A_lo <= |theta| <= A_hi.
# The posterior of (f, theta) under that prior is the Gaussian-prior posterior q times
#     r(theta) = p(theta) / N(theta; 0, v I)
#              propto exp(|theta|^2 / (2 v)) / |theta|   on the ring, 0 off it,  (eq-bayes-ratio)
# so E[s_{t+1} | s_0..s_t] = E_q[r s_{t+1}] / E_q[r], estimated from samples of q.


def bayes_exact_predict(
    x: np.ndarray,
    task: dict | None = None,
    *,
    rng: np.random.Generator,
    samples: int = 2000,
    n_freqs: int = 512,
) -> np.ndarray:
    """One-step predictions of the exact Bayes predictor, by importance sampling.

    Draws `samples` values of (f, a, b) from the posterior of :func:`bayes_predict`
    at every step and reweights them by the ratio (eq-bayes-ratio) of the task's
    ring-shaped prior on (a, b) to the Gaussian one. The ratio is bounded on the
    ring, so the estimate is stable; its Monte Carlo error adds about
    posterior variance / samples to each squared error (below 1e-5 at 2000 samples
    on the book's task). Slow (a few hundred sequences a second): it is for
    measuring how far :func:`bayes_predict` is from the true Bayes risk.

    Parameters
    ----------
    x : ndarray, shape (B, T, 1)
        Inputs s_0..s_{T-1}.
    task : dict, optional
        Entries of :data:`rnnbook.data.BOOK_TASK` to replace; the amplitude must be
        an interval (A_lo, A_hi) with A_lo < A_hi.
    rng : numpy.random.Generator
        Draws the samples.
    samples : int
        Samples per sequence and step.
    n_freqs : int
        The frequency grid, as in :func:`sine_prior`.

    Returns
    -------
    ndarray, shape (B, T, 1)
    """
    full_task = _task(task)
    a_lo, a_hi = _interval("amplitude", full_task["amplitude"])
    if not a_lo < a_hi:
        raise ValueError(
            f"task['amplitude']: expected an interval (low, high) with low < high, "
            f"got {full_task['amplitude']!r}"
        )
    rng = validate.generator("rng", rng)
    samples = validate.size("samples", samples)
    prior = sine_prior(task, n_freqs)
    s = _series("x", x)[:, :, 0].astype(np.float64)
    grid = _grid(prior, s.shape[1])
    out = np.concatenate(
        [
            _exact_block(s[first : first + 100], grid, prior, a_lo, a_hi, samples, rng)
            for first in range(0, s.shape[0], 100)
        ]
    )
    return out[:, :, None].astype(x.dtype)


def _exact_block(s, grid, prior, a_lo, a_hi, samples, rng):
    """:func:`bayes_exact_predict` for the sequences `s` (B, T): predictions (B, T)."""
    B, T = s.shape
    F, noise, v = prior.freqs.size, prior.noise, prior.var
    u1, u2 = np.zeros((B, F)), np.zeros((B, F))
    rows = np.arange(B)[:, None]
    out = np.empty((B, T))
    for t in range(T):
        u1 += s[:, t, None] * grid.S[t]
        u2 += s[:, t, None] * grid.C[t]
        log_w, m_a, m_b = _posterior(grid, t, u1, u2, noise)
        cdf = np.cumsum(np.exp(log_w - log_w.max(axis=1, keepdims=True)), axis=1)
        cdf /= cdf[:, -1:]
        # frequencies j drawn from the weights (eq-bayes-weights): row i's CDF, shifted
        # by i, is one sorted array, so one search finds every row's samples
        draws = np.searchsorted((cdf + rows).ravel(), rng.uniform(size=(B, samples)) + rows)
        j = np.clip(draws - rows * F, 0, F - 1)
        # then theta ~ N(m_j, Lambda_j^-1), through the Cholesky factor of Lambda_j^-1
        i11, i12, i22 = (a[t, j] for a in grid.inv)
        l11 = np.sqrt(i11)
        l21 = i12 / l11
        l22 = np.sqrt(np.maximum(i22 - l21**2, 0.0))
        e1, e2 = rng.standard_normal((2, B, samples))
        a = m_a[rows, j] + l11 * e1
        b = m_b[rows, j] + l21 * e1 + l22 * e2
        radius = np.hypot(a, b)
        ring = (radius >= a_lo) & (radius <= a_hi)
        with np.errstate(divide="ignore"):
            log_r = np.where(ring, radius**2 / (2 * v) - np.log(radius), -np.inf)
        r = np.exp(log_r - log_r.max(axis=1, keepdims=True))  # (eq-bayes-ratio)
        next_value = a * grid.S[t + 1, j] + b * grid.C[t + 1, j]
        out[:, t] = np.sum(r * next_value, axis=1) / np.sum(r, axis=1)
    return out
