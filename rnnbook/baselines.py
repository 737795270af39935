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
    """Least-squares AR(k) models for next-step prediction, one per history.

    At step t only t + 1 past values exist, so the baseline uses the model
    with j = min(t + 1, k) lags there (eq-ar):
    y_t ~ c_j . [x_t, ..., x_{t-j+1}, 1]. Model j is fitted by least squares
    on every step that has j values of history (the sequences are
    stationary, so one model serves every step). With k = T this is the
    full-history linear predictor, :func:`fit_linear`.

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
        raise ValueError(
            f"k: expected at most the sequence length {T}, got {k}"
        )  # fmt: skip
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
    what an RNN started from h_0 = 0 has seen, by least squares (eq-full-history).
    With enough training data no linear predictor of the same values does better:
    this, not AR(k) for a smaller k, is the linear reference. Predict with
    :func:`predict_linear`.

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
# theta = (a, b) = A (cos phi, sin phi): for a known frequency, linear in theta. Write
# g_tau = (sin omega tau, cos omega tau). Given omega and s_0..s_t, with noise N(0, sigma^2)
# and the prior theta ~ N(0, v I), the posterior of theta is N(m_t, Lambda_t^-1),
#     Lambda_t = I / v + sum_tau g_tau g_tau^T / sigma^2,   m_t = Lambda_t^-1 u_t / sigma^2,
#     u_t = sum_tau s_tau g_tau,                                        (eq-bayes-theta)
# and the evidence for the frequency is, up to terms that do not depend on omega,
#     log p(s_0..s_t | omega) = u_t^T m_t / (2 sigma^2) - log det(v Lambda_t) / 2.
#                                                                       (eq-bayes-evidence)
# A grid of frequencies omega_j with prior probabilities pi_j carries the prior on omega;
#     w_j  propto  pi_j p(s_0..s_t | omega_j)                           (eq-bayes-weights)
# and the prediction of s_{t+1} is the posterior mean
#     E[s_{t+1} | s_0..s_t] = sum_j w_j g_{t+1}(omega_j)^T m_j.         (eq-bayes-predict)


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
    of a slightly different task, and its error is an upper bound on the Bayes risk
    of this one; :func:`bayes_exact_predict` measures the difference (on the book's
    task, between one and two percent of the Bayes risk, almost all of it in the
    first five steps).

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
    """The parts of (eq-bayes-theta) shared by all sequences, per step t and frequency j."""

    sin: np.ndarray  # (T + 1, F): sin(omega_j tau), the first entry of g_tau
    cos: np.ndarray  # (T + 1, F): cos(omega_j tau), the second
    cov: tuple  # Lambda_t^-1 / sigma^2: its entries 11, 12, 22, each (T, F)
    log_norm: np.ndarray  # (T, F): log pi_j - log det(v Lambda_t) / 2


def _grid(prior: SinePrior, T: int) -> _Grid:
    """Lambda_t^-1 and the evidence's constant for every step t < T."""
    tau = np.arange(T + 1)[:, None]
    sin = np.sin(2 * np.pi * prior.freqs * tau)
    cos = np.cos(2 * np.pi * prior.freqs * tau)
    v, s2 = prior.var, prior.noise**2
    # Lambda_t = I / v + sum_tau g_tau g_tau^T / sigma^2   (eq-bayes-theta)
    l11 = 1 / v + np.cumsum(sin * sin, axis=0)[:T] / s2
    l12 = np.cumsum(sin * cos, axis=0)[:T] / s2
    l22 = 1 / v + np.cumsum(cos * cos, axis=0)[:T] / s2
    det = l11 * l22 - l12**2
    cov = (l22 / (det * s2), -l12 / (det * s2), l11 / (det * s2))
    log_norm = prior.log_weights - 0.5 * np.log(det * v * v)
    return _Grid(sin, cos, cov, log_norm)


def _posterior(grid, t, u_a, u_b, noise, cols=slice(None)):
    """Log weights and posterior means of theta = (a, b), after s_0..s_t.

    `u_a`, `u_b` (B, F') are the entries of u_t for the frequencies `cols`.
    Returns log w (B, F'), unnormalised, and m_a, m_b (B, F').
    """
    c11, c12, c22 = (c[t, cols] for c in grid.cov)
    m_a = c11 * u_a + c12 * u_b  # m_t = Lambda_t^-1 u_t / sigma^2
    m_b = c12 * u_a + c22 * u_b  # (eq-bayes-theta)
    log_evidence = (u_a * m_a + u_b * m_b) / (2 * noise**2)
    log_w = log_evidence + grid.log_norm[t, cols]  # (eq-bayes-evidence)
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
    # The same numbers as _posterior, arranged for speed (eq-bayes-evidence):
    # u^T m / (2 sigma^2) = |R u|^2 with R^T R = Lambda^-1 / (2 sigma^4), R upper
    # triangular; and the prediction g_{t+1}^T m = gamma^T u with gamma = Lambda^-1
    # g_{t+1} / sigma^2, so neither m nor the next value is formed per frequency.
    c11, c12, c22 = grid.cov
    half = 1 / (2 * prior.noise**2)
    r11 = np.sqrt(c11 * half)
    r12 = c12 * half / r11
    r22 = np.sqrt(np.maximum(c22 * half - r12**2, 0.0))
    gamma_a = c11 * grid.sin[1:] + c12 * grid.cos[1:]  # (T, F)
    gamma_b = c12 * grid.sin[1:] + c22 * grid.cos[1:]
    # Group sequences of similar frequency: the best grid frequency after the last step.
    u_a, u_b = s @ grid.sin[:T], s @ grid.cos[:T]
    log_w, _, _ = _posterior(grid, T - 1, u_a, u_b, prior.noise)
    order = np.argsort(np.argmax(log_w, axis=1), kind="stable")
    out = np.empty((B, T))
    for first in range(0, B, block):
        rows = order[first : first + block]
        s_block = s[rows]
        j0, j1 = 0, F  # the frequencies still in play for this block
        u_a, u_b = np.zeros((rows.size, F)), np.zeros((rows.size, F))
        for t in range(T):
            cols = slice(j0, j1)
            u_a += s_block[:, t, None] * grid.sin[t, cols]  # u_t = sum_tau s_tau g_tau
            u_b += s_block[:, t, None] * grid.cos[t, cols]
            log_w = r11[t, cols] * u_a
            log_w += r12[t, cols] * u_b
            log_w *= log_w
            log_w += (r22[t, cols] * u_b) ** 2
            log_w += grid.log_norm[t, cols]  # (eq-bayes-evidence)
            log_w -= log_w.max(axis=1, keepdims=True)
            keep = np.flatnonzero(log_w.max(axis=0) > -PRUNE)
            w = np.exp(log_w, out=log_w)  # (eq-bayes-weights), unnormalised
            mean = (w * u_a) @ gamma_a[t, cols] + (w * u_b) @ gamma_b[t, cols]
            out[rows, t] = mean / w.sum(axis=1)  # (eq-bayes-predict)
            u_a, u_b = u_a[:, keep[0] : keep[-1] + 1], u_b[:, keep[0] : keep[-1] + 1]
            j0, j1 = j0 + keep[0], j0 + keep[-1] + 1
    return out[:, :, None].astype(x.dtype)


def bayes_forecast(
    prompt: np.ndarray,
    steps: int,
    prior: SinePrior | None = None,
) -> np.ndarray:
    """The Bayes forecast: E[s_{T0+k} | s_0..s_{T0-1}], k = 0..steps-1.

    The reference for free-running generation: the posterior after the
    prompt (eq-bayes-weights), extrapolated by each frequency's posterior
    mean sine (eq-bayes-predict). It never conditions on a forecast.

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
        Forecasts of s_{T0}, ..., s_{T0+steps-1}, as :func:`rnnbook.generate`
        returns them; the first is ``bayes_predict(prompt)[:, -1]``.
    """
    prior = _check_prior(prior)
    s = _series("prompt", prompt)[:, :, 0].astype(np.float64)
    steps = validate.size("steps", steps)
    T0 = s.shape[1]
    grid = _grid(prior, T0)
    u_a, u_b = s @ grid.sin[:T0], s @ grid.cos[:T0]  # u_t, (eq-bayes-theta)
    log_w, m_a, m_b = _posterior(grid, T0 - 1, u_a, u_b, prior.noise)
    w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)  # (eq-bayes-weights)
    tau = np.arange(T0, T0 + steps)[:, None]
    omega_tau = 2 * np.pi * prior.freqs * tau  # (steps, F)
    # sum_j w_j g_tau(omega_j)^T m_j   (eq-bayes-predict)
    out = (w * m_a) @ np.sin(omega_tau).T + (w * m_b) @ np.cos(omega_tau).T
    return out[:, :, None].astype(prompt.dtype)


# ---------------------------------------------------------------------------------------------
# The exact Bayes predictor, under the task's own amplitude prior.
#
# The task draws A uniformly on [A_lo, A_hi] and phi uniformly, so theta = (a, b) has the
# density p(theta) = 1 / (2 pi |theta| (A_hi - A_lo)) on the ring A_lo <= |theta| <= A_hi.
# The posterior of (f, theta) under that prior is the Gaussian-prior posterior q times
#     r(theta) = p(theta) / N(theta; 0, v I)
#              propto exp(|theta|^2 / (2 v)) / |theta|   on the ring, 0 off it,  (eq-bayes-ratio)
# so E[s_{t+1} | s_0..s_t] = E_q[r s_{t+1}] / E_q[r], estimated from samples. The samples
# of theta come from q widened by WIDEN (theta = m + WIDEN L eps, L L^T = Lambda^-1), which
# reaches the ring even when q sits just outside it; their weight is then
#     r(theta) exp(-(WIDEN^2 - 1) |eps|^2 / 2).

#: How much wider than the Gaussian-prior posterior the importance samples are drawn.
WIDEN = 2.0


def bayes_exact_predict(
    x: np.ndarray,
    task: dict | None = None,
    *,
    rng: np.random.Generator,
    samples: int = 2000,
    n_freqs: int = 512,
) -> np.ndarray:
    """One-step predictions of the exact Bayes predictor, by importance sampling.

    Draws `samples` values of (f, a, b) at every step, f from the posterior weights
    of :func:`bayes_predict` and (a, b) from its Gaussian posterior widened by
    :data:`WIDEN`, and weighs them by the ratio (eq-bayes-ratio) of the task's
    ring-shaped prior on (a, b) to the Gaussian one. The Monte Carlo error adds about
    (posterior variance) / (effective samples) to each squared error: about 1e-5 to
    the book task's MSE at 2000 samples. Slow (about a hundred sequences a second):
    it is for measuring how far a predictor y is from the true Bayes risk. That
    distance is E[(y - y*)^2] for the exact posterior mean y* (eq-excess-risk), and
    the mean of (y - e1) (y - e2) over two independent runs e1, e2 estimates it
    without bias.

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

    Raises
    ------
    RuntimeError
        If no sample of some step lands on the ring (more `samples` would help).
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
    u_a, u_b = np.zeros((B, F)), np.zeros((B, F))
    rows = np.arange(B)[:, None]
    out = np.empty((B, T))
    for t in range(T):
        u_a += s[:, t, None] * grid.sin[t]
        u_b += s[:, t, None] * grid.cos[t]
        log_w, m_a, m_b = _posterior(grid, t, u_a, u_b, noise)
        cdf = np.cumsum(np.exp(log_w - log_w.max(axis=1, keepdims=True)), axis=1)
        cdf /= cdf[:, -1:]
        # frequencies j drawn from the weights (eq-bayes-weights): row i's CDF, shifted
        # by i, is one sorted array, so one search finds every row's samples
        draws = np.searchsorted((cdf + rows).ravel(), rng.uniform(size=(B, samples)) + rows)
        j = np.clip(draws - rows * F, 0, F - 1)
        # theta = m_j + WIDEN L_j eps, with L_j the Cholesky factor of Lambda_j^-1
        c11, c12, c22 = (c[t, j] * noise**2 for c in grid.cov)
        l11 = np.sqrt(c11)
        l21 = c12 / l11
        l22 = np.sqrt(np.maximum(c22 - l21**2, 0.0))
        e1, e2 = rng.standard_normal((2, B, samples))
        a = m_a[rows, j] + WIDEN * l11 * e1
        b = m_b[rows, j] + WIDEN * (l21 * e1 + l22 * e2)
        radius = np.hypot(a, b)
        ring = (radius >= a_lo) & (radius <= a_hi)
        if not ring.any(axis=1).all():
            raise RuntimeError(
                f"samples: no sample of step {t} fell on the amplitude ring for some "
                f"sequences; use more than {samples}"
            )
        with np.errstate(divide="ignore"):
            log_r = radius**2 / (2 * v) - np.log(radius)  # (eq-bayes-ratio)
        log_r = np.where(ring, log_r - (WIDEN**2 - 1) * (e1**2 + e2**2) / 2, -np.inf)
        r = np.exp(log_r - log_r.max(axis=1, keepdims=True))
        next_value = a * grid.sin[t + 1, j] + b * grid.cos[t + 1, j]
        out[:, t] = np.sum(r * next_value, axis=1) / np.sum(r, axis=1)
    return out
