"""Sine-wave sequences, splits by sequence, and the recall task.

A sequence is s_t = A sin(2 pi f t + phi) (+ noise), t = 0..T; the input is
x_t = s_t and the target the next value, s_{t+1}. The baselines an RNN must beat
(persistence, AR(k), the full-history linear and the Bayes predictors) are in
:mod:`rnnbook.baselines`; their old names here (``rnnbook.data.fit_ar``, ...) still work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate

#: The seed notebook's task: one frequency (0.1 cycles per step), random phase,
#: unit amplitude, 500 sequences of length 25.
SEED_CONFIG = dict(n=500, length=25, freq=0.1, phase=(0.0, 2 * np.pi), amplitude=1.0)

#: The book's task: frequency, phase and amplitude all random, so the network
#: has to infer the frequency from what it has seen. Noise (standard deviation
#: 0.05) is part of it: without noise, a fixed linear AR(k) filter with k >= 5
#: predicts every sine in this frequency band almost exactly (see the chapter on
#: the sine-wave task), leaving a network nothing to learn beyond linear algebra.
#: :func:`sine_waves` uses these ranges as defaults but is noiseless by default;
#: :func:`book_task` draws the task as the book uses it.
BOOK_TASK = dict(freq=(0.02, 0.15), phase=(0.0, 2 * np.pi), amplitude=(0.5, 1.5), noise=0.05)

Range = float | tuple[float, float]


@dataclass(frozen=True)
class SineWaves:
    """A batch of sine sequences with next-step targets.

    Attributes
    ----------
    x : ndarray, shape (n, T, 1)
        Inputs s_0..s_{T-1}.
    y : ndarray, shape (n, T, 1)
        Targets s_1..s_T.
    freq, phase, amplitude : ndarray, shape (n,)
        Each sequence's frequency (cycles per step), phase (radians) and amplitude.
    """

    x: np.ndarray
    y: np.ndarray
    freq: np.ndarray
    phase: np.ndarray
    amplitude: np.ndarray

    def __len__(self) -> int:
        return self.x.shape[0]

    def subset(self, index: np.ndarray) -> SineWaves:
        """The sequences selected by `index` (an integer array or a slice)."""
        return SineWaves(
            *(a[index] for a in (self.x, self.y, self.freq, self.phase, self.amplitude))
        )


@dataclass(frozen=True)
class Split:
    """Train, validation and test sets, disjoint by sequence."""

    train: SineWaves
    val: SineWaves
    test: SineWaves


def _draw(name: str, value: Range, n: int, rng: np.random.Generator) -> np.ndarray:
    """n values: all equal to `value`, or uniform on the interval `value` = (low, high)."""
    if isinstance(value, tuple):
        low, high = value
        if not (np.isfinite(low) and np.isfinite(high) and low <= high):
            raise ValueError(
                f"{name}: expected a (low, high) interval with low <= high, got {value!r}"
            )
        return rng.uniform(low, high, size=n)
    if not np.isfinite(value):
        raise ValueError(
            f"{name}: expected a finite number or a (low, high) interval, got {value!r}"
        )
    return np.full(n, float(value))


def sine_waves(
    n: int,
    length: int,
    *,
    freq: Range = BOOK_TASK["freq"],
    phase: Range = BOOK_TASK["phase"],
    amplitude: Range = BOOK_TASK["amplitude"],
    noise: float = 0.0,
    rng: np.random.Generator,
    dtype: type | np.dtype = np.float64,
) -> SineWaves:
    """Draw `n` sine sequences of `length` steps with next-step targets.

    Parameters
    ----------
    n : int
        Number of sequences.
    length : int
        T, the number of input steps (T + 1 samples are drawn).
    freq, phase, amplitude : float or (low, high)
        A fixed value, or an interval to draw uniformly from, per sequence.
        Frequency is in cycles per step, below the Nyquist limit 0.5.
    noise : float
        Standard deviation of Gaussian noise added to every sample.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : float32 or float64

    Returns
    -------
    SineWaves
        ``x`` and ``y`` of shape (n, length, 1).
    """
    n, length = validate.size("n", n), validate.size("length", length)
    rng = validate.generator("rng", rng)
    validate.positive("noise", noise, allow_zero=True)
    f = _draw("freq", freq, n, rng)
    if np.any(f <= 0) or np.any(f >= 0.5):
        raise ValueError(
            f"freq: expected values in (0, 0.5) cycles per step, got {freq!r}"
        )  # fmt: skip
    phi = _draw("phase", phase, n, rng)
    A = _draw("amplitude", amplitude, n, rng)
    t = np.arange(length + 1)
    s = A[:, None] * np.sin(2 * np.pi * f[:, None] * t + phi[:, None])
    if noise > 0:
        s = s + rng.normal(0.0, noise, size=s.shape)
    s = s.astype(dtype)[:, :, None]
    return SineWaves(x=s[:, :-1], y=s[:, 1:], freq=f, phase=phi, amplitude=A)


def seed_config(rng: np.random.Generator, **overrides) -> SineWaves:
    """The seed notebook's data set: ``sine_waves(**SEED_CONFIG)``."""
    return sine_waves(**{**SEED_CONFIG, **overrides}, rng=rng)


def first_step_floor(
    freq: float, phase: np.ndarray | None = None, length: int = 1
) -> float | np.ndarray:
    """The unavoidable error of predicting s_1 from s_0 alone, for sines of one frequency.

    From h_0 = 0 a model has seen only s_0 = sin(phi) when it predicts
    s_1 = sin(phi + omega); a rising and a falling sine share s_0, so the best guess is
    s_0 cos(omega) and its mean squared error is sin^2(omega) E[cos^2 phi]
    (eq-first-step-floor in the chapter on the sine-wave task).

    Parameters
    ----------
    freq : float
        Frequency f in cycles per step; omega = 2 pi f.
    phase : ndarray, shape (..., n), optional
        The phases of a particular set of n sequences: E[cos^2 phi] becomes their mean
        (over the last axis). ``None`` means uniformly random phases, E[cos^2 phi] = 1/2.
    length : int
        Divide by the number of steps T, to compare with an MSE averaged over T steps.

    Returns
    -------
    float or ndarray, shape (...)
    """
    mean_cos2 = 0.5 if phase is None else np.mean(np.cos(phase) ** 2, axis=-1)
    return np.sin(2 * np.pi * freq) ** 2 * mean_cos2 / length


def book_task(rng: np.random.Generator, n: int = 600, length: int = 25, **overrides) -> SineWaves:
    """The book's task: ``n`` noisy sines of ``length`` steps, ``sine_waves(**BOOK_TASK)``.

    Keyword `overrides` replace entries of :data:`BOOK_TASK`, e.g. ``noise=0.0``.
    """
    return sine_waves(n, length, **{**BOOK_TASK, **overrides}, rng=rng)


def book_split(seed: int = 0, **options) -> Split:
    """The book's task drawn with ``default_rng(seed)`` and split 70/15/15.

    Every chapter that uses ``book_split(0)`` trains, validates and tests on
    the same sequences, so their numbers can be compared. `options` go to
    :func:`book_task`.
    """
    rng = np.random.default_rng(validate.size("seed", seed, minimum=0))
    return split(book_task(rng, **options), rng=rng)


def fresh_test(n: int = 10_000, seed: int = 0, **options) -> SineWaves:
    """A large test set of the book's task, drawn apart from every :func:`book_split`.

    Per-step errors, closed-loop forecasts and paired comparisons need many more
    sequences than the 90 of a test split; evaluation is one forward pass, so the
    book measures them on ``fresh_test()``. The generator is seeded with
    ``(seed, 1)``, a stream that no ``book_split(seed)`` uses.
    """
    seed = validate.size("seed", seed, minimum=0)
    return book_task(np.random.default_rng([seed, 1]), n=n, **options)


def split(
    data: SineWaves,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    *,
    rng: np.random.Generator,
) -> Split:
    """Shuffle the sequences and cut them into train, validation and test sets.

    Whole sequences go to one set, so no test sequence is seen in training.
    """
    rng = validate.generator("rng", rng)
    ok = len(fractions) == 3 and min(fractions) >= 0
    if not (ok and np.isclose(sum(fractions), 1.0)):
        raise ValueError(
            "fractions: expected three numbers >= 0 summing to 1, "
            f"got {fractions!r}"
        )  # fmt: skip
    order = rng.permutation(len(data))
    n_train = int(round(fractions[0] * len(data)))
    n_val = int(round(fractions[1] * len(data)))
    cuts = np.split(order, [n_train, n_train + n_val])
    return Split(*(data.subset(np.sort(idx)) for idx in cuts))


# ---------------------------------------------------------------------------------------------
# A task that needs memory at a known lag (the chapter on vanishing gradients).


@dataclass(frozen=True)
class RecallTask:
    """Sequences whose last output must recall the first input, `lag` steps earlier.

    Attributes
    ----------
    x : ndarray, shape (n, lag + 1, 1)
        ``x[:, 0]`` is the value to remember; ``x[:, 1:]`` are distractors.
    y : ndarray, shape (n, 1)
        The target of the last step, T = lag + 1: the value ``x[:, 0]``.
    lag : int
        tau, the number of steps between the value and the step that asks for it.
    """

    x: np.ndarray
    y: np.ndarray
    lag: int

    def __len__(self) -> int:
        return self.x.shape[0]


def recall_task(
    n: int,
    lag: int,
    *,
    rng: np.random.Generator,
    distractor: float = 1.0,
    dtype: type | np.dtype = np.float64,
) -> RecallTask:
    """Draw `n` recall sequences: remember x_1, output it tau steps later.

    x_1 ~ U(-1, 1) is the value; x_2, ..., x_{tau+1} ~ U(-distractor,
    distractor) are distractors; the target of the last step T = tau + 1 is
    x_1 = x_{T - tau}. Only the last output is scored (see
    :func:`rnnbook.recall_loss`). A network that solves this must carry one
    number across tau steps while tau inputs of the same kind pass through,
    and its gradient must cross tau Jacobians to reach x_1.

    Parameters
    ----------
    n : int
        Number of sequences.
    lag : int
        The lag tau >= 1.
    rng : numpy.random.Generator
    distractor : float
        Half-width of the distractors' uniform distribution; 0 gives silent
        inputs after x_1, 1 distractors just like the value.
    dtype : float32 or float64

    Returns
    -------
    RecallTask
        ``x`` of shape (n, lag + 1, 1) and ``y`` of shape (n, 1).
    """
    n, lag = validate.size("n", n), validate.size("lag", lag)
    rng = validate.generator("rng", rng)
    validate.positive("distractor", distractor, allow_zero=True)
    x = rng.uniform(-1.0, 1.0, size=(n, lag + 1, 1)) * distractor
    x[:, 0] = rng.uniform(-1.0, 1.0, size=(n, 1))
    x = x.astype(dtype)
    return RecallTask(x=x, y=x[:, 0].copy(), lag=lag)


def recall_batches(
    lag: int,
    batch_size: int = 32,
    *,
    distractor: float = 1.0,
    dtype: type | np.dtype = np.float64,
):
    """A sampler for :func:`rnnbook.fit`: a fresh recall minibatch for every step.

    ``sample(rng)`` returns ``(x, y)`` of ``recall_task(batch_size, lag, rng=rng, ...)``;
    train with ``loss=rnnbook.recall_loss``, which scores the last step only.
    """
    lag, batch_size = validate.size("lag", lag), validate.size("batch_size", batch_size)
    validate.positive("distractor", distractor, allow_zero=True)

    def sample(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        task = recall_task(batch_size, lag, rng=rng, distractor=distractor, dtype=dtype)
        return task.x, task.y

    return sample


_MOVED = ("persistence", "lagged", "fit_ar", "predict_ar")  # now in rnnbook.baselines


def __getattr__(name: str):
    """The baselines that moved to :mod:`rnnbook.baselines`, under their old names here."""
    if name in _MOVED:
        from . import baselines

        return getattr(baselines, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
