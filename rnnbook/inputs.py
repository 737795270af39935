"""The input term W_xh x_t of every cell, for real-valued or integer (one-hot) inputs.

A character-level model reads characters as one-hot vectors: x_t = e_i, the i-th unit
vector of R^V for the character with id i. Then W_xh x_t is simply column i of W_xh,

    W_xh e_i = W_xh[:, i]                                           (eq-one-hot-lookup)

so the model never needs the one-hot array: it looks the column up. In the backward
pass, the gradient sum_t dz_t x_t^T of W_xh puts dz_t into column i_t and nothing
elsewhere, a *scatter-add* of the dz_t into the columns of the ids that were read.
Every cell (:mod:`rnnbook.rnn`, :mod:`rnnbook.gru`, :mod:`rnnbook.lstm`) calls these
two functions, so integer inputs work for all of them.
"""

from __future__ import annotations

import numpy as np

from . import validate


def is_ids(x: object) -> bool:
    """Whether `x` is an integer array of ids (one-hot inputs) rather than real inputs."""
    return isinstance(x, np.ndarray) and x.dtype.kind in "iu"


def check_inputs(x: object, D: int, dtype: np.dtype) -> np.ndarray:
    """Validate inputs for a cell with input size D: float (B, T, D), or ids (B, T) in [0, D)."""
    if is_ids(x) and x.ndim == 2:  # other integer arrays: the float check names the dtype
        if x.size and (x.min() < 0 or x.max() >= D):
            raise ValueError(
                f"x: expected ids in [0, {D}) (the input size), got {x.min()}..{x.max()}"
            )
        return x
    return validate.float_array("x", x, (None, None, D), dtype=dtype)


def input_term(
    x: np.ndarray,
    W_xh: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """W_xh x_t for every (b, t): ``x @ W_xh.T``, or the looked-up columns
    for ids.

    Parameters
    ----------
    x : ndarray, shape (..., D) float, or (...) integer ids
    W_xh : ndarray, shape (R, D)
        R rows: H for the vanilla RNN, 3H for the GRU, 4H for the LSTM.
    out : ndarray, shape (..., R), optional

    Returns
    -------
    ndarray, shape (..., R)
    """
    if is_ids(x):
        return np.take(W_xh.T, x, axis=0, out=out)  # (eq-one-hot-lookup)
    # an outer product: broadcasting beats matmul's slow path
    if x.shape[-1] == 1:
        return np.multiply(x, W_xh[:, 0], out=out)
    return np.matmul(x, W_xh.T, out=out)


def input_gradient(dz: np.ndarray, x: np.ndarray, D: int) -> np.ndarray:
    """sum over (b, t) of dz_bt x_bt^T, shape (R, D): the gradient of W_xh.

    Parameters
    ----------
    dz : ndarray, shape (N, R)
        The gradient at the pre-activations, rows flattened over (b, t).
    x : ndarray, shape (N, D) float, or (N,) integer ids
    D : int
        The input size (the number of ids V for integer inputs).
    """
    if is_ids(x):  # scatter-add: column x_bt of the gradient receives dz_bt
        order = np.argsort(x, kind="stable")  # rows of equal ids side by side
        ids = x[order]
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        grad = np.zeros((D, dz.shape[1]), dtype=dz.dtype)
        # one sum per id
        grad[ids[starts]] = np.add.reduceat(dz[order], starts, axis=0)
        return grad.T
    return dz.T @ x


def gate_input_gradient(blocks: list[np.ndarray], ids: np.ndarray, D: int) -> np.ndarray:
    """The gradient of stacked gate input weights for integer inputs, shape (K H, D).

    Parameters
    ----------
    blocks : list of K ndarrays, each shape (T, B, H)
        The pre-activation gradients da_t of the K gates, time-major.
    ids : ndarray, shape (T, B), integer
        The ids read at each step, time-major.
    D : int
        The input size (V).
    """
    T, B, H = blocks[0].shape
    dz = np.stack(blocks, axis=2).reshape(T * B, len(blocks) * H)  # rows (t, b)
    return input_gradient(dz, ids.reshape(T * B), D)
