"""Optimizers: stochastic gradient descent with momentum, and Adam.

Both are plain classes whose ``step`` method updates an :class:`RNNParams` in place.
"""

from __future__ import annotations

import numpy as np

from . import validate
from .rnn import RNNParams


class SGD:
    """Gradient descent with optional (heavy-ball) momentum.

    v <- momentum * v + g;  theta <- theta - lr * v          (eq-sgd-momentum)

    Parameters
    ----------
    lr : float
        Learning rate, > 0.
    momentum : float
        In [0, 1); 0 is plain gradient descent.
    """

    def __init__(self, lr: float, momentum: float = 0.0) -> None:
        self.lr = validate.positive("lr", lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
        self.momentum = momentum
        self.velocity: RNNParams | None = None

    def step(self, params: RNNParams, grads: RNNParams) -> None:
        """Update `params` in place with one step along -`grads`."""
        if self.momentum == 0.0:
            for (_, p), (_, g) in zip(params.items(), grads.items()):
                p -= self.lr * g
            return
        if self.velocity is None:
            self.velocity = params.zeros_like()
        for (_, p), (_, g), (_, v) in zip(params.items(), grads.items(), self.velocity.items()):
            v *= self.momentum  # (eq-sgd-momentum)
            v += g
            p -= self.lr * v


class Adam:
    """Adam (Kingma & Ba, 2015): per-parameter steps scaled by running moments.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
    theta <- theta - lr * m_hat / (sqrt(v_hat) + eps),
    m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)           (eq-adam)
    """

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        self.lr = validate.positive("lr", lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: expected a number in [0, 1), got {beta!r}")
        self.beta1, self.beta2 = beta1, beta2
        self.eps = validate.positive("eps", eps)
        self.m: RNNParams | None = None
        self.v: RNNParams | None = None
        self.t = 0

    def step(self, params: RNNParams, grads: RNNParams) -> None:
        """Update `params` in place with one Adam step."""
        if self.m is None or self.v is None:
            self.m, self.v = params.zeros_like(), params.zeros_like()
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        for (_, p), (_, g), (_, m), (_, v) in zip(
            params.items(), grads.items(), self.m.items(), self.v.items()
        ):
            m *= b1
            m += (1 - b1) * g  # first moment
            v *= b2
            v += (1 - b2) * g * g  # second moment
            m_hat = m / (1 - b1**self.t)  # bias corrections
            v_hat = v / (1 - b2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)  # (eq-adam)
