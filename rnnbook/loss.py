"""Losses and their gradients: the mean squared error, of every step or of the last one.

Notation as in the book: y_t is the network's output (its prediction) and y*_t the
target, ``target`` in code.
"""

from __future__ import annotations

import numpy as np

from . import validate


def mse_loss(y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements, and its gradient.

    .. math:: L = \\frac{1}{N} \\sum_{b,t,o} (y_{bto} - y^\\star_{bto})^2,
              \\qquad N = B T O                                     (eq-mse)

    Parameters
    ----------
    y : ndarray, shape (B, T, O)
        Predictions, e.g. ``forward(...).y``.
    target : ndarray, shape (B, T, O)
        The targets y*: what the predictions should be; same dtype as `y`.

    Returns
    -------
    loss : float
        The mean of the squared errors.
    dy : ndarray, shape (B, T, O)
        dL/dy = 2 (y - y*) / N (eq-dL-dy), same dtype as `y`.
    """
    y = validate.float_array("y", y, (None, None, None))
    target = validate.float_array("target", target, y.shape, dtype=y.dtype)
    error = y - target
    loss = float(np.mean(error**2))  # (eq-mse)
    dy = error * (2.0 / error.size)  # dL/dy
    return loss, dy.astype(y.dtype, copy=False)


def recall_loss(y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error of the last output only, and its gradient for every step.

    Parameters
    ----------
    y : ndarray, shape (B, T, O)
        The network's outputs; only ``y[:, -1]`` is scored.
    target : ndarray, shape (B, O)
        The target y*_T: what the last output should be.

    Returns
    -------
    loss : float
        The mean over b, o of (y_T - y*_T)^2, ``y[:, -1]`` against `target`.
    dy : ndarray, shape (B, T, O)
        dloss/dy: zero except at the last step, where it is 2 (y_T - y*_T) / (B O).
    """
    y = validate.float_array("y", y, (None, None, None))
    target = validate.float_array("target", target, (y.shape[0], y.shape[2]), dtype=y.dtype)
    loss, dy_T = mse_loss(y[:, -1:], target[:, None])  # the MSE of the last step alone
    dy = np.zeros_like(y)
    dy[:, -1:] = dy_T
    return loss, dy


def cross_entropy_loss(
    logits: np.ndarray,
    targets: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy of integer targets, in nats, and its gradient.

    The loss (eq-cross-entropy),

    .. math:: p_{bt} = \\operatorname{softmax}(y_{bt}), \\qquad
              L = -\\frac{1}{BT} \\sum_{b,t} \\log p_{bt}[y^*_{bt}]

    computed stably with log-sum-exp (the largest logit is subtracted first).
    The gradient is the famous one line of min-char-rnn:
    dL/dy_bt = (p_bt - onehot(y*_bt)) / (BT).

    Parameters
    ----------
    logits : ndarray, shape (B, T, V)
        Unnormalised scores y_t over V classes (e.g. ``forward(...).y`` with
        O = V).
    targets : ndarray, shape (B, T), integer
        The class index y*_t in [0, V) of every step.

    Returns
    -------
    loss : float
        The mean over B T of -log p_t[y*_t], in nats (divide by ln 2 for bits).
    dlogits : ndarray, shape (B, T, V)
        dL/dlogits, same dtype as `logits`.
    """
    logits = validate.float_array("logits", logits, (None, None, None))
    B, T, V = logits.shape
    if not isinstance(targets, np.ndarray) or targets.dtype.kind not in "iu":
        raise ValueError(
            "targets: expected an integer array of class indices, got "
            + (
                f"dtype {targets.dtype}"
                if isinstance(targets, np.ndarray)
                else type(targets).__name__
            )
        )
    if targets.shape != (B, T):
        raise ValueError(
            f"targets: expected shape ({B}, {T}), got shape {targets.shape}",
        )
    if targets.size and (targets.min() < 0 or targets.max() >= V):
        got = f"{targets.min()}..{targets.max()}"
        raise ValueError(
            f"targets: expected class indices in [0, {V}), got {got}",
        )
    # log-sum-exp: no overflow
    shifted = logits - logits.max(axis=2, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=2, keepdims=True)
    b, t = np.indices((B, T))
    log_p = shifted[b, t, targets] - np.log(total[:, :, 0])  # log p_t[y*_t]
    loss = -float(np.mean(log_p))  # (eq-cross-entropy)
    dlogits = exp / total  # p_t
    dlogits[b, t, targets] -= 1.0  # p_t - onehot(y*_t)
    dlogits /= B * T
    return loss, dlogits.astype(logits.dtype, copy=False)
