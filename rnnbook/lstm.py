"""The long short-term memory cell (LSTM): parameters, forward pass and BPTT by hand.

The cell (Hochreiter & Schmidhuber, 1997, with the forget gate of Gers et al., 2000),
in column-vector notation, with PyTorch's equations and gate order (i, f, g, o):

    i_t = sigma(W_xi x_t + W_hi h_{t-1} + b_i)      input gate       (eq-lstm-gates)
    f_t = sigma(W_xf x_t + W_hf h_{t-1} + b_f)      forget gate
    g_t = tanh(W_xg x_t + W_hg h_{t-1} + b_g)       candidate
    o_t = sigma(W_xo x_t + W_ho h_{t-1} + b_o)      output gate
    c_t = f_t * c_{t-1} + i_t * g_t                 cell state       (eq-lstm-cell)
    h_t = o_t * tanh(c_t)                           hidden state     (eq-lstm-hidden)
    y_t = W_hy h_t + b_y                                             (eq-output)

where ``*`` is the entrywise product. The four gate blocks are stacked in one matrix,
``W_xh = [W_xi; W_xf; W_xg; W_xo]`` of shape (4H, D), and likewise ``W_hh`` (4H, H) and
``b_h`` (4H,), so that one product per step computes all four pre-activations.

Exchanging weights with ``torch.nn.LSTM(D, H, batch_first=True)`` (float64):
``weight_ih_l0 = W_xh``, ``weight_hh_l0 = W_hh``, ``bias_ih_l0 + bias_hh_l0 = b_h``
(PyTorch keeps two bias vectors whose sum is all that matters; load ``b_h`` into one
and zeros into the other), and a ``torch.nn.Linear(H, O)`` with ``weight = W_hy``,
``bias = b_y`` on top. The forward pass and every gradient then agree to rounding.

As in :mod:`rnnbook.rnn`, batches are stored row by row (``W @ h`` in the prose is
``h @ W.T`` here), time series are kept time-major (T, B, .) inside, every large
array is allocated once and filled in place, and there is one loop over time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import inputs, validate
from .init import xavier_uniform
from .params import Params
from .rnn import _matmul, _sum_rows


@dataclass
class LSTMParams(Params):
    """The five parameter arrays of an LSTM with a linear read-out (or their gradients).

    Attributes
    ----------
    W_xh : ndarray, shape (4H, D)
        Input weights of the gates, rows in PyTorch's order (i, f, g, o).
    W_hh : ndarray, shape (4H, H)
        Recurrent weights of the gates, same row order.
    b_h : ndarray, shape (4H,)
        Gate biases (PyTorch's ``bias_ih_l0 + bias_hh_l0``); ``b_h[H:2H]`` is the
        forget-gate bias.
    W_hy : ndarray, shape (O, H)
        Hidden-to-output weights.
    b_y : ndarray, shape (O,)
        Output bias.
    """

    W_xh: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray
    W_hy: np.ndarray
    b_y: np.ndarray

    def __post_init__(self) -> None:
        # Shapes must agree with each other; values are checked by forward().
        W_hh = validate.float_array("W_hh", self.W_hh, (None, None), finite=False)
        H4, H, dtype = W_hh.shape[0], W_hh.shape[1], W_hh.dtype
        if H4 != 4 * H:
            raise ValueError(f"W_hh: expected shape (4H, H) = ({4 * H}, {H}), got {W_hh.shape}")
        validate.float_array("W_xh", self.W_xh, (4 * H, None), dtype=dtype, finite=False)
        validate.float_array("b_h", self.b_h, (4 * H,), dtype=dtype, finite=False)
        W_hy = validate.float_array("W_hy", self.W_hy, (None, H), dtype=dtype, finite=False)
        validate.float_array("b_y", self.b_y, (W_hy.shape[0],), dtype=dtype, finite=False)

    @property
    def input_size(self) -> int:
        """D, the size of each input vector x_t."""
        return self.W_xh.shape[1]

    @property
    def hidden_size(self) -> int:
        """H, the size of the hidden state h_t and of the cell state c_t."""
        return self.W_hh.shape[1]

    @property
    def output_size(self) -> int:
        """O, the size of each output vector y_t."""
        return self.W_hy.shape[0]


@dataclass(frozen=True)
class LSTMCache:
    """What the forward pass keeps for the backward pass.

    Attributes
    ----------
    xs : ndarray, shape (T, B, D), or (T, B) integer ids
        The inputs, time-major.
    hs : ndarray, shape (T + 1, B, H)
        ``hs[0]`` is h_0 and ``hs[t]`` the hidden state after step t.
    cs : ndarray, shape (T + 1, B, H)
        ``cs[0]`` is c_0 and ``cs[t]`` the cell state after step t.
    gates : ndarray, shape (T, 4, B, H)
        ``gates[t - 1, k]`` is gate k of step t after its nonlinearity, k = 0, 1, 2, 3 for
        i_t, f_t, g_t, o_t: gate-major, so that each gate of a step is one contiguous
        (B, H) block.
    tanh_c : ndarray, shape (T, B, H)
        tanh(c_t), used by (eq-lstm-hidden) and again by the backward pass.
    ys : ndarray, shape (T, B, O)
        The outputs, time-major.
    """

    xs: np.ndarray
    hs: np.ndarray
    cs: np.ndarray
    gates: np.ndarray
    tanh_c: np.ndarray
    ys: np.ndarray

    def _gate(self, k: int) -> np.ndarray:
        return self.gates[:, k].transpose(1, 0, 2)

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, batch-first view of shape (B, T, H)."""
        return self.hs[1:].transpose(1, 0, 2)

    @property
    def c(self) -> np.ndarray:
        """Cell states c_1..c_T, batch-first view of shape (B, T, H)."""
        return self.cs[1:].transpose(1, 0, 2)

    @property
    def y(self) -> np.ndarray:
        """Outputs y_1..y_T, batch-first view of shape (B, T, O)."""
        return self.ys.transpose(1, 0, 2)

    @property
    def h0(self) -> np.ndarray:
        """The initial hidden state, shape (B, H)."""
        return self.hs[0]

    @property
    def c0(self) -> np.ndarray:
        """The initial cell state, shape (B, H)."""
        return self.cs[0]

    @property
    def i(self) -> np.ndarray:
        """Input gates i_1..i_T, shape (B, T, H)."""
        return self._gate(0)

    @property
    def f(self) -> np.ndarray:
        """Forget gates f_1..f_T, shape (B, T, H)."""
        return self._gate(1)

    @property
    def g(self) -> np.ndarray:
        """Candidates g_1..g_T, shape (B, T, H)."""
        return self._gate(2)

    @property
    def o(self) -> np.ndarray:
        """Output gates o_1..o_T, shape (B, T, H)."""
        return self._gate(3)


def sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-a)), computed as (1 + tanh(a / 2)) / 2.

    The tanh form never overflows (exp(-a) does for a < -709). Its error is within a few
    units of rounding of 1/2 in absolute terms, so a tiny value such as sigma(-30) ~ 1e-13
    keeps only a few digits; for a gate, which multiplies values of order one, that is
    harmless.
    """
    out = np.multiply(a, 0.5, out=out)
    return sigmoid_from_tanh(np.tanh(out, out=out))


def sigmoid_from_tanh(tau: np.ndarray) -> np.ndarray:
    """(1 + tau) / 2 in place: sigma(a) where tau = tanh(a / 2).

    The forward passes halve the sigmoid gates' weights once, so that one tanh over the
    pre-activations of a step gives tanh(a / 2) for those gates, and this finishes them.
    """
    tau *= 0.5
    tau += 0.5
    return tau


def init_params(
    input_size: int,
    hidden_size: int,
    output_size: int,
    rng: np.random.Generator | None = None,
    *,
    forget_bias: float = 1.0,
    dtype: type | np.dtype = np.float64,
) -> LSTMParams:
    """Initial parameters of an LSTM: Xavier uniform blocks, zero biases but the forget gate's.

    Each gate's (H, D) and (H, H) block is drawn like the vanilla RNN's matrices with
    ``scheme="xavier"`` (eq-xavier), so the cells differ in their equations, not in the
    scale of their weights.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        D, H and O.
    rng : numpy.random.Generator
        The only source of randomness, e.g. ``np.random.default_rng(0)``.
    forget_bias : float
        The initial forget-gate bias b_f. The default 1 (Jozefowicz et al., 2015) starts
        every forget gate near sigma(1) = 0.73, so that the cell keeps most of its state.
    dtype : float32 or float64

    Returns
    -------
    LSTMParams
        W_xh (4H, D), W_hh (4H, H), b_h (4H,), W_hy (O, H), b_y (O,).
    """
    D = validate.size("input_size", input_size)
    H = validate.size("hidden_size", hidden_size)
    O = validate.size("output_size", output_size)
    rng = validate.generator("rng", rng)
    if not np.isfinite(forget_bias) or isinstance(forget_bias, bool):
        raise ValueError(f"forget_bias: expected a finite number, got {forget_bias!r}")
    if np.dtype(dtype) not in validate.FLOAT_DTYPES:
        raise ValueError(f"dtype: expected float32 or float64, got {np.dtype(dtype)}")
    W_xh = np.concatenate([xavier_uniform(H, D, rng) for _ in range(4)])
    W_hh = np.concatenate([xavier_uniform(H, H, rng) for _ in range(4)])
    b_h = np.zeros(4 * H)
    b_h[H : 2 * H] = forget_bias
    params = LSTMParams(W_xh, W_hh, b_h, xavier_uniform(O, H, rng), np.zeros(O))
    return params.astype(dtype)


def check_params(params: LSTMParams) -> LSTMParams:
    """Check that `params` is an LSTMParams with finite entries."""
    if not isinstance(params, LSTMParams):
        raise ValueError(f"params: expected rnnbook.LSTMParams, got {type(params).__name__}")
    for name, a in params.items():
        if not np.isfinite(a).all():
            raise ValueError(f"params.{name}: expected finite values, got NaN or inf")
    return params


def _initial_state(name: str, value: np.ndarray | None, out: np.ndarray) -> None:
    if value is None:
        out[...] = 0.0
    else:
        out[...] = validate.float_array(name, value, out.shape, dtype=out.dtype)


def forward(
    params: LSTMParams,
    x: np.ndarray,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
) -> LSTMCache:
    """Run the LSTM over a batch of sequences (PyTorch's equations, see the
    module).

    Parameters
    ----------
    params : LSTMParams
        Weights of sizes D (input), H (hidden), O (output).
    x : ndarray, shape (B, T, D), or (B, T) integer ids in [0, D)
        A batch of B input sequences of length T; same dtype as `params`.
        Integer ids are one-hot inputs, read as a column lookup
        (:mod:`rnnbook.inputs`).
    h0, c0 : ndarray, shape (B, H), optional
        Initial hidden and cell states; zeros by default.

    Returns
    -------
    LSTMCache
        ``cache.h`` (B, T, H), ``cache.c`` (B, T, H) and ``cache.y``
        (B, T, O), the gates (``cache.f`` etc.), and what backward needs.
    """
    check_params(params)
    D, H, dtype = params.input_size, params.hidden_size, params.dtype
    x = inputs.check_inputs(x, D, dtype)  # (B, T, D) floats or (B, T) ids
    B, T = x.shape[:2]
    # time-major (T, B, D) or (T, B)
    xs = np.ascontiguousarray(x.swapaxes(0, 1))
    hs = np.empty((T + 1, B, H), dtype=dtype)
    cs = np.empty((T + 1, B, H), dtype=dtype)
    _initial_state("h0", h0, hs[0])
    _initial_state("c0", c0, cs[0])

    # The rows of the sigmoid gates i, f, o are halved (exact in binary):
    # their pre-activations arrive as a / 2, and
    # sigma(a) = (1 + tanh(a / 2)) / 2 needs no exp.
    # per gate
    half = np.array([0.5, 0.5, 1.0, 0.5], dtype=dtype)[:, None, None]
    W_x4 = np.ascontiguousarray(
        (params.W_xh.reshape(4, H, D) * half).transpose(0, 2, 1),
    )
    W_h4 = np.ascontiguousarray(
        (params.W_hh.reshape(4, H, H) * half).transpose(0, 2, 1),
    )
    if inputs.is_ids(xs):  # looked-up columns of W_x, (eq-one-hot-lookup)
        gates = np.ascontiguousarray(
            np.take(W_x4, xs, axis=1).transpose(1, 0, 2, 3),
        )
    else:  # W_x x_t for every t and gate at once: (T, 4, B, H)
        gates = _matmul(xs[:, None], W_x4)
    gates += params.b_h.reshape(4, 1, H) * half  # ... + b
    tanh_c = np.empty((T, B, H), dtype=dtype)
    recurrent = np.empty((4, B, H), dtype=dtype)
    ig = np.empty((B, H), dtype=dtype)
    for t in range(T):
        a = gates[t]
        # W_h h_{t-1}, one block per gate
        np.matmul(hs[t], W_h4, out=recurrent)
        a += recurrent
        np.tanh(a, out=a)  # g_t, and tanh(a / 2) of the halved i, f, o
        sigmoid_from_tanh(a[:2])  # i_t, f_t                (eq-lstm-gates)
        sigmoid_from_tanh(a[3])  # o_t
        i, f, g, o = a
        np.multiply(f, cs[t], out=cs[t + 1])  # f_t * c_{t-1}
        np.multiply(i, g, out=ig)
        cs[t + 1] += ig  # ... + i_t * g_t                      (eq-lstm-cell)
        np.tanh(cs[t + 1], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=hs[t + 1])  # (eq-lstm-hidden)
    ys = _matmul(hs[1:], params.W_hy.T)  # (eq-output)
    ys += params.b_y
    return LSTMCache(xs=xs, hs=hs, cs=cs, gates=gates, tanh_c=tanh_c, ys=ys)


def _local_derivatives(
    cache: LSTMCache,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The factors of the backward step that do not depend on the gradient,
    for all t at once.

    Returns P = o_t (1 - tanh^2 c_t), shape (T, B, H), which takes dL/dh_t
    to dL/dc_t;
    Q = [g_t i_t (1 - i_t), c_{t-1} f_t (1 - f_t), i_t (1 - g_t^2)],
    shape (T, 3, B, H), which takes dL/dc_t to the pre-activations of i, f
    and g; and
    R = tanh(c_t) o_t (1 - o_t), shape (T, B, H), which takes dL/dh_t to
    that of o.
    (eq-lstm-dgates with eq-lstm-dpre)
    """
    T, B, H = cache.tanh_c.shape
    i, f, g, o = cache.gates.transpose(1, 0, 2, 3)  # each (T, B, H)
    P = np.multiply(cache.tanh_c, cache.tanh_c)
    np.subtract(1.0, P, out=P)
    P *= o
    Q = np.empty((T, 3, B, H), dtype=P.dtype)
    for k, (u, v) in enumerate(((i, g), (f, cache.cs[:-1]))):  # u (1 - u) v
        np.subtract(1.0, u, out=Q[:, k])
        Q[:, k] *= u
        Q[:, k] *= v
    np.multiply(g, g, out=Q[:, 2])  # i (1 - g^2)
    np.subtract(1.0, Q[:, 2], out=Q[:, 2])
    Q[:, 2] *= i
    R = np.subtract(1.0, o)
    R *= o
    R *= cache.tanh_c
    return P, Q, R


def _backward_loop(
    params: LSTMParams,
    cache: LSTMCache,
    dh_out: np.ndarray,
    dc_T: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The backward recurrence of the LSTM over all T steps.

    `dh_out` (T, B, H) holds the immediate partials dL/dh_t (through y_t,
    plus any dL/dh_T from outside) and is overwritten with the totals
    dL/dh_t. Returns the gradients of the four gate pre-activations,
    gate-major (T, 4, B, H), the totals dL/dc_t (T, B, H), dL/dh_0 and
    dL/dc_0.
    """
    T, B, H = dh_out.shape
    dtype = dh_out.dtype
    P, Q, R = _local_derivatives(cache)
    f = cache.gates[:, 1]
    da = np.empty((T, 4, B, H), dtype=dtype)  # pre-activations of i, f, g, o
    dcs = np.empty((T, B, H), dtype=dtype)
    # dL/dh_t through step t + 1 (none at t = T)
    dh_next = np.zeros((B, H), dtype=dtype)
    dc_next = np.zeros((B, H), dtype=dtype) if dc_T is None else dc_T.copy()
    for t in reversed(range(T)):
        dh = dh_out[t]
        dh += dh_next  # total dL/dh_t                        (eq-lstm-dh)
        dc = dcs[t]
        np.multiply(dh, P[t], out=dc)
        dc += dc_next  # total dL/dc_t                        (eq-lstm-dc)
        np.multiply(dc, Q[t], out=da[t, :3])  # i, f, g       (eq-lstm-dpre)
        np.multiply(dh, R[t], out=da[t, 3])  # o
        # dL/dc_{t-1} along the carousel                 (eq-lstm-carousel)
        np.multiply(dc, f[t], out=dc_next)
        # W_h^T da_t, to h_{t-1}: rows [da_i, da_f, da_g, da_o] of length 4H
        # (eq-lstm-dh)
        np.matmul(
            da[t].transpose(1, 0, 2).reshape(B, 4 * H),
            params.W_hh,
            out=dh_next,
        )
    return da, dcs, dh_next, dc_next


def _gate_sums(blocks: list[np.ndarray], *inputs: np.ndarray) -> list[np.ndarray]:
    """Parameter gradients from the pre-activation gradients of K gates, summed over t and b.

    `blocks` holds, gate by gate, da_t of every step, each (T, B, H); for every input u
    (T, B, n) the result holds sum_t da_t^T u_t of the K gates stacked to (K H, n), and
    last the bias gradient sum_t da_t, (K H,).
    """
    T, B, H = blocks[0].shape
    rows = [np.ascontiguousarray(d).reshape(T * B, H) for d in blocks]
    products = [np.concatenate([d.T @ u.reshape(T * B, -1) for d in rows]) for u in inputs]
    return [*products, np.concatenate([_sum_rows(d) for d in rows])]


def bptt(
    params: LSTMParams,
    cache: LSTMCache,
    dy: np.ndarray,
    dh_T: np.ndarray | None = None,
    dc_T: np.ndarray | None = None,
) -> tuple[LSTMParams, np.ndarray, np.ndarray]:
    """Backpropagation through time for the LSTM: all parameters, h_0 and c_0.

    Parameters
    ----------
    params : LSTMParams
        The parameters the forward pass used.
    cache : LSTMCache
        What :func:`forward` returned.
    dy : ndarray, shape (B, T, O)
        dL/dy_t for every step, e.g. from :func:`rnnbook.mse_loss`.
    dh_T, dc_T : ndarray, shape (B, H), optional
        dL/dh_T and dL/dc_T from a later chunk of a longer sequence (that chunk's
        ``dh0`` and ``dc0``); zeros by default.

    Returns
    -------
    grads : LSTMParams
        The gradients, same shapes and dtype as `params`.
    dh0, dc0 : ndarray, shape (B, H)
        dL/dh_0 and dL/dc_0.
    """
    check_params(params)
    if not isinstance(cache, LSTMCache):
        raise ValueError(f"cache: expected rnnbook.lstm.LSTMCache, got {type(cache).__name__}")
    T, B = cache.xs.shape[:2]
    H, O = params.hidden_size, params.output_size
    dy = validate.float_array("dy", dy, (B, T, O), dtype=params.dtype)
    dys = np.ascontiguousarray(dy.transpose(1, 0, 2))  # time-major (T, B, O)
    dh_out = _matmul(dys, params.W_hy)  # dL/dh_t through y_t only   (eq-dL-dh-direct)
    if dh_T is not None:
        dh_out[-1] += validate.float_array("dh_T", dh_T, (B, H), dtype=params.dtype)
    if dc_T is not None:
        validate.float_array("dc_T", dc_T, (B, H), dtype=params.dtype)
    da, _, dh0, dc0 = _backward_loop(params, cache, dh_out, dc_T)

    # Sum the per-step contributions over time and batch           (eq-lstm-param-grads)
    gates = list(da.transpose(1, 0, 2, 3))
    if inputs.is_ids(cache.xs):  # a scatter-add into the columns read
        dW_hh, db_h = _gate_sums(gates, cache.hs[:-1])
        dW_xh = inputs.gate_input_gradient(gates, cache.xs, params.input_size)
    else:
        dW_xh, dW_hh, db_h = _gate_sums(gates, cache.xs, cache.hs[:-1])
    dy2 = dys.reshape(T * B, O)
    grads = LSTMParams(
        W_xh=dW_xh,  # sum_t da_t x_t^T
        W_hh=dW_hh,  # sum_t da_t h_{t-1}^T
        b_h=db_h,  # sum_t da_t
        W_hy=dy2.T @ cache.hs[1:].reshape(T * B, H),  # sum_t dy_t h_t^T
        b_y=_sum_rows(dy2),  # sum_t dy_t
    )
    return grads, dh0, dc0


def backward(
    params: LSTMParams,
    cache: LSTMCache,
    dy: np.ndarray,
    dh_T: np.ndarray | None = None,
    *,
    truncate: int | None = None,
) -> LSTMParams:
    """Gradients of the loss for all five parameters (see :func:`bptt`).

    Parameters
    ----------
    params : LSTMParams
    cache : LSTMCache
        What :func:`forward` returned for these parameters.
    dy : ndarray, shape (B, T, O)
        dL/dy for every step.
    dh_T : ndarray, shape (B, H), optional
        dL/dh_T from a later chunk of a longer sequence.
    truncate : None
        Truncated BPTT is implemented for the vanilla RNN only; anything but ``None``
        raises ``ValueError``.

    Returns
    -------
    LSTMParams
    """
    if truncate is not None:
        raise ValueError(
            f"truncate: expected None (the LSTM runs full BPTT only), got {truncate!r}"
        )
    grads, _, _ = bptt(params, cache, dy, dh_T)
    return grads


def last_step_gradients(
    params: LSTMParams, cache: LSTMCache, dh_T: np.ndarray, *, state: str = "h"
) -> np.ndarray:
    """dL_T/dh_k (or dL_T/dc_k) for every k, for a loss L_T that depends on h_T only.

    Parameters
    ----------
    params : LSTMParams
    cache : LSTMCache
    dh_T : ndarray, shape (B, H)
        The gradient of L_T with respect to h_T, e.g. ``dy_T @ params.W_hy``.
    state : {"h", "c"}
        Which state's gradients to return.

    Returns
    -------
    ndarray, shape (B, T + 1, H)
        Entry ``[:, k]`` is the total derivative of L_T with respect to h_k (or c_k),
        k = 0..T.
    """
    check_params(params)
    if state not in ("h", "c"):
        raise ValueError(f"state: expected 'h' or 'c', got {state!r}")
    T, B = cache.xs.shape[:2]
    H = params.hidden_size
    dh_out = np.zeros((T, B, H), dtype=params.dtype)
    dh_out[-1] = validate.float_array("dh_T", dh_T, (B, H), dtype=params.dtype)
    _, dcs, dh0, dc0 = _backward_loop(params, cache, dh_out, None)
    first, rest = (dh0, dh_out) if state == "h" else (dc0, dcs)
    return np.concatenate([first[None], rest]).transpose(1, 0, 2)


def final_state(cache: LSTMCache) -> dict[str, np.ndarray]:
    """``{"h0": h_T, "c0": c_T}`` (copies, shape (B, H)): what continues a forward pass
    where `cache` ended, ``forward(params, x_next, **final_state(cache))``."""
    return {"h0": cache.hs[-1].copy(), "c0": cache.cs[-1].copy()}
