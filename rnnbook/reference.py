"""The vanilla RNN written the plain way: one line of code per equation.

This is the code the chapters teach from. It computes exactly what
:func:`rnnbook.forward` and :func:`rnnbook.bptt` compute (the tests check
agreement to rounding error, 1e-12), but with no speed tricks: one Python loop
over time, the arrays indexed by step as in the maths, the backward pass named
as in Karpathy's min-char-rnn (``dh``, ``dh_raw``, ``dh_next``). The fast code
in :mod:`rnnbook.rnn` is the same maths arranged for the machine; the appendix
"Performance" measures the difference.

Vectors are rows here, as everywhere in the package: for a batch of B
sequences, the column-vector product W h of the equations is ``h @ W.T``, and
W^T v is ``v @ W``.
"""

from __future__ import annotations

import numpy as np

from . import validate
from .rnn import RNNParams, check_params


def forward(
    params: RNNParams, x: np.ndarray, h0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The forward pass, step by step (eq-preactivation, eq-output).

    Parameters
    ----------
    params : RNNParams
        W_xh (H, D), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,).
    x : ndarray, shape (B, T, D)
        ``x[:, t - 1]`` is the input x_t of step t = 1..T.
    h0 : ndarray, shape (B, H), optional
        The initial state h_0; zeros by default.

    Returns
    -------
    h : ndarray, shape (B, T + 1, H)
        ``h[:, t]`` is the hidden state h_t, t = 0..T (``h[:, 0]`` is h_0).
    y : ndarray, shape (B, T, O)
        ``y[:, t - 1]`` is the output y_t.
    """
    check_params(params)
    W_xh, W_hh, b_h = params.W_xh, params.W_hh, params.b_h
    W_hy, b_y = params.W_hy, params.b_y
    H, D = W_xh.shape
    x = validate.float_array("x", x, (None, None, D), dtype=params.dtype)
    B, T, _ = x.shape
    h = np.zeros((B, T + 1, H), dtype=params.dtype)
    if h0 is not None:
        h[:, 0] = validate.float_array("h0", h0, (B, H), dtype=params.dtype)
    y = np.zeros((B, T, W_hy.shape[0]), dtype=params.dtype)
    for t in range(1, T + 1):
        x_t = x[:, t - 1]
        a_t = h[:, t - 1] @ W_hh.T + x_t @ W_xh.T + b_h  # (eq-preactivation)
        h[:, t] = np.tanh(a_t)  # (eq-hidden-state)
        y[:, t - 1] = h[:, t] @ W_hy.T + b_y  # (eq-output)
    return h, y


def bptt(
    params: RNNParams,
    x: np.ndarray,
    h: np.ndarray,
    dy: np.ndarray,
    dh_T: np.ndarray | None = None,
) -> tuple[RNNParams, np.ndarray]:
    """Backpropagation through time, step by step, from t = T down to 1.

    Parameters
    ----------
    params : RNNParams
        The parameters the forward pass used.
    x : ndarray, shape (B, T, D)
        The inputs of the forward pass.
    h : ndarray, shape (B, T + 1, H)
        The states h_0..h_T that :func:`forward` returned.
    dy : ndarray, shape (B, T, O)
        ``dy[:, t - 1]`` is dL/dy_t (eq-dL-dy), e.g. from
        :func:`rnnbook.mse_loss`.
    dh_T : ndarray, shape (B, H), optional
        dL/dh_T arriving from a later chunk of a longer sequence; zeros
        by default.

    Returns
    -------
    grads : RNNParams
        dL/dW_xh, dL/dW_hh, dL/db_h, dL/dW_hy, dL/db_y (eq-param-grads).
    dh0 : ndarray, shape (B, H)
        dL/dh_0.
    """
    check_params(params)
    W_hh, W_hy, dtype = params.W_hh, params.W_hy, params.dtype
    D, H, O = params.input_size, params.hidden_size, params.output_size
    x = validate.float_array("x", x, (None, None, D), dtype=dtype)
    B, T, _ = x.shape
    h = validate.float_array("h", h, (B, T + 1, H), dtype=dtype)
    dy = validate.float_array("dy", dy, (B, T, O), dtype=dtype)
    grads = params.zeros_like()
    dh_next = np.zeros((B, H), dtype=dtype)  # h_T feeds no h_{T+1} ...
    if dh_T is not None:  # ... unless a later chunk continues from h_T
        dh_next = validate.float_array("dh_T", dh_T, (B, H), dtype=dtype)
    for t in range(T, 0, -1):
        dy_t = dy[:, t - 1]
        dh = dy_t @ W_hy + dh_next  # total dL/dh_t (eq-bptt-recurrence)
        dh_raw = (1 - h[:, t] ** 2) * dh  # dL/da_t (eq-tanh-derivative)
        grads.W_xh += dh_raw.T @ x[:, t - 1]  # (eq-param-grads) ...
        grads.W_hh += dh_raw.T @ h[:, t - 1]
        grads.b_h += dh_raw.sum(axis=0)
        grads.W_hy += dy_t.T @ h[:, t]
        grads.b_y += dy_t.sum(axis=0)
        dh_next = dh_raw @ W_hh  # h_{t-1}'s share via h_t (eq-jacobian)
    return grads, dh_next
