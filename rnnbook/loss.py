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
