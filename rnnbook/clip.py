"""Gradient clipping: by global norm (Pascanu et al., 2013) and by value (Mikolov, 2012).

Clipping by norm keeps the direction of the update and caps its length; with a threshold
below the typical gradient norm it fires on every step and becomes normalized gradient
descent, an adaptive step size (Zhang, He, Sra & Jadbabaie, 2020). Clipping by value caps
every entry and can turn the update. See the chapter "Gradient clipping".
"""

from __future__ import annotations

import numpy as np

from . import validate
from .params import Params


def global_norm(grads: Params) -> float:
    """The L2 norm of all gradient entries taken together: sqrt(sum_i ||g_i||^2)."""
    return float(np.sqrt(sum(np.vdot(g, g) for _, g in grads.items())))


def clip_grad_norm(grads: Params, max_norm: float) -> tuple[Params, float]:
    """Rescale the gradients so that their global norm is at most `max_norm`.

    .. math:: g \\leftarrow \\frac{\\text{max\\_norm}}{\\lVert g\\rVert} g
              \\quad \\text{if } \\lVert g\\rVert > \\text{max\\_norm}

    The direction of the update is kept; only its length is capped
    (eq-clip-norm).

    Parameters
    ----------
    grads : Params
        Gradients, e.g. from :func:`rnnbook.backward`.
    max_norm : float
        The threshold, > 0.

    Returns
    -------
    clipped : Params
        New arrays (the input is not modified).
    norm : float
        The global norm before clipping.
    """
    validate.positive("max_norm", max_norm)
    norm = global_norm(grads)
    scale = max_norm / norm if norm > max_norm else 1.0  # (eq-clip-norm)
    return grads.map(lambda g: g * g.dtype.type(scale)), norm


def clip_grad_norm_(grads: Params, max_norm: float) -> float:
    """:func:`clip_grad_norm` in place: rescale `grads` itself, return the norm before.

    The same numbers as :func:`clip_grad_norm`, without new arrays (the training loop's
    gradients are its own scratch buffers, see :func:`rnnbook.fit`).
    """
    validate.positive("max_norm", max_norm)
    norm = global_norm(grads)
    if norm > max_norm:  # (eq-clip-norm)
        for _, g in grads.items():
            g *= g.dtype.type(max_norm / norm)
    return norm


def clip_grad_value(grads: Params, limit: float) -> Params:
    """Clip every gradient entry to [-limit, limit]; this can turn the update.

    .. math:: g_i \\leftarrow \\max(-\\text{limit}, \\min(\\text{limit}, g_i))
              \\quad \\text{for every entry } i

    (eq-clip-value). The global norm of the result is at most
    ``limit * sqrt(P)`` for P entries, so a value limit bounds the step as
    a norm threshold ``limit * sqrt(P)`` would.
    """
    validate.positive("limit", limit)
    return grads.map(lambda g: np.clip(g, -limit, limit))
