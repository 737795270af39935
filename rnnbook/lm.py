"""Training a character-level language model on one long stream: stateful truncated BPTT.

A text is one long sequence. It is cut into B parallel streams (:func:`rnnbook.text.streams`)
and walked in windows of K characters (:func:`rnnbook.text.windows`). Each window is a
minibatch (B, K) of ids: forward from the state where the previous window ended, the
cross-entropy of its next characters, BPTT *within* the window, one optimizer step. The
state h_K (and c_K for the LSTM) is carried to the next window as a constant,
*detached*: the gradient of the next window's loss with respect to this window's
parameters, which flows through h_K, is dropped,

    dL/dtheta = sum_w dL_w/dtheta|_{dh_K = 0}  +  sum_w dL_{>w}/dh_K^(w) dh_K^(w)/dtheta
                 (what stateful TBPTT keeps)       (what it drops)          (eq-tbptt-dropped)

The dropped term can be recovered exactly: backpropagate the windows from last to first
and pass each window's dL/dh_0 to the window before it as its ``dh_T``
(:func:`stream_gradient` with ``exact=True``). Stateful TBPTT does not, because it updates
the parameters after every window (the later windows are not computed yet) and because
its cost per update stays K steps however long the text.
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import validate
from .clip import clip_grad_norm_, global_norm
from .loss import cross_entropy_loss
from .optim import SGD, Adam, Schedule
from .params import Params, model_of
from .text import windows
from .train import History, _diverged


def _state_of(model, cache) -> dict[str, np.ndarray]:
    final_state = getattr(model, "final_state", None)
    if not callable(final_state):
        raise ValueError(f"params: {model.__name__} has no final_state() to carry its state")
    return final_state(cache)


def stream_loss(params: Params, streams: np.ndarray, window: int = 500) -> float:
    """The mean cross-entropy (nats per character) of a model reading parallel streams.

    The model reads every stream from its start, in windows of `window` characters with
    the state carried from window to window (one forward pass in pieces, so memory stays
    bounded), and predicts every next character: ``streams[:, 1:]`` from what came before.

    Parameters
    ----------
    params : Params
        A model with integer inputs and V outputs, whose module has ``final_state``.
    streams : ndarray, shape (B, L), integer
        E.g. ``rnnbook.text.streams(val_ids, 64)``.
    window : int
        Characters per forward pass (a memory bound; the result does not depend on it).

    Returns
    -------
    float
        Nats per character; divide by ln 2 for bits per character.
    """
    model = model_of(params)
    state: dict[str, np.ndarray] = {}
    total, count = 0.0, 0
    for x, y in windows(streams, window, keep_last=True):
        cache = model.forward(params, x, **state)
        loss, _ = cross_entropy_loss(cache.y, y)
        total += loss * y.size
        count += y.size
        state = _state_of(model, cache)
    return total / count


def stream_gradient(
    params: Params,
    x: np.ndarray,
    target: np.ndarray,
    window: int,
    *,
    exact: bool,
) -> Params:
    """The gradient of the mean cross-entropy over a long batch, computed in
    windows.

    Parameters
    ----------
    params : Params
        A model whose module has ``bptt`` returning ``(grads, dh0, ...)``
        (dh0, and dc0 for the LSTM) and ``final_state``.
    x, target : ndarray, shape (B, T), integer
        Inputs and next characters of the whole batch.
    window : int
        K, the window length.
    exact : bool
        ``True``: chain the windows, each window's dL/dh_0 passed to the
        window before it as ``dh_T`` (and ``dc_T``): the full BPTT gradient
        (eq-tbptt-dropped, both terms).
        ``False``: each window backpropagated alone, as stateful TBPTT does
        (the first term only).

    Returns
    -------
    Params
        The gradient of the mean loss over all B T characters.
    """
    model = model_of(params)
    K = validate.size("window", window)
    B, T = x.shape
    state: dict[str, np.ndarray] = {}
    caches, dys = [], []
    for start in range(0, T, K):
        cache = model.forward(params, x[:, start : start + K], **state)
        part = target[:, start : start + K]
        _, dy = cross_entropy_loss(cache.y, part)
        caches.append(cache)
        # the mean over all B T characters
        dys.append(dy * (part.size / target.size))
        state = _state_of(model, cache)
    total, carry = None, ()
    for cache, dy in zip(reversed(caches), reversed(dys)):
        grads, *dstate = model.bptt(params, cache, dy, *carry)
        carry = tuple(dstate) if exact else ()
        if total is None:
            total = grads.copy()
        else:
            for (_, t), (_, g) in zip(total.items(), grads.items()):
                t += g
    return total


def fit_stream(
    params: Params,
    streams: np.ndarray,
    *,
    window: int,
    optimizer: SGD | Adam,
    steps: int,
    clip_norm: float | None = None,
    schedule: Schedule | None = None,
    validation: np.ndarray | None = None,
    evaluations: int = 1,
    select_best: bool = False,
    max_loss: float | None = None,
) -> History:
    """Train a language model in place by stateful truncated BPTT (see the module).

    Parameters
    ----------
    params : Params
        Any model with integer inputs and V outputs whose module has ``final_state``
        (:mod:`rnnbook.rnn`, :mod:`rnnbook.gru`, :mod:`rnnbook.lstm`); updated in place.
    streams : ndarray, shape (B, L), integer
        The training text as B parallel streams (:func:`rnnbook.text.streams`).
    window : int
        K: characters per update. The state is carried across windows, detached.
    optimizer : SGD or Adam
    steps : int
        The number of updates. After the last window of the streams the walk starts
        again from their beginning, with a zero state (a new epoch).
    clip_norm : float, optional
        Clip the global gradient norm to this value (eq-clip-norm).
    schedule : Schedule, optional
        Learning-rate factor per step.
    validation : ndarray, shape (B', L'), integer, optional
        Validation streams, scored with :func:`stream_loss` at every evaluation.
    evaluations : int
        How many times to record the training loss (the mean of the window losses since
        the last record) and the validation loss, evenly over the steps.
    select_best : bool
        Keep the parameters of the evaluation with the lowest validation loss.
    max_loss : float, optional
        Raise :class:`rnnbook.DivergenceError` when a window's loss exceeds this.

    Returns
    -------
    History
        ``train_loss`` and ``val_loss`` per evaluation (nats per character),
        ``step_loss``, ``grad_norm``, ``clipped`` and ``lr`` per step; ``best_epoch``
        is the (1-based) evaluation whose parameters were kept.
    """
    model = model_of(params)
    if not isinstance(streams, np.ndarray) or streams.ndim != 2 or streams.dtype.kind not in "iu":
        raise ValueError("streams: expected a (B, L) integer array of character ids")
    K = validate.size("window", window)
    if streams.shape[1] <= K:
        raise ValueError(f"window: expected fewer than L = {streams.shape[1]} characters, got {K}")
    steps = validate.size("steps", steps)
    evaluations = validate.size("evaluations", evaluations)
    if evaluations > steps:
        raise ValueError(f"evaluations: expected at most steps = {steps}, got {evaluations}")
    if clip_norm is not None:
        validate.positive("clip_norm", clip_norm)
    if select_best and validation is None:
        raise ValueError("select_best: expected validation streams to select on, got none")
    _state_of(model, model.forward(params, streams[:1, :1]))  # params and the ids, once
    cell = model.make_workspace(params) if hasattr(model, "make_workspace") else model
    record_at = {round(steps * (e + 1) / evaluations) for e in range(evaluations)}
    history = History(steps_per_epoch=steps // evaluations)
    best, best_val, best_eval = None, np.inf, 0
    base_lr, start, losses = optimizer.lr, time.perf_counter(), []
    state: dict[str, np.ndarray] = {}
    walk = windows(streams, K)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            for step in range(1, steps + 1):
                try:
                    x, y = next(walk)
                except StopIteration:  # a new epoch: from the start, with a zero state
                    walk, state = windows(streams, K), {}
                    x, y = next(walk)
                lr = base_lr * (1.0 if schedule is None else schedule(step, steps))
                cache = cell.forward(params, x, **state)
                value, dy = cross_entropy_loss(cache.y, y)
                state = _state_of(model, cache)  # carried, detached (eq-tbptt-dropped)
                grads = cell.backward(params, cache, dy)
                norm = (
                    global_norm(grads) if clip_norm is None else clip_grad_norm_(grads, clip_norm)
                )
                epoch = len(history.train_loss) + 1
                if not math.isfinite(value) or (max_loss is not None and value > max_loss):
                    raise _diverged(epoch, step, "the loss", value, lr, history, start)
                if not math.isfinite(norm):
                    raise _diverged(epoch, step, "the gradient norm", norm, lr, history, start)
                optimizer.lr = lr
                optimizer.step(params, grads)
                losses.append(value)
                history.step_loss.append(value)
                history.grad_norm.append(norm)
                history.clipped.append(clip_norm is not None and norm > clip_norm)
                history.lr.append(lr)
                if step in record_at:
                    history.train_loss.append(float(np.mean(losses)))
                    losses = []
                    history.best_epoch = len(history.train_loss)
                    if validation is not None:
                        history.val_loss.append(stream_loss(params, validation))
                        if select_best and history.val_loss[-1] < best_val:
                            best, best_val = params.copy(), history.val_loss[-1]
                            best_eval = len(history.val_loss)
    finally:
        optimizer.lr = base_lr
    if select_best and best is not None:
        for (_, p), (_, b) in zip(params.items(), best.items()):
            p[...] = b
        history.best_epoch = best_eval
    history.seconds = time.perf_counter() - start
    return history
