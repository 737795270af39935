"""What every model's parameters share: a dataclass of named float arrays.

The vanilla RNN (:class:`rnnbook.RNNParams`), the gated cells and the baselines'
networks each keep their parameters in a dataclass of NumPy arrays that derives
from :class:`Params`. Everything that works on parameters without knowing the
model (the optimizers, gradient clipping, finite-difference checks and the
training loop) only uses what this class provides: the fields by name, a
function applied to every field, and the module that holds the model's
``forward`` and ``backward`` (:func:`model_of`). A new kind of network adds one
module and works with all of them unchanged.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TypeVar

import numpy as np

P = TypeVar("P", bound="Params")


class Params:
    """Mixin for a ``@dataclass`` whose fields are all float arrays of one dtype.

    Gradients are stored in the same class, so a gradient has the same field
    names and shapes as the parameter it belongs to.
    """

    def items(self) -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(name, array)`` for every field, in declaration order."""
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            yield field.name, getattr(self, field.name)

    def map(self: P, fn: Callable[[np.ndarray], np.ndarray]) -> P:
        """A new instance with ``fn(array)`` applied to every field."""
        return type(self)(**{name: fn(a) for name, a in self.items()})

    def copy(self: P) -> P:
        """A deep copy (new arrays)."""
        return self.map(np.copy)

    def zeros_like(self: P) -> P:
        """Arrays of zeros with the same shapes and dtype."""
        return self.map(np.zeros_like)

    def astype(self: P, dtype: np.dtype | type) -> P:
        """A copy converted to `dtype` (float32 or float64)."""
        return self.map(lambda a: a.astype(dtype))

    def num_parameters(self) -> int:
        """Total number of scalars in all fields."""
        return sum(a.size for _, a in self.items())

    @property
    def dtype(self) -> np.dtype:
        """The common floating-point dtype of the arrays."""
        return next(self.items())[1].dtype


def model_of(params: Params) -> ModuleType:
    """The module that defines ``type(params)``: it holds the model's ``forward``/``backward``.

    A model is a module with a :class:`Params` dataclass and two functions,
    ``forward(params, x, h0=None)`` returning a cache with ``.y`` of shape (B, T, O), and
    ``backward(params, cache, dy)`` returning the gradients as the same dataclass.
    :func:`rnnbook.fit` and :func:`rnnbook.gradcheck` find them here, so they need no
    list of models.
    """
    if not isinstance(params, Params):
        raise ValueError(
            f"params: expected rnnbook parameters (a Params dataclass such as "
            f"rnnbook.RNNParams), got {type(params).__name__}"
        )
    module = sys.modules[type(params).__module__]
    for name in ("forward", "backward"):
        if not callable(getattr(module, name, None)):
            raise ValueError(
                f"params: the module {module.__name__} that defines "
                f"{type(params).__name__} has no function {name}()"
            )
    return module
