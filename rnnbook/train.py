"""One training loop for every model and loss: minibatches, clipping, a schedule,
selection on validation, a history, and a divergence check.

:func:`fit` trains any parameter dataclass (:class:`rnnbook.params.Params`): it finds
the model's ``forward`` and ``backward`` with :func:`rnnbook.params.model_of`, and the
loss is an argument (:func:`rnnbook.mse_loss` by default; :func:`rnnbook.recall_loss`
scores the last step only). The data are either arrays, walked in shuffled minibatches
epoch after epoch, or a *sampler* that draws a fresh minibatch for every step (the
recall task: there is no fixed training set to overfit).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from . import validate
from .clip import clip_grad_norm_, global_norm
from .loss import mse_loss
from .optim import SGD, Adam, Schedule
from .params import Params, model_of

# A loss: ``loss(y, target) -> (value, dL/dy)``.
Loss = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]
# A sampler: ``sample(rng) -> (x, target)``, a fresh minibatch for one step.
Sampler = Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]


class DivergenceError(RuntimeError):
    """Training produced a non-finite (or too large) loss, gradient or parameter.

    Attributes
    ----------
    history : History or None
        What :func:`fit` recorded up to the step that diverged (that step excluded),
        so that a diverged run can still be shown.
    """

    history: History | None = None


@dataclass
class History:
    """What happened during :func:`fit`.

    Attributes
    ----------
    train_loss : list of float
        Per epoch: the mean of the minibatch losses, each measured before its step.
    val_loss : list of float
        Per epoch: the validation loss after the epoch (empty without validation data).
    step_loss : list of float
        Per step: the minibatch loss before the step.
    grad_norm : list of float
        Per step: the global gradient norm before clipping.
    clipped : list of bool
        Per step: whether clipping rescaled the gradient.
    lr : list of float
        Per step: the learning rate used (the base rate times the schedule).
    steps_per_epoch : int
    best_epoch : int
        With ``select_best``: the epoch (1-based) whose parameters were kept, the one
        with the lowest validation loss; otherwise the last epoch.
    seconds : float
        Wall time of the whole run.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0
    best_epoch: int = 0
    seconds: float = 0.0

    @property
    def clip_fraction(self) -> float:
        """The fraction of steps on which clipping fired."""
        return float(np.mean(self.clipped)) if self.clipped else 0.0


def evaluate(params: Params, x: np.ndarray, target: np.ndarray, loss: Loss = mse_loss) -> float:
    """The loss (by default the mean squared error) of the model's outputs for `x`."""
    value, _ = loss(model_of(params).forward(params, x).y, target)
    return value


def _diverged(
    epoch: int, step: int, what: str, value: float, lr: float, history: History, start: float
) -> DivergenceError:
    error = DivergenceError(
        f"training diverged at epoch {epoch} (step {step}): {what} is {value}. "
        f"Try gradient clipping (clip_norm=1.0, say) or a smaller learning rate "
        f"(lr is {lr})."
    )
    history.seconds = time.perf_counter() - start
    error.history = history
    return error


def _epochs_of_arrays(x: np.ndarray, target: np.ndarray, batch_size: int, rng):
    """One epoch's minibatches of arrays: shuffled by `rng` (kept in order without it)."""
    N = x.shape[0]
    order = rng.permutation(N) if rng is not None else np.arange(N)
    for first in range(0, N, batch_size):
        batch = order[first : first + batch_size]
        yield x[batch], target[batch]


def _finite(x: np.ndarray, target=None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, target)``, after checking that real-valued inputs `x` are finite."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError("x: expected finite values, got NaN or inf")
    return x, target


def fit(
    params: Params,
    x: np.ndarray | Sampler,
    target: np.ndarray | None = None,
    *,
    optimizer: SGD | Adam,
    epochs: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    loss: Loss = mse_loss,
    clip_norm: float | None = None,
    schedule: Schedule | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    select_best: bool = False,
    truncate: int | None = None,
    max_loss: float | None = None,
    rng: np.random.Generator | None = None,
) -> History:
    """Train `params` in place: forward, loss, BPTT, clipping, an optimizer
    step.

    Parameters
    ----------
    params : Params
        Any model's parameters (:class:`rnnbook.RNNParams`, ...); updated in
        place.
    x : ndarray, shape (N, T, D), or a sampler
        Training inputs; or a function ``sample(rng) -> (x, target)`` that
        draws a fresh minibatch for every step (see
        :func:`rnnbook.recall_batches`).
    target : ndarray, optional
        Training targets, as `loss` expects them (shape (N, T, O) for the MSE);
        ``None`` with a sampler.
    optimizer : SGD or Adam
        Its ``lr`` is the base rate that `schedule` multiplies.
    epochs : int
        Passes over the arrays. With a sampler: how many times to record the
        training loss (and the validation loss), every ``steps // epochs``
        steps (default 1, at the end).
    steps : int
        With a sampler only: the number of updates.
    batch_size : int, optional
        Sequences per step with arrays; ``None`` means the whole set
        (full-batch).
    loss : callable
        ``loss(y, target) -> (value, dL/dy)``; :func:`rnnbook.mse_loss` by
        default.
    clip_norm : float, optional
        If given, clip the global gradient norm to this value (eq-clip-norm).
    schedule : Schedule, optional
        Learning-rate factor per step, e.g. ``rb.cosine_decay(warmup=100)``.
    validation : (x_val, target_val), optional
        Evaluated with `loss` after every epoch.
    select_best : bool
        Keep the parameters of the epoch with the lowest validation loss
        (needs `validation`): model selection on the validation split, never
        the test split.
    truncate : int, optional
        Truncated BPTT length, passed to the model's ``backward``.
    max_loss : float, optional
        Also stop (raise :class:`DivergenceError`) when a minibatch loss
        exceeds this.
    rng : numpy.random.Generator, optional
        Shuffles the sequences every epoch (``None`` keeps their order);
        required with a sampler, which draws from it.

    Returns
    -------
    History

    Raises
    ------
    DivergenceError
        As soon as the loss, the gradient norm or a parameter stops being
        finite (or the loss exceeds `max_loss`), naming the epoch and step;
        its ``history`` holds what was recorded so far.
    """
    model = model_of(params)
    if clip_norm is not None:
        validate.positive("clip_norm", clip_norm)
    if max_loss is not None:
        validate.positive("max_loss", max_loss)
    if rng is not None:
        validate.generator("rng", rng)
    if select_best and validation is None:
        raise ValueError(
            "select_best: expected validation data to select on, got none",
        )
    if schedule is not None and not isinstance(schedule, Schedule):
        got = type(schedule).__name__
        raise ValueError(f"schedule: expected an rnnbook Schedule, got {got}")

    if callable(x):
        if target is not None:
            wanted = "target: expected None with a sampler"
            raise ValueError(f"{wanted} (it draws the targets)")
        if rng is None:
            raise ValueError(
                "rng: a sampler needs a numpy.random.Generator to draw from",
            )
        steps = validate.size("steps", steps)
        epochs = 1 if epochs is None else validate.size("epochs", epochs)
        if epochs > steps:
            raise ValueError(
                f"epochs: expected at most steps = {steps}, got {epochs}",
            )
        quotient, remainder = steps // epochs, steps % epochs
        per_epoch = [quotient + (e < remainder) for e in range(epochs)]
        sampler = x

        def epoch_batches(epoch: int):
            n = per_epoch[epoch - 1]
            return (_finite(*sampler(rng)) for _ in range(n))

    else:
        if steps is not None:
            raise ValueError(
                "steps: only with a sampler; with arrays, give epochs",
            )
        epochs = validate.size("epochs", epochs)
        N = x.shape[0] if isinstance(x, np.ndarray) else 0
        if batch_size is None:
            batch_size = N
        else:
            batch_size = validate.size("batch_size", batch_size)
        _finite(x)  # the values of x, once
        # params, and the shape and dtype of x, once
        model.forward(params, x[:1])
        if target is None:
            raise ValueError(
                "target: expected the training targets with array inputs",
            )
        per_epoch = [-(-N // batch_size)] * epochs

        def epoch_batches(epoch: int):
            return _epochs_of_arrays(x, target, batch_size, rng)

    # The fast path: a model that offers a workspace (buffers reused from step
    # to step, see rnnbook.rnn.Workspace) is run through it, any other through
    # its functions.
    if hasattr(model, "make_workspace"):
        cell = model.make_workspace(params)
    else:
        cell = model
    options = {} if truncate is None else {"truncate": truncate}
    total = sum(per_epoch)
    base_lr = optimizer.lr
    history = History(steps_per_epoch=per_epoch[0])
    best, best_val = None, np.inf
    start = time.perf_counter()
    step = 0

    def diverged(what: str, number: float) -> DivergenceError:
        return _diverged(epoch, step, what, number, lr, history, start)

    try:
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(1, epochs + 1):
                losses = []
                for xb, tb in epoch_batches(epoch):
                    step += 1
                    if schedule is None:
                        lr = base_lr * 1.0
                    else:
                        lr = base_lr * schedule(step, total)
                    cache = cell.forward(params, xb)
                    value, dy = loss(cache.y, tb)
                    grads = cell.backward(params, cache, dy, **options)
                    if clip_norm is None:
                        norm = global_norm(grads)
                    else:
                        norm = clip_grad_norm_(grads, clip_norm)  # in place
                    too_big = max_loss is not None and value > max_loss
                    if not np.isfinite(value) or too_big:
                        raise diverged("the loss", value)
                    if not np.isfinite(norm):
                        raise diverged("the gradient norm", norm)
                    optimizer.lr = lr
                    optimizer.step(params, grads)
                    if not np.isfinite(global_norm(params)):
                        raise diverged("a parameter", np.inf)
                    losses.append(value)
                    history.step_loss.append(value)
                    history.grad_norm.append(norm)
                    clipped = clip_norm is not None and norm > clip_norm
                    history.clipped.append(clipped)
                    history.lr.append(lr)
                history.train_loss.append(float(np.mean(losses)))
                history.best_epoch = epoch
                if validation is not None:
                    val = evaluate(params, *validation, loss=loss)
                    history.val_loss.append(val)
                    if select_best and history.val_loss[-1] < best_val:
                        best, best_val = params.copy(), history.val_loss[-1]
                        best_epoch = epoch
    finally:
        optimizer.lr = base_lr
    if select_best and best is not None:
        for (_, p), (_, b) in zip(params.items(), best.items()):
            p[...] = b
        history.best_epoch = best_epoch
    history.seconds = time.perf_counter() - start
    return history


class BatchSplit:
    """A model's fast path on several cores: the batch cut into parts, a thread per part.

    Each part runs in its own workspace (``model.make_workspace``) in its own Python
    thread; NumPy releases the interpreter lock inside its matrix products and elementwise
    loops, so the parts run at the same time. The outputs are joined for the loss and the
    gradients of the parts summed: the numbers of the whole batch, up to rounding. It pays
    when the arrays are large (B H in the thousands) and each part's BLAS runs one thread
    (``OPENBLAS_NUM_THREADS=1``); for small ones the threads mostly wait for the lock.
    The methods are those of a workspace (see :class:`rnnbook.rnn.Workspace`).

    Parameters
    ----------
    params : Params
        Any model whose module has ``make_workspace``.
    parts : int
        The number of parts and threads (the cores to use).
    """

    def __init__(self, params: Params, parts: int = 2) -> None:
        from concurrent.futures import ThreadPoolExecutor

        model = model_of(params)
        if not hasattr(model, "make_workspace"):
            raise ValueError(f"params: {model.__name__} has no make_workspace() to split")
        self.parts = validate.size("parts", parts)
        self._workspaces = [model.make_workspace(params) for _ in range(self.parts)]
        self._pool = ThreadPoolExecutor(self.parts - 1) if self.parts > 1 else None
        self._y: dict[tuple, np.ndarray] = {}

    def _run(self, calls: list[Callable]) -> list:
        """Run the calls at the same time, the first in this thread; their results in order."""
        futures = [self._pool.submit(call) for call in calls[1:]] if self._pool else []
        first = calls[0]()
        return [first, *(f.result() for f in futures)]

    def _cuts(self, B: int) -> list[slice]:
        bounds = [B * i // self.parts for i in range(self.parts + 1)]
        return [slice(a, b) for a, b in zip(bounds, bounds[1:])]

    def forward(self, params: Params, x: np.ndarray, h0: np.ndarray | None = None):
        """The forward pass of the whole batch; the cache's ``y`` joins the parts' outputs."""
        cuts = self._cuts(x.shape[0])
        caches = self._run([partial(ws.forward, params, x[c], None if h0 is None else h0[c])
                            for ws, c in zip(self._workspaces, cuts)])  # fmt: skip
        y = self._y.get(x.shape)
        if y is None:
            y = self._y[x.shape] = np.empty((*x.shape[:2], caches[0].y.shape[2]), x.dtype)
        np.concatenate([c.y for c in caches], axis=0, out=y)
        return _SplitCache(caches, cuts, y)

    def bptt(self, params: Params, cache: _SplitCache, dy: np.ndarray, dh_T=None, **options):
        """The gradients of the whole batch (the parts' sum) and dL/dh_0 (the parts joined)."""
        results = self._run([
            partial(ws.bptt, params, part, dy[c], None if dh_T is None else dh_T[c], **options)
            for ws, part, c in zip(self._workspaces, cache.parts, cache.cuts)
        ])  # fmt: skip
        grads = results[0][0]
        for other, _ in results[1:]:
            for (_, g), (_, o) in zip(grads.items(), other.items()):
                g += o
        return grads, np.concatenate([dh0 for _, dh0 in results], axis=0)

    def backward(
        self, params: Params, cache: _SplitCache, dy: np.ndarray, dh_T=None, **options
    ) -> Params:
        """The gradients of the whole batch (see :meth:`bptt`)."""
        return self.bptt(params, cache, dy, dh_T, **options)[0]


@dataclass(frozen=True)
class _SplitCache:
    """The parts' caches, the rows of the batch each part holds, and the joined ``y``."""

    parts: list
    cuts: list[slice]
    y: np.ndarray
