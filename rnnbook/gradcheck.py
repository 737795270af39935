"""Checking BPTT against finite differences, for any model.

    dL/dtheta_i ~ (L(theta + eps e_i) - L(theta - eps e_i)) / (2 eps)     (eq-central-difference)

The error of this estimate is (eps^2 / 6) |L'''| from truncation plus about
u |L| / eps from rounding (u ~ 1e-16 is float64's unit round-off), so with
|L'''| of order one eps ~ u^(1/3) ~ 1e-5 is best and the error cannot go below
about u^(2/3) |L| ~ 1e-11 |L|. :func:`gradcheck` uses the fourth-order
five-point stencil

    (-L(+2 eps) + 8 L(+eps) - 8 L(-eps) + L(-2 eps)) / (12 eps)            (eq-five-point)

whose truncation error is (eps^4 / 30) M, with M = |L^(5)| the fifth derivative
along e_i. The best step is eps* = (15 u |L| / (2 M))^(1/5): about 1e-3 if M is
of order one, but M is not always small. On the BPTT chapter's problem M is in
the hundreds for entries of b_h and h_0, and at eps = 1e-3 their relative error
is about 1e-9; the default eps = 3e-4 is near their eps*, and there the largest
relative error over all entries is about 1e-10.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import validate
from .loss import mse_loss
from .params import Params, model_of

#: Finite-difference stencils: offsets (in units of eps) and weights (times 1/eps).
STENCILS = {
    2: ((1, -1), (1 / 2, -1 / 2)),  # (eq-central-difference)
    4: ((2, 1, -1, -2), (-1 / 12, 8 / 12, -8 / 12, 1 / 12)),  # (eq-five-point)
}


def numerical_gradient(
    f: Callable[[], float], a: np.ndarray, eps: float = 1e-5, order: int = 2
) -> np.ndarray:
    """Finite-difference gradient of ``f()`` with respect to the array `a`.

    Parameters
    ----------
    f : callable
        Returns the loss for the current value of `a`.
    a : ndarray
        Perturbed in place, one entry at a time, and restored afterwards.
    eps : float
        The step.
    order : {2, 4}
        Accuracy order: 2 is the central difference, 4 the five-point stencil.

    Returns
    -------
    ndarray, same shape as `a`
    """
    validate.positive("eps", eps)
    if order not in STENCILS:
        expected = sorted(STENCILS)
        raise ValueError(f"order: expected one of {expected}, got {order!r}")
    offsets, weights = STENCILS[order]
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        saved = a[i]
        total = 0.0
        for offset, weight in zip(offsets, weights):
            a[i] = saved + offset * eps
            total += weight * f()
        a[i] = saved
        grad[i] = total / eps
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 0.0) -> float:
    """``max_i |a_i - n_i| / max(|a_i|, |n_i|, floor)``, with 0/0 counted as 0.

    `floor` keeps entries too small for finite differences to resolve (those
    below the round-off level) from dominating the maximum.
    """
    diff = np.abs(analytic - numeric)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    ratio = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    return float(ratio.max()) if ratio.size else 0.0


def gradcheck(
    params: Params,
    x: np.ndarray,
    target: np.ndarray,
    *,
    h0: np.ndarray | None = None,
    loss: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]] = mse_loss,
    eps: float = 3e-4,
    order: int = 4,
) -> dict[str, float]:
    """Compare a model's BPTT with finite differences of its loss.

    Works for any model (see :func:`rnnbook.params.model_of`): the vanilla RNN, the
    gated cells, the baselines' networks.

    Parameters
    ----------
    params : Params
    x : ndarray, shape (B, T, D)
    target : ndarray
        What `loss` compares the outputs with, e.g. shape (B, T, O) for the MSE.
    h0 : ndarray, shape (B, H), optional
        If given, dL/dh_0 is checked too (key ``"h0"``); the model needs a ``bptt``
        function that returns ``(grads, dh0)``, as :func:`rnnbook.bptt` does.
    loss : callable
        ``loss(y, target) -> (value, dL/dy)``; the MSE by default.
    eps, order : float, int
        Finite-difference step and accuracy order (see :func:`numerical_gradient`).
        The default five-point step suits fifth derivatives up to a few hundred
        (see the module docstring); for larger ones choose a smaller step.

    Returns
    -------
    dict of str to float
        The max relative error (see :func:`relative_error`) for every parameter.
        Entries smaller than 1e-4 |L| are measured relative to 1e-4 |L|, a
        pragmatic floor: near zero any absolute error is a large relative one.
    """
    model = model_of(params)
    params = params.copy()  # perturbed in place below
    h0 = None if h0 is None else h0.copy()
    if h0 is not None and not callable(getattr(model, "bptt", None)):
        raise ValueError(f"h0: {model.__name__} has no bptt() returning dL/dh0 to check")
    state = {} if h0 is None else {"h0": h0}
    cache = model.forward(params, x, **state)
    loss0, dy = loss(cache.y, target)
    floor = 1e-4 * loss0
    if h0 is None:
        grads = model.backward(params, cache, dy)
    else:
        grads, dh0 = model.bptt(params, cache, dy)

    def value() -> float:
        return loss(model.forward(params, x, **state).y, target)[0]

    errors = {
        name: relative_error(g, numerical_gradient(value, getattr(params, name), eps, order), floor)
        for name, g in grads.items()
    }
    if h0 is not None:
        errors["h0"] = relative_error(dh0, numerical_gradient(value, h0, eps, order), floor)
    return errors
