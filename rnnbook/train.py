"""The training loop: minibatches, clipping, a history, and a divergence check."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import validate
from .clip import clip_grad_norm, global_norm
from .loss import mse_loss
from .optim import SGD, Adam
from .rnn import RNNParams, backward, forward


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss, gradient or parameter.

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
    grad_norm : list of float
        Per step: the global gradient norm before clipping.
    clipped : list of bool
        Per step: whether clipping rescaled the gradient.
    steps_per_epoch : int
    seconds : float
        Wall time of the whole run.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)
    steps_per_epoch: int = 0
    seconds: float = 0.0

    @property
    def clip_fraction(self) -> float:
        """The fraction of steps on which clipping fired."""
        return float(np.mean(self.clipped)) if self.clipped else 0.0


def evaluate(params: RNNParams, x: np.ndarray, target: np.ndarray) -> float:
    """The mean squared error of the RNN's predictions for `x` against `target`."""
    loss, _ = mse_loss(forward(params, x).y, target)
    return loss


def _diverged(
    epoch: int, step: int, what: str, value: float, optimizer, history: History, start: float
) -> DivergenceError:
    error = DivergenceError(
        f"training diverged at epoch {epoch} (step {step}): {what} is {value}. "
        f"Try gradient clipping (clip_norm=1.0, say) or a smaller learning rate "
        f"(lr is {optimizer.lr})."
    )
    history.seconds = time.perf_counter() - start
    error.history = history
    return error


def fit(
    params: RNNParams,
    x: np.ndarray,
    target: np.ndarray,
    *,
    optimizer: SGD | Adam,
    epochs: int,
    batch_size: int | None = None,
    clip_norm: float | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    truncate: int | None = None,
    rng: np.random.Generator | None = None,
) -> History:
    """Train `params` in place on next-step prediction with the MSE loss.

    Parameters
    ----------
    params : RNNParams
        Updated in place.
    x : ndarray, shape (N, T, D)
        Training inputs.
    target : ndarray, shape (N, T, O)
        Training targets.
    optimizer : SGD or Adam
    epochs : int
        Passes over the training set.
    batch_size : int, optional
        Sequences per step; ``None`` means the whole set (full-batch).
    clip_norm : float, optional
        If given, clip the global gradient norm to this value (eq-clip-norm).
    validation : (x_val, target_val), optional
        Evaluated after every epoch.
    truncate : int, optional
        Truncated BPTT length, passed to :func:`rnnbook.backward`.
    rng : numpy.random.Generator, optional
        Shuffles the sequences every epoch; ``None`` keeps their order.

    Returns
    -------
    History

    Raises
    ------
    DivergenceError
        As soon as the loss, the gradient norm or a parameter stops being finite,
        naming the epoch and step; its ``history`` holds what was recorded so far.
    """
    epochs = validate.size("epochs", epochs)
    N = x.shape[0] if isinstance(x, np.ndarray) else 0
    batch_size = N if batch_size is None else validate.size("batch_size", batch_size)
    if clip_norm is not None:
        validate.positive("clip_norm", clip_norm)
    if rng is not None:
        validate.generator("rng", rng)
    forward(params, x[:1])  # validates params and x once, cheaply
    validate.float_array("target", target, (N, x.shape[1], params.output_size), dtype=params.dtype)

    history = History(steps_per_epoch=-(-N // batch_size))
    start = time.perf_counter()
    step = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            order = rng.permutation(N) if rng is not None else np.arange(N)
            losses = []
            for first in range(0, N, batch_size):
                step += 1
                batch = order[first : first + batch_size]
                cache = forward(params, x[batch])
                loss, dy = mse_loss(cache.y, target[batch])
                grads = backward(params, cache, dy, truncate=truncate)
                if clip_norm is None:
                    norm = global_norm(grads)
                else:
                    grads, norm = clip_grad_norm(grads, clip_norm)
                if not np.isfinite(loss):
                    raise _diverged(epoch, step, "the loss", loss, optimizer, history, start)
                if not np.isfinite(norm):
                    raise _diverged(
                        epoch, step, "the gradient norm", norm, optimizer, history, start
                    )
                optimizer.step(params, grads)
                if not np.isfinite(global_norm(params)):
                    raise _diverged(epoch, step, "a parameter", np.inf, optimizer, history, start)
                losses.append(loss)
                history.grad_norm.append(norm)
                history.clipped.append(clip_norm is not None and norm > clip_norm)
            history.train_loss.append(float(np.mean(losses)))
            if validation is not None:
                history.val_loss.append(evaluate(params, *validation))
    history.seconds = time.perf_counter() - start
    return history
