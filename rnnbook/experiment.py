"""Experiments over several seeds: train, test on held-out sequences, summarise honestly.

One training run says little: a different initialization or minibatch order can
change the result a lot. Every comparison in the book is therefore repeated over
several seeds and reported as mean and spread, on a test split no run has seen,
next to the baselines of :mod:`rnnbook.baselines`. A run that diverges is kept and
counted, not silently dropped.

>>> import numpy as np, rnnbook as rb
>>> parts = rb.split(rb.book_task(np.random.default_rng(0), n=60), rng=np.random.default_rng(0))
>>> runs = rb.over_seeds(lambda seed: rb.train_run(parts, seed, epochs=2, hidden_size=4), [0, 1, 2])
>>> len(runs), rb.summarize(runs).n
(3, 3)
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from . import validate
from .baselines import (
    bayes_predict,
    fit_ar,
    fit_linear,
    persistence,
    predict_ar,
    predict_linear,
    sine_prior,
)
from .data import SineWaves, Split
from .init import init_params
from .optim import SGD, Adam, Schedule
from .params import Params
from .train import DivergenceError, History, evaluate, fit

T_ = TypeVar("T_")

#: The AR(k) orders the baselines use unless told otherwise.
AR_ORDERS = (1, 2, 3, 5, 10)


@dataclass
class Run:
    """One training run and its result on the test split.

    Attributes
    ----------
    seed : int
        Seeds the initialization and the minibatch order.
    params : Params
        The trained parameters (as they were when a diverged run stopped): an
        :class:`rnnbook.RNNParams`, or whatever model ``train_run(init=...)`` made.
    history : History
        What :func:`rnnbook.fit` recorded; for a diverged run, up to the divergence.
    test_mse : float
        Mean squared error on the test split, read once, for the parameters the
        run kept; NaN if the run diverged.
    diverged : bool
    message : str
        The :class:`rnnbook.DivergenceError` message of a diverged run, else "".
    val_mse : float
        Mean squared error on the validation split of the parameters kept (those of
        the best epoch with ``select_best``); NaN if the run diverged.
    """

    seed: int
    params: Params
    history: History
    test_mse: float
    diverged: bool = False
    message: str = ""
    val_mse: float = np.nan


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
    schedule: Schedule | None = None,
    select_best: bool = False,
    validate_every_epoch: bool = True,
    init: Callable[[np.random.Generator], Params] | None = None,
) -> Run:
    """Initialise a model with `seed`, train it on ``parts.train``, test it on ``parts.test``.

    The protocol a referee expects: anything chosen is chosen on ``parts.val``
    (with ``select_best``, the epoch whose parameters are kept), and the test split
    is read once, at the end, for the parameters kept.

    Parameters
    ----------
    parts : Split
        Train, validation and test sequences (inputs and next-step targets).
    seed : int
        ``np.random.default_rng(seed)`` draws the initial weights, then shuffles
        the minibatches: the same seed gives the same run, bit for bit.
    hidden_size : int
        H of the RNN.
    scheme, init_options
        Passed to :func:`rnnbook.init_params` (e.g. ``{"std": 0.01}``, ``{"gain": 1.0}``).
    optimizer : callable
        Makes a fresh optimizer, e.g. ``lambda: rb.SGD(0.1)``.
    epochs, batch_size, clip_norm, schedule, select_best
        Passed to :func:`rnnbook.fit` (e.g. ``schedule=rb.cosine_decay()``).
    validate_every_epoch : bool
        Record the validation loss after every epoch (needed by `select_best`).
    init : callable, optional
        ``init(rng) -> params`` makes the initial parameters of another model from
        the run's generator, e.g. ``lambda rng: rb.init_window(1, 32, 1, 25, rng)``;
        it replaces `hidden_size`, `scheme` and `init_options`. Everything else (the
        optimizer, the budget, the selection on validation, the one reading of the
        test split) is the same for every model.

    Returns
    -------
    Run
        A diverged run is returned with ``diverged=True`` and ``test_mse = nan``.
    """
    rng = np.random.default_rng(validate.size("seed", seed, minimum=0))
    if init is None:
        D, O, dtype = parts.train.x.shape[2], parts.train.y.shape[2], parts.train.x.dtype
        options = init_options or {}
        params = init_params(D, hidden_size, O, scheme=scheme, rng=rng, dtype=dtype, **options)
    elif init_options is not None:
        raise ValueError("init_options: for init_params only; give init= all its options")
    else:
        params = init(rng)
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
            schedule=schedule,
            select_best=select_best,
            validation=validation,
            rng=rng,
        )
    except DivergenceError as error:
        return Run(seed, params, error.history or History(), np.nan, True, str(error))
    val_mse = evaluate(params, parts.val.x, parts.val.y)
    test_mse = evaluate(params, parts.test.x, parts.test.y)
    return Run(seed, params, history, test_mse, val_mse=val_mse)


_TASK: Callable | None = None  # the function the worker processes of over_seeds call


def _call_task(seed):
    return _TASK(seed)  # type: ignore[misc]


def over_seeds(
    run: Callable[[int], T_], seeds: Iterable[int], *, processes: int | None = None
) -> list[T_]:
    """``[run(seed) for seed in seeds]``: the same experiment with different seeds.

    Runs are independent, so they are spread over `processes` worker processes
    (default: one per CPU core, at most one per seed). Every run draws its
    randomness from its own seed, so the results are the same, bit for bit, whatever
    the number of processes; ``processes=1`` runs them here, one after the other.
    Workers are forked, so `run` may be any function, a lambda or a closure.
    """
    global _TASK
    seeds = list(seeds)
    if processes is None:
        processes = min(len(seeds), os.cpu_count() or 1)
    processes = validate.size("processes", processes)
    if processes == 1 or len(seeds) < 2 or "fork" not in mp.get_all_start_methods():
        return [run(seed) for seed in seeds]
    _TASK = run
    try:
        with mp.get_context("fork").Pool(min(processes, len(seeds))) as pool:
            return pool.map(_call_task, seeds, chunksize=1)
    finally:
        _TASK = None


@dataclass(frozen=True)
class Summary:
    """Mean and spread of one number over several runs.

    ``mean``, ``std`` (sample standard deviation, ddof = 1), ``min``, ``max`` and
    ``median`` are taken over the runs that did not diverge; ``n`` counts all runs and
    ``n_diverged`` those that diverged. All statistics are NaN if every run diverged.
    ``sem`` = std / sqrt(runs kept) is the standard error of the mean over seeds.
    """

    mean: float
    std: float
    min: float
    max: float
    n: int
    n_diverged: int
    median: float = np.nan

    @property
    def sem(self) -> float:
        """The standard error of the mean, std / sqrt(number of runs that did not diverge)."""
        kept = self.n - self.n_diverged
        return self.std / np.sqrt(kept) if kept > 1 else np.nan

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
    return Summary(
        float(ok.mean()), std, float(ok.min()), float(ok.max()), n, n_diverged,
        float(np.median(ok)),
    )  # fmt: skip


def mean_and_se(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The mean along `axis` and its standard error, std (ddof = 1) / sqrt(n).

    For an error averaged over many test sequences, pass the per-sequence errors:
    the standard error is then the test-sampling uncertainty of that one number.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[axis]
    if n < 2:
        raise ValueError(f"values: expected at least 2 values along axis {axis}, got {n}")
    return values.mean(axis=axis), values.std(axis=axis, ddof=1) / np.sqrt(n)


def paired_difference(a: np.ndarray, b: np.ndarray, axis: int = 0) -> tuple[float, float]:
    """Mean of ``a - b`` and its standard error, for two models scored on the same items.

    Two models evaluated on the same test sequences (or the same seeds) share the
    items' difficulty; the paired difference removes it, so its standard error is
    usually far smaller than either model's own. Pass per-item errors of shape (n, ...).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"b: expected the shape of a, {a.shape}, got {b.shape}")
    return mean_and_se(a - b, axis=axis)


def geometric_mean(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """exp(mean(log values)): the average of positive, log-scale quantities (norms, rates)."""
    values = np.asarray(values, dtype=float)
    if (values <= 0).any() or not np.isfinite(values).all():
        raise ValueError("values: expected positive finite values for a geometric mean")
    return np.exp(np.log(values).mean(axis=axis))


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


def sequence_mse(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The mean squared error of each sequence, averaged over its steps and outputs.

    Its mean is the usual MSE; :func:`mean_and_se` of it gives that MSE's standard
    error over test sequences, and :func:`paired_difference` of two models' values
    compares them on the same sequences.

    Parameters
    ----------
    prediction, target : ndarray, shape (B, T, O)

    Returns
    -------
    ndarray, shape (B,)
    """
    prediction = validate.float_array("prediction", prediction, (None, None, None))
    target = validate.float_array("target", target, prediction.shape)
    return np.mean((prediction - target) ** 2, axis=(1, 2))


#: The names of the references in :func:`baseline_predictions`, besides AR(k).
LINEAR, BAYES = "linear (full history)", "Bayes"


def baseline_predictions(
    parts: Split,
    orders: Sequence[int] = AR_ORDERS,
    *,
    data: SineWaves | None = None,
    task: dict | None = None,
    bayes: bool = True,
) -> dict[str, np.ndarray]:
    """Predictions of every reference: persistence, AR(k), full-history linear, Bayes.

    AR(k) and the full-history linear predictor (:func:`rnnbook.fit_linear`) are
    fitted on ``parts.train``; the Bayes predictor (:func:`rnnbook.bayes_predict`)
    knows the task and needs no fitting. All predict `data`.

    Parameters
    ----------
    parts : Split
    orders : sequence of int
        The AR orders k, each at most the training length T.
    data : SineWaves, optional
        The sequences to predict: ``parts.test`` by default; e.g. ``rb.fresh_test()``.
    task : dict, optional
        What the Bayes predictor assumes: entries of :data:`rnnbook.data.BOOK_TASK`
        to replace; pass the options the data were drawn with, e.g. ``{"noise": 0.02}``.
    bayes : bool
        Include the Bayes predictor (it needs noise > 0; leave it out for noiseless data).

    Returns
    -------
    dict
        ``{"persistence": ..., "AR(k)": ..., "linear (full history)": ..., "Bayes": ...}``,
        each of shape (B, T, 1) like ``data.x``.
    """
    data = parts.test if data is None else data
    train = parts.train
    out = {"persistence": persistence(data.x)}
    for k in orders:
        out[f"AR({k})"] = predict_ar(fit_ar(train.x, train.y, k), data.x)
    out[LINEAR] = predict_linear(fit_linear(train.x, train.y), data.x)
    if bayes:
        out[BAYES] = bayes_predict(data.x, sine_prior(task))
    return out


def baseline_mse(
    parts: Split,
    orders: Sequence[int] = AR_ORDERS,
    *,
    data: SineWaves | None = None,
    task: dict | None = None,
    bayes: bool = True,
) -> dict[str, float]:
    """The MSE of every reference of :func:`baseline_predictions` on `data` (the test split)."""
    data = parts.test if data is None else data
    predictions = baseline_predictions(parts, orders, data=data, task=task, bayes=bayes)
    return {name: float(np.mean((pred - data.y) ** 2)) for name, pred in predictions.items()}
