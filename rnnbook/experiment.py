"""Experiments over several seeds: train, test on held-out sequences, summarise honestly.

One training run says little: a different initialization or minibatch order can
change the result a lot. Every comparison in the book is therefore repeated over
several seeds and reported as mean and spread, on a test split no run has seen,
next to the baselines of :mod:`rnnbook.data`. A run that diverges is kept and
counted, not silently dropped.

>>> import numpy as np, rnnbook as rb
>>> parts = rb.split(rb.book_task(np.random.default_rng(0), n=60), rng=np.random.default_rng(0))
>>> runs = rb.over_seeds(lambda seed: rb.train_run(parts, seed, epochs=2, hidden_size=4), [0, 1, 2])
>>> len(runs), rb.summarize(runs).n
(3, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from . import validate
from .data import Split, fit_ar, persistence, predict_ar
from .init import init_params
from .optim import SGD, Adam
from .rnn import RNNParams
from .train import DivergenceError, History, evaluate, fit

#: The AR(k) orders the baselines use unless told otherwise.
AR_ORDERS = (1, 2, 3, 5, 10)


@dataclass
class Run:
    """One training run and its result on the test split.

    Attributes
    ----------
    seed : int
        Seeds the initialization and the minibatch order.
    params : RNNParams
        The trained parameters (as they were when a diverged run stopped).
    history : History
        What :func:`rnnbook.fit` recorded; for a diverged run, up to the divergence.
    test_mse : float
        Mean squared error on the test split; NaN if the run diverged.
    diverged : bool
    message : str
        The :class:`rnnbook.DivergenceError` message of a diverged run, else "".
    """

    seed: int
    params: RNNParams
    history: History
    test_mse: float
    diverged: bool = False
    message: str = ""


def train_run(
    parts: Split,
    seed: int,
    *,
    hidden_size: int = 32,
    scheme: str = "xavier",
    init_options: dict | None = None,
    optimizer: Callable[[], SGD | Adam] = lambda: Adam(0.01),
    epochs: int = 30,
    batch_size: int | None = 32,
    clip_norm: float | None = None,
    validate_every_epoch: bool = True,
) -> Run:
    """Initialise an RNN with `seed`, train it on ``parts.train``, test it on ``parts.test``.

    Parameters
    ----------
    parts : Split
        Train, validation and test sequences (inputs and next-step targets).
    seed : int
        ``np.random.default_rng(seed)`` draws the initial weights, then shuffles
        the minibatches: the same seed gives the same run, bit for bit.
    hidden_size : int
        H.
    scheme, init_options
        Passed to :func:`rnnbook.init_params` (e.g. ``{"std": 0.01}``, ``{"gain": 1.0}``).
    optimizer : callable
        Makes a fresh optimizer, e.g. ``lambda: rb.SGD(0.1)``.
    epochs, batch_size, clip_norm
        Passed to :func:`rnnbook.fit`.
    validate_every_epoch : bool
        Record the validation loss after every epoch.

    Returns
    -------
    Run
        A diverged run is returned with ``diverged=True`` and ``test_mse = nan``.
    """
    rng = np.random.default_rng(validate.size("seed", seed, minimum=0))
    D, O = parts.train.x.shape[2], parts.train.y.shape[2]
    params = init_params(
        D, hidden_size, O, scheme=scheme, rng=rng, dtype=parts.train.x.dtype, **(init_options or {})
    )
    validation = (parts.val.x, parts.val.y) if validate_every_epoch else None
    try:
        history = fit(
            params,
            parts.train.x,
            parts.train.y,
            optimizer=optimizer(),
            epochs=epochs,
            batch_size=batch_size,
            clip_norm=clip_norm,
            validation=validation,
            rng=rng,
        )
    except DivergenceError as error:
        return Run(seed, params, error.history or History(), np.nan, True, str(error))
    return Run(seed, params, history, evaluate(params, parts.test.x, parts.test.y))


def over_seeds(run: Callable[[int], Run], seeds: Iterable[int]) -> list[Run]:
    """``[run(seed) for seed in seeds]``: the same experiment with different seeds."""
    return [run(seed) for seed in seeds]


@dataclass(frozen=True)
class Summary:
    """Mean and spread of one number over several runs.

    ``mean``, ``std`` (sample standard deviation, ddof = 1), ``min`` and ``max`` are
    taken over the runs that did not diverge; ``n`` counts all runs and
    ``n_diverged`` those that diverged. All four statistics are NaN if every run diverged.
    """

    mean: float
    std: float
    min: float
    max: float
    n: int
    n_diverged: int

    def format(self, digits: int = 4) -> str:
        """E.g. ``"0.0213 ± 0.0011"``, or ``"diverged (5/5)"``; adds the diverged count.

        With a single run left there is no spread, and only its value is shown.
        """
        if self.n_diverged == self.n:
            return f"diverged ({self.n}/{self.n})"
        if self.n - self.n_diverged == 1:  # one survivor: no spread to show
            text = f"{self.mean:.{digits}f}"
        else:
            text = f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"
        if self.n_diverged:
            text += f" ({self.n_diverged}/{self.n} diverged)"
        return text


def summarize(runs: Sequence[Run] | Sequence[float]) -> Summary:
    """Summarise test MSEs (of runs, or plain numbers; NaN marks a diverged run)."""
    values = np.array([r.test_mse if isinstance(r, Run) else r for r in runs], dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"runs: expected a non-empty sequence, got {len(values)} values")
    ok = values[np.isfinite(values)]
    n, n_diverged = values.size, values.size - ok.size
    if ok.size == 0:
        return Summary(np.nan, np.nan, np.nan, np.nan, n, n_diverged)
    std = float(ok.std(ddof=1)) if ok.size > 1 else 0.0
    return Summary(float(ok.mean()), std, float(ok.min()), float(ok.max()), n, n_diverged)


def curves(runs: Sequence[Run], name: str = "val_loss") -> np.ndarray:
    """Per-epoch curves of all runs, shape (runs, epochs), NaN-padded after a divergence.

    `name` is a per-epoch field of :class:`rnnbook.History`: ``"train_loss"`` or ``"val_loss"``.
    """
    if name not in ("train_loss", "val_loss"):
        raise ValueError(f"name: expected 'train_loss' or 'val_loss', got {name!r}")
    lists = [getattr(r.history, name) for r in runs]
    out = np.full((len(runs), max((len(c) for c in lists), default=0)), np.nan)
    for row, values in zip(out, lists):
        row[: len(values)] = values
    return out


def step_mse(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The mean squared error at each time step, averaged over sequences and outputs.

    Parameters
    ----------
    prediction, target : ndarray, shape (B, T, O)

    Returns
    -------
    ndarray, shape (T,)
    """
    prediction = validate.float_array("prediction", prediction, (None, None, None))
    target = validate.float_array("target", target, prediction.shape)
    return np.mean((prediction - target) ** 2, axis=(0, 2))


def baseline_predictions(parts: Split, orders: Sequence[int] = AR_ORDERS) -> dict:
    """Test-split predictions of persistence and of AR(k) fitted on the training split.

    Returns
    -------
    dict
        ``{"persistence": (B, T, 1) array, "AR(1)": ..., "AR(k)": ...}`` for the test inputs.
    """
    out = {"persistence": persistence(parts.test.x)}
    for k in orders:
        coefs = fit_ar(parts.train.x, parts.train.y, k)
        out[f"AR({k})"] = predict_ar(coefs, parts.test.x)
    return out


def baseline_mse(parts: Split, orders: Sequence[int] = AR_ORDERS) -> dict[str, float]:
    """Test MSE of persistence and of AR(k) for each order k (see :func:`baseline_predictions`)."""
    return {
        name: float(np.mean((pred - parts.test.y) ** 2))
        for name, pred in baseline_predictions(parts, orders).items()
    }
