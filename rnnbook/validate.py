"""Input checks shared by every module.

Every public function of :mod:`rnnbook` checks what it is given and raises a
:class:`ValueError` that names the argument, says what it got and what it
expected. Catching a wrong shape at the door is far kinder than a broadcasting
error three functions deep, or a silently wrong gradient.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"


def float_array(
    name: str,
    value: object,
    shape: Sequence[int | None],
    *,
    dtype: np.dtype | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Check that `value` is a finite float32/float64 array of the given shape.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : array_like
        What the caller passed.
    shape : sequence of int or None
        The expected shape; ``None`` matches any length along that axis.
    dtype : numpy.dtype, optional
        If given, the array must have exactly this dtype.
    finite : bool
        Whether to reject NaN and inf entries (default True).

    Returns
    -------
    numpy.ndarray
        `value` itself, unchanged.

    Raises
    ------
    ValueError
        On a wrong rank, shape or dtype, or a NaN/inf entry.
    """
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name}: expected a numpy array, got {_describe(value)}")
    expected = "(" + ", ".join("?" if s is None else str(s) for s in shape)
    expected += ",)" if len(shape) == 1 else ")"
    if value.ndim != len(shape):
        raise ValueError(
            f"{name}: expected a {len(shape)}-d array of shape {expected}, "
            f"got shape {value.shape} ({value.ndim}-d)"
        )
    if any(s is not None and s != got for s, got in zip(shape, value.shape)):
        raise ValueError(f"{name}: expected shape {expected}, got shape {value.shape}")
    if value.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name}: expected dtype float32 or float64, got {value.dtype}")
    if dtype is not None and value.dtype != dtype:
        raise ValueError(
            f"{name}: expected dtype {np.dtype(dtype)} (the parameters' dtype), "
            f"got {value.dtype}; convert one of them with .astype()"
        )
    if finite and not np.isfinite(value).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return value


def positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    """Check that `value` is a finite real number > 0 (or >= 0)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok and np.isfinite(value) and (value > 0 or (allow_zero and value == 0)):
        return value  # type: ignore[return-value]
    bound = ">= 0" if allow_zero else "> 0"
    raise ValueError(f"{name}: expected a finite number {bound}, got {value!r}")


def size(name: str, value: object, *, minimum: int = 1) -> int:
    """Check that `value` is an integer >= `minimum` (a size or a count)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value >= minimum:
            return int(value)
    raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def generator(name: str, value: object) -> np.random.Generator:
    """Check that `value` is a seeded :class:`numpy.random.Generator`.

    All randomness in rnnbook is passed in explicitly, so two runs with the
    same seed give identical results bit for bit.
    """
    if isinstance(value, np.random.Generator):
        return value
    raise ValueError(
        f"{name}: expected a numpy.random.Generator such as "
        f"np.random.default_rng(0), got {_describe(value)}"
    )
