"""The mean-squared-error loss and its gradient."""

from __future__ import annotations

import numpy as np

from . import validate


def mse_loss(y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements, and its gradient.

    .. math:: L = \\frac{1}{N} \\sum_{b,t,o} (y_{bto} - \\hat y_{bto})^2,
              \\qquad N = B T O                                     (eq-mse)

    Parameters
    ----------
    y : ndarray, shape (B, T, O)
        Predictions, e.g. ``forward(...).y``.
    target : ndarray, shape (B, T, O)
        What the predictions should be; same dtype as `y`.

    Returns
    -------
    loss : float
        The mean of the squared errors.
    dy : ndarray, shape (B, T, O)
        dL/dy = 2 (y - target) / N, same dtype as `y`.
    """
    y = validate.float_array("y", y, (None, None, None))
    target = validate.float_array("target", target, y.shape, dtype=y.dtype)
    error = y - target
    loss = float(np.mean(error**2))  # (eq-mse)
    dy = error * (2.0 / error.size)  # dL/dy
    return loss, dy.astype(y.dtype, copy=False)
