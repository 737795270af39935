"""Optimizers (SGD with momentum, Adam) and learning-rate schedules (warm-up, cosine).

Both are plain classes whose ``step`` method updates parameters in place: any
:class:`rnnbook.params.Params` dataclass (the vanilla RNN, a gated cell, a baseline network).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from .params import Params


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
        self.velocity: Params | None = None

    def step(self, params: Params, grads: Params) -> None:
        """Update `params` in place with one step along -`grads`."""
        if self.momentum == 0.0:
            for (_, p), (_, g) in zip(params.items(), grads.items()):
                p -= self.lr * g
            return
        if self.velocity is None:
            self.velocity = params.zeros_like()
        for (_, p), (_, g), (_, v) in zip(
            params.items(),
            grads.items(),
            self.velocity.items(),
        ):
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
        self.m: Params | None = None
        self.v: Params | None = None
        self.t = 0
        self._flat: tuple[_Flat, _Flat, _Flat] | None = None

    def step(self, params: Params, grads: Params) -> None:
        """Update `params` in place with one Adam step."""
        # all fields at once, each as one vector
        g, m, v = self._vectors(grads)
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        m *= b1
        m += (1 - b1) * g  # first moment
        v *= b2
        v += (1 - b2) * g * g  # second moment
        m_hat = m / (1 - b1**self.t)  # bias corrections
        v_hat = v / (1 - b2**self.t)
        step = self.lr * m_hat / (np.sqrt(v_hat) + self.eps)  # (eq-adam)
        for (_, p), s in zip(params.items(), self._flat[0].split(step)):
            p -= s

    def _vectors(self, grads: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The gradient and the moments m, v as vectors (``self.m``, ``self.v`` view them).

        Speed only: each line of the update is then one NumPy call for all fields.
        """
        if self.m is None or self.v is None:
            self.m, self.v = grads.zeros_like(), grads.zeros_like()
        flat = self._flat
        if flat is None or flat[1].fields is not self.m or flat[2].fields is not self.v:
            flat = self._flat = (_Flat(grads), _Flat(self.m), _Flat(self.v))
            self.m, self.v = flat[1].fields, flat[2].fields
        flat[0].gather(grads)
        return flat[0].vector, flat[1].vector, flat[2].vector


class _Flat:
    """The fields of a parameter dataclass as views into one vector (a speed device).

    ``fields`` is a dataclass like `like` whose arrays are the pieces of ``vector``, so
    an update of the vector updates every field in one NumPy call.
    """

    def __init__(self, like: Params) -> None:
        arrays = [a for _, a in like.items()]
        self.vector = np.empty(sum(a.size for a in arrays), dtype=like.dtype)
        self._bounds = np.cumsum([0] + [a.size for a in arrays]).tolist()
        self._shapes = [a.shape for a in arrays]
        self._views = self.split(self.vector)
        self.fields = type(like)(**{name: v for (name, _), v in zip(like.items(), self._views)})
        self.gather(like)

    def split(self, vector: np.ndarray) -> list[np.ndarray]:
        """`vector` (same length) cut into views shaped like the fields."""
        b = self._bounds
        return [vector[b[i] : b[i + 1]].reshape(s) for i, s in enumerate(self._shapes)]

    def gather(self, params: Params) -> None:
        """Copy the fields of `params` (same shapes) into the vector."""
        for view, (_, a) in zip(self._views, params.items()):
            view[...] = a


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: the factor that multiplies the base rate at each step.

    Step s = 1..n of a run of n steps gets the rate ``lr * schedule(s, n)``::

        linear warm-up:  s / w                                   for s <= w      (eq-warmup)
        then constant:   1,  or cosine decay to `final`:
                         final + (1 - final) (1 + cos(pi (s - w) / (n - w))) / 2   (eq-cosine)

    Attributes
    ----------
    warmup : int
        w, the number of warm-up steps (0 for none).
    decay : {"constant", "cosine"}
        What follows the warm-up.
    final : float
        The factor the cosine decay ends at, in [0, 1].
    """

    warmup: int = 0
    decay: str = "constant"
    final: float = 0.0

    def __post_init__(self) -> None:
        validate.size("warmup", self.warmup, minimum=0)
        if self.decay not in ("constant", "cosine"):
            raise ValueError(f"decay: expected 'constant' or 'cosine', got {self.decay!r}")
        if not 0.0 <= self.final <= 1.0:
            raise ValueError(f"final: expected a number in [0, 1], got {self.final!r}")

    def __call__(self, step: int, total: int) -> float:
        """The factor for step `step` (1-based) of `total` steps."""
        if step <= self.warmup:
            return step / self.warmup  # (eq-warmup)
        if self.decay == "constant" or total <= self.warmup:
            return 1.0
        progress = (step - self.warmup) / (total - self.warmup)  # in (0, 1]
        return self.final + (1.0 - self.final) * 0.5 * (
            1.0 + np.cos(np.pi * progress)
        )  # (eq-cosine)


def cosine_decay(warmup: int = 0, final: float = 0.0) -> Schedule:
    """Cosine decay from the base rate to ``final`` times it, after `warmup` warm-up steps."""
    return Schedule(warmup=warmup, decay="cosine", final=final)


def linear_warmup(steps: int) -> Schedule:
    """A linear warm-up over `steps` steps, then the constant base rate."""
    return Schedule(warmup=validate.size("steps", steps))
