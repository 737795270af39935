"""The vanilla RNN: parameters, forward pass and backpropagation through time.

The model, in column-vector notation (the book's equations):

    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)      (eq-hidden-state)
    y_t = W_hy h_t + b_y                            (eq-output)

The code works on batches stored row by row, so a matrix-vector product
``W @ h`` in the prose becomes ``h @ W.T`` here. Internally all time series are
kept *time-major*, shape (T, B, .), so that the slice for one time step is a
contiguous block of memory; the public results are batch-first views.

The whole book runs on this code, so it is written for speed without giving up
readability: large arrays are allocated once and filled in place (``out=``),
matrix products use contiguous operands, and two NumPy slow paths on tiny
dimensions are avoided (``_matmul``, ``_sum_rows``). The appendix
"Performance" measures each of these choices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from .params import Params


@dataclass
class RNNParams(Params):
    """The five parameter arrays of a vanilla RNN (or their gradients).

    Attributes
    ----------
    W_xh : ndarray, shape (H, D)
        Input-to-hidden weights.
    W_hh : ndarray, shape (H, H)
        Hidden-to-hidden (recurrent) weights.
    b_h : ndarray, shape (H,)
        Hidden bias.
    W_hy : ndarray, shape (O, H)
        Hidden-to-output weights.
    b_y : ndarray, shape (O,)
        Output bias.

    Derived from :class:`rnnbook.params.Params`: ``items()``, ``map()``, ``copy()``,
    ``zeros_like()``, ``astype()``, ``num_parameters()`` and ``dtype`` come from there.
    """

    W_xh: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray
    W_hy: np.ndarray
    b_y: np.ndarray

    def __post_init__(self) -> None:
        # Shapes must agree with each other; values are checked by forward().
        W_xh = validate.float_array("W_xh", self.W_xh, (None, None), finite=False)
        H, dtype = W_xh.shape[0], W_xh.dtype
        W_hy = validate.float_array("W_hy", self.W_hy, (None, H), dtype=dtype, finite=False)
        O = W_hy.shape[0]
        for name, shape in {"W_hh": (H, H), "b_h": (H,), "b_y": (O,)}.items():
            validate.float_array(name, getattr(self, name), shape, dtype=dtype, finite=False)

    @property
    def input_size(self) -> int:
        """D, the size of each input vector x_t."""
        return self.W_xh.shape[1]

    @property
    def hidden_size(self) -> int:
        """H, the size of the hidden state h_t."""
        return self.W_hh.shape[0]

    @property
    def output_size(self) -> int:
        """O, the size of each output vector y_t."""
        return self.W_hy.shape[0]


@dataclass(frozen=True)
class ForwardCache:
    """What the forward pass keeps for the backward pass.

    Attributes
    ----------
    xs : ndarray, shape (T, B, D)
        The inputs, time-major.
    hs : ndarray, shape (T + 1, B, H)
        ``hs[0]`` is h_0 and ``hs[t]`` the hidden state after step t, time-major.
    ys : ndarray, shape (T, B, O)
        The outputs, time-major.
    """

    xs: np.ndarray
    hs: np.ndarray
    ys: np.ndarray

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, batch-first view of shape (B, T, H)."""
        return self.hs[1:].transpose(1, 0, 2)

    @property
    def y(self) -> np.ndarray:
        """Outputs y_1..y_T, batch-first view of shape (B, T, O)."""
        return self.ys.transpose(1, 0, 2)

    @property
    def h0(self) -> np.ndarray:
        """The initial hidden state, shape (B, H)."""
        return self.hs[0]


def check_params(params: RNNParams) -> RNNParams:
    """Check that `params` is an RNNParams with finite entries."""
    if not isinstance(params, RNNParams):
        raise ValueError(f"params: expected rnnbook.RNNParams, got {type(params).__name__}")
    for name, a in params.items():
        if not np.isfinite(a).all():
            raise ValueError(f"params.{name}: expected finite values, got NaN or inf")
    return params


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b``, as a broadcast product when the inner dimension is 1.

    With one input or one output (D = 1 or O = 1) the products ``x @ W_xh.T`` and
    ``dy @ W_hy`` are outer products; NumPy's matmul takes a slow path for them,
    while ``a * b`` with ``a`` of shape (..., 1) and ``b`` of shape (1, n) gives
    the same numbers up to twice as fast.
    """
    if a.shape[-1] == 1:
        return np.multiply(a, b, out=out)
    return np.matmul(a, b, out=out)


def _sum_rows(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=0)`` for a 2-d array (N, n), as the product ``ones(N) @ a``.

    NumPy sums a tall array with few columns row by row; the matrix-vector
    product is the same sum, done by BLAS several times faster.
    """
    return np.ones(a.shape[0], dtype=a.dtype) @ a


def forward(params: RNNParams, x: np.ndarray, h0: np.ndarray | None = None) -> ForwardCache:
    """Run the RNN over a batch of sequences.

    Parameters
    ----------
    params : RNNParams
        Weights of sizes D (input), H (hidden), O (output).
    x : ndarray, shape (B, T, D)
        A batch of B input sequences of length T; same dtype as `params`.
    h0 : ndarray, shape (B, H), optional
        Initial hidden state; zeros by default.

    Returns
    -------
    ForwardCache
        ``cache.h`` (B, T, H) and ``cache.y`` (B, T, O), plus what backward needs.
    """
    check_params(params)
    D, H = params.input_size, params.hidden_size
    x = validate.float_array("x", x, (None, None, D), dtype=params.dtype)
    B, T, _ = x.shape
    xs = np.ascontiguousarray(x.transpose(1, 0, 2))  # time-major (T, B, D)
    hs = np.empty((T + 1, B, H), dtype=params.dtype)
    if h0 is None:
        hs[0] = 0.0
    else:
        hs[0] = validate.float_array("h0", h0, (B, H), dtype=params.dtype)

    W_hh_T = np.ascontiguousarray(params.W_hh.T)  # a copy: products with a view are slower
    _matmul(xs, params.W_xh.T, out=hs[1:])  # W_xh x_t for every t at once
    hs[1:] += params.b_h  #                    ... + b_h
    recurrent = np.empty((B, H), dtype=params.dtype)
    for t in range(1, T + 1):
        np.matmul(hs[t - 1], W_hh_T, out=recurrent)  # W_hh h_{t-1}
        hs[t] += recurrent
        np.tanh(hs[t], out=hs[t])  # (eq-hidden-state)
    ys = _matmul(hs[1:], params.W_hy.T)  # (eq-output)
    ys += params.b_y
    return ForwardCache(xs=xs, hs=hs, ys=ys)


def bptt(
    params: RNNParams,
    cache: ForwardCache,
    dy: np.ndarray,
    dh_T: np.ndarray | None = None,
    *,
    truncate: int | None = None,
) -> tuple[RNNParams, np.ndarray]:
    """Backpropagation through time: gradients of the loss for all parameters and h_0.

    Parameters
    ----------
    params : RNNParams
        The parameters the forward pass used.
    cache : ForwardCache
        What :func:`forward` returned.
    dy : ndarray, shape (B, T, O)
        dL/dy_t for every step, e.g. from :func:`rnnbook.mse_loss`.
    dh_T : ndarray, shape (B, H), optional
        dL/dh_T arriving from outside this sequence: the loss terms of a later chunk
        of a longer sequence that this chunk's last state h_T fed (that chunk's
        ``dh0``). Zeros by default. It joins the gradient that reaches h_T from
        y_T, so backpropagating chunk 2, then chunk 1 with ``dh_T`` = chunk 2's
        ``dh0``, gives exactly the gradient of the whole sequence.
    truncate : int, optional
        If given, the gradient of each loss term L_t flows back through at most
        `truncate` time steps (t, t-1, ..., t-truncate+1); older contributions
        are dropped (`dh_T` is truncated with L_T's term). ``None`` (or any value
        >= T) is full BPTT.

    Returns
    -------
    grads : RNNParams
        dL/dW_xh, dL/dW_hh, dL/db_h, dL/dW_hy, dL/db_y, same shapes as `params`.
    dh0 : ndarray, shape (B, H)
        dL/dh_0: the gradient for a trainable initial state, for a finite-difference
        check, or the `dh_T` of the previous chunk of a long sequence.
    """
    check_params(params)
    T, B, _ = cache.xs.shape
    H, O = params.hidden_size, params.output_size
    dy = validate.float_array("dy", dy, (B, T, O), dtype=params.dtype)
    dys = np.ascontiguousarray(dy.transpose(1, 0, 2))  # time-major (T, B, O)

    dh_out = _matmul(dys, params.W_hy)  # dL_t/dh_t through y_t only   (eq-dL-dh-direct)
    if dh_T is not None:  # gradient from a later chunk, through h_T
        dh_out[-1] += validate.float_array("dh_T", dh_T, (B, H), dtype=params.dtype)
    h = cache.hs[1:]  # h_1 .. h_T, for the tanh derivatives 1 - h_t^2
    if truncate is None or truncate >= T:
        dz, dh0 = _backward_full(params.W_hh, dh_out, h)
    else:
        validate.size("truncate", truncate)
        dz, dh0 = _backward_truncated(params.W_hh, dh_out, h, truncate)

    # Sum the per-step contributions over time and batch: (eq-param-grads).
    dz2, dy2 = dz.reshape(T * B, H), dys.reshape(T * B, O)
    grads = RNNParams(
        W_xh=dz2.T @ cache.xs.reshape(T * B, -1),  # sum_t dz_t x_t^T
        W_hh=dz2.T @ cache.hs[:-1].reshape(T * B, H),  # sum_t dz_t h_{t-1}^T
        b_h=_sum_rows(dz2),  # sum_t dz_t
        W_hy=dy2.T @ cache.hs[1:].reshape(T * B, H),  # sum_t dy_t h_t^T
        b_y=_sum_rows(dy2),  # sum_t dy_t
    )
    return grads, dh0


def _tanh_derivative(h: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 - h**2: the derivative of tanh where its value is h, written into `out`."""
    out = np.multiply(h, h, out=out)
    return np.subtract(1.0, out, out=out)


def _backward_full(
    W_hh: np.ndarray, dh_out: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The backward recurrence over all T steps.

    `dh_out` (T, B, H) holds dL_t/dh_t through y_t only and `h` (T, B, H) the
    hidden states h_1 .. h_T. Returns dz (T, B, H), dz_t = dL/da_t for the
    pre-activation a_t, and dL/dh_0. `dh_out` is overwritten with dz to save memory.
    """
    T, B, H = dh_out.shape
    dz = dh_out
    dh_next = np.zeros((B, H), dtype=dh_out.dtype)  # dL/dh_T from later steps: none
    dtanh = np.empty((B, H), dtype=dh_out.dtype)  # 1 - h_t^2, one step at a time
    for t in reversed(range(T)):
        dz[t] += dh_next  # total dL/dh_t = direct + through h_{t+1}  (eq-bptt-recurrence)
        dz[t] *= _tanh_derivative(h[t], out=dtanh)  # dL/da_t      (eq-tanh-derivative)
        # the contribution J_t^T dL/dh_t = W_hh^T dz_t that h_{t-1} receives through h_t
        np.matmul(dz[t], W_hh, out=dh_next)  # (eq-jacobian)
    return dz, dh_next


def _backward_truncated(
    W_hh: np.ndarray, dh_out: np.ndarray, h: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Truncated BPTT: each L_t is backpropagated through at most k steps.

    This is the double sum of (eq-dW-hh-double-sum) with only the terms
    t - j < k kept; it costs O(T k) instead of O(T).
    """
    T, B, H = dh_out.shape
    dtanh = _tanh_derivative(h)  # 1 - h_j^2, each used up to k times (eq-tanh-derivative)
    dz = np.zeros_like(dh_out)
    dh0 = np.zeros((B, H), dtype=dh_out.dtype)
    dh, dz_j = np.empty((B, H), dtype=dh_out.dtype), np.empty((B, H), dtype=dh_out.dtype)
    for t in range(T):
        dh[...] = dh_out[t]  # dL_t/dh_t
        for j in range(t, max(t - k, -1), -1):  # steps t, t-1, ..., t-k+1
            np.multiply(dh, dtanh[j], out=dz_j)
            dz[j] += dz_j
            np.matmul(dz_j, W_hh, out=dh)  # one more Jacobian factor: dL_t/dh_{j-1}
        if t - k < 0:  # the window reached step 0, so it reaches h_0 too
            dh0 += dh
    return dz, dh0


def backward(
    params: RNNParams,
    cache: ForwardCache,
    dy: np.ndarray,
    dh_T: np.ndarray | None = None,
    *,
    truncate: int | None = None,
) -> RNNParams:
    """Gradients of the loss for all five parameters (see :func:`bptt`).

    Parameters
    ----------
    params : RNNParams
    cache : ForwardCache
        What :func:`forward` returned for these parameters.
    dy : ndarray, shape (B, T, O)
        dL/dy for every step.
    dh_T : ndarray, shape (B, H), optional
        dL/dh_T from a later chunk of a longer sequence (see :func:`bptt`).
    truncate : int, optional
        Truncation length K of truncated BPTT; ``None`` means full BPTT.

    Returns
    -------
    RNNParams
        The gradients, same shapes and dtype as `params`.
    """
    grads, _ = bptt(params, cache, dy, dh_T, truncate=truncate)
    return grads
