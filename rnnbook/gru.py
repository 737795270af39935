"""The gated recurrent unit (GRU): parameters, forward pass and BPTT by hand.

The cell (Cho et al., 2014), in column-vector notation, with PyTorch's equations and
gate order (r, z, n):

    r_t = sigma(W_xr x_t + b_xr + W_hr h_{t-1} + b_hr)          reset gate   (eq-gru-gates)
    z_t = sigma(W_xz x_t + b_xz + W_hz h_{t-1} + b_hz)          update gate
    n_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn))   candidate    (eq-gru-candidate)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                       new state    (eq-gru-hidden)
    y_t = W_hy h_t + b_y                                                     (eq-output)

where ``*`` is the entrywise product. PyTorch (like cuDNN) applies the reset gate after
the recurrent product, ``r * (W_hn h + b_hn)``; Cho et al. apply it before,
``W_hn (r * h)``. That is why the GRU keeps two bias vectors: b_hn sits inside the
reset, b_xn outside. The gate blocks are stacked: ``W_xh = [W_xr; W_xz; W_xn]`` of
shape (3H, D), ``W_hh`` (3H, H), ``b_xh`` and ``b_hh`` (3H,).

Exchanging weights with ``torch.nn.GRU(D, H, batch_first=True)`` (float64):
``weight_ih_l0 = W_xh``, ``weight_hh_l0 = W_hh``, ``bias_ih_l0 = b_xh``,
``bias_hh_l0 = b_hh``, and a ``torch.nn.Linear(H, O)`` with ``weight = W_hy``,
``bias = b_y`` on top. The forward pass and every gradient then agree to rounding.

Storage and speed habits are those of :mod:`rnnbook.rnn` and :mod:`rnnbook.lstm`:
time-major arrays allocated once and filled in place, one loop over time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import inputs, validate
from .init import xavier_uniform
from .lstm import _gate_sums, sigmoid_from_tanh
from .params import Params
from .rnn import _matmul, _sum_rows


@dataclass
class GRUParams(Params):
    """The six parameter arrays of a GRU with a linear read-out (or their gradients).

    Attributes
    ----------
    W_xh : ndarray, shape (3H, D)
        Input weights, rows in PyTorch's order (r, z, n).
    W_hh : ndarray, shape (3H, H)
        Recurrent weights, same row order.
    b_xh : ndarray, shape (3H,)
        Input-side biases (PyTorch's ``bias_ih_l0``).
    b_hh : ndarray, shape (3H,)
        Recurrent-side biases (``bias_hh_l0``); ``b_hh[2H:]`` is b_hn, inside the reset.
    W_hy : ndarray, shape (O, H)
        Hidden-to-output weights.
    b_y : ndarray, shape (O,)
        Output bias.
    """

    W_xh: np.ndarray
    W_hh: np.ndarray
    b_xh: np.ndarray
    b_hh: np.ndarray
    W_hy: np.ndarray
    b_y: np.ndarray

    def __post_init__(self) -> None:
        # Shapes must agree with each other; values are checked by forward().
        W_hh = validate.float_array("W_hh", self.W_hh, (None, None), finite=False)
        H3, H, dtype = W_hh.shape[0], W_hh.shape[1], W_hh.dtype
        if H3 != 3 * H:
            raise ValueError(f"W_hh: expected shape (3H, H) = ({3 * H}, {H}), got {W_hh.shape}")
        validate.float_array("W_xh", self.W_xh, (3 * H, None), dtype=dtype, finite=False)
        for name in ("b_xh", "b_hh"):
            validate.float_array(name, getattr(self, name), (3 * H,), dtype=dtype, finite=False)
        W_hy = validate.float_array("W_hy", self.W_hy, (None, H), dtype=dtype, finite=False)
        validate.float_array("b_y", self.b_y, (W_hy.shape[0],), dtype=dtype, finite=False)

    @property
    def input_size(self) -> int:
        """D, the size of each input vector x_t."""
        return self.W_xh.shape[1]

    @property
    def hidden_size(self) -> int:
        """H, the size of the hidden state h_t."""
        return self.W_hh.shape[1]

    @property
    def output_size(self) -> int:
        """O, the size of each output vector y_t."""
        return self.W_hy.shape[0]


@dataclass(frozen=True)
class GRUCache:
    """What the forward pass keeps for the backward pass.

    Attributes
    ----------
    xs : ndarray, shape (T, B, D), or (T, B) integer ids
        The inputs, time-major.
    hs : ndarray, shape (T + 1, B, H)
        ``hs[0]`` is h_0 and ``hs[t]`` the hidden state after step t.
    gates : ndarray, shape (T, 3, B, H)
        ``gates[t - 1, k]`` is gate k of step t after its nonlinearity, k = 0, 1, 2 for
        r_t, z_t, n_t: gate-major, so that each gate of a step is one contiguous (B, H)
        block.
    hn : ndarray, shape (T, B, H)
        W_hn h_{t-1} + b_hn of every step: what the reset gate multiplies, needed again
        by the backward pass.
    ys : ndarray, shape (T, B, O)
        The outputs, time-major.
    """

    xs: np.ndarray
    hs: np.ndarray
    gates: np.ndarray
    hn: np.ndarray
    ys: np.ndarray

    def _gate(self, k: int) -> np.ndarray:
        return self.gates[:, k].transpose(1, 0, 2)

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

    @property
    def r(self) -> np.ndarray:
        """Reset gates r_1..r_T, shape (B, T, H)."""
        return self._gate(0)

    @property
    def z(self) -> np.ndarray:
        """Update gates z_1..z_T, shape (B, T, H)."""
        return self._gate(1)

    @property
    def n(self) -> np.ndarray:
        """Candidates n_1..n_T, shape (B, T, H)."""
        return self._gate(2)


def init_params(
    input_size: int,
    hidden_size: int,
    output_size: int,
    rng: np.random.Generator | None = None,
    *,
    dtype: type | np.dtype = np.float64,
) -> GRUParams:
    """Initial parameters of a GRU: Xavier uniform blocks and zero biases.

    Each gate's (H, D) and (H, H) block is drawn like the vanilla RNN's matrices with
    ``scheme="xavier"`` (eq-xavier). With zero biases every update gate starts near
    sigma(0) = 1/2.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        D, H and O.
    rng : numpy.random.Generator
        The only source of randomness, e.g. ``np.random.default_rng(0)``.
    dtype : float32 or float64

    Returns
    -------
    GRUParams
        W_xh (3H, D), W_hh (3H, H), b_xh (3H,), b_hh (3H,), W_hy (O, H), b_y (O,).
    """
    D = validate.size("input_size", input_size)
    H = validate.size("hidden_size", hidden_size)
    O = validate.size("output_size", output_size)
    rng = validate.generator("rng", rng)
    if np.dtype(dtype) not in validate.FLOAT_DTYPES:
        raise ValueError(f"dtype: expected float32 or float64, got {np.dtype(dtype)}")
    W_xh = np.concatenate([xavier_uniform(H, D, rng) for _ in range(3)])
    W_hh = np.concatenate([xavier_uniform(H, H, rng) for _ in range(3)])
    zeros = np.zeros(3 * H)
    params = GRUParams(W_xh, W_hh, zeros, zeros.copy(), xavier_uniform(O, H, rng), np.zeros(O))
    return params.astype(dtype)


def check_params(params: GRUParams) -> GRUParams:
    """Check that `params` is a GRUParams with finite entries."""
    if not isinstance(params, GRUParams):
        raise ValueError(f"params: expected rnnbook.GRUParams, got {type(params).__name__}")
    for name, a in params.items():
        if not np.isfinite(a).all():
            raise ValueError(f"params.{name}: expected finite values, got NaN or inf")
    return params


def forward(params: GRUParams, x: np.ndarray, h0: np.ndarray | None = None) -> GRUCache:
    """Run the GRU over a batch of sequences (PyTorch's equations, see the module).

    Parameters
    ----------
    params : GRUParams
        Weights of sizes D (input), H (hidden), O (output).
    x : ndarray, shape (B, T, D), or (B, T) integer ids in [0, D)
        A batch of B input sequences of length T; same dtype as `params`. Integer
        ids are one-hot inputs, read as a column lookup (:mod:`rnnbook.inputs`).
    h0 : ndarray, shape (B, H), optional
        Initial hidden state; zeros by default.

    Returns
    -------
    GRUCache
        ``cache.h`` (B, T, H) and ``cache.y`` (B, T, O), the gates (``cache.z`` etc.),
        and what backward needs.
    """
    check_params(params)
    D, H, dtype = params.input_size, params.hidden_size, params.dtype
    x = inputs.check_inputs(x, D, dtype)  # (B, T, D) floats or (B, T) ids
    B, T = x.shape[:2]
    xs = np.ascontiguousarray(x.swapaxes(0, 1))  # time-major (T, B, D) or (T, B)
    hs = np.empty((T + 1, B, H), dtype=dtype)
    if h0 is None:
        hs[0] = 0.0
    else:
        hs[0] = validate.float_array("h0", h0, (B, H), dtype=dtype)

    # The rows of the sigmoid gates r and z are halved (exact in binary): their
    # pre-activations arrive as a / 2, and sigma(a) = (1 + tanh(a / 2)) / 2 needs no exp.
    half = np.array([0.5, 0.5, 1.0], dtype=dtype)[:, None, None]  # per gate
    W_x3 = np.ascontiguousarray((params.W_xh.reshape(3, H, D) * half).transpose(0, 2, 1))
    W_h3 = np.ascontiguousarray((params.W_hh.reshape(3, H, H) * half).transpose(0, 2, 1))
    b_x3, b_h3 = params.b_xh.reshape(3, 1, H), params.b_hh.reshape(3, 1, H)
    if inputs.is_ids(xs):  # looked-up columns of W_x, (eq-one-hot-lookup)
        gates = np.ascontiguousarray(np.take(W_x3, xs, axis=1).transpose(1, 0, 2, 3))
    else:  # W_x x_t for every t and gate at once: (T, 3, B, H)
        gates = _matmul(xs[:, None], W_x3)
    gates[:, :2] += (b_x3[:2] + b_h3[:2]) * half[:2]  # r, z: both biases outside the gate
    gates[:, 2] += b_x3[2]  # n: b_xn only; b_hn goes inside the reset, below
    hn = np.empty((T, B, H), dtype=dtype)
    recurrent = np.empty((3, B, H), dtype=dtype)
    rh = np.empty((B, H), dtype=dtype)
    for t in range(T):
        a = gates[t]
        np.matmul(hs[t], W_h3, out=recurrent)  # W_h h_{t-1}, one block per gate
        rz = a[:2]
        rz += recurrent[:2]
        np.tanh(rz, out=rz)
        sigmoid_from_tanh(rz)  # r_t, z_t                             (eq-gru-gates)
        r, z, n = a
        np.add(recurrent[2], b_h3[2], out=hn[t])  # W_hn h_{t-1} + b_hn
        np.multiply(r, hn[t], out=rh)
        n += rh
        np.tanh(n, out=n)  # n_t                                      (eq-gru-candidate)
        h = hs[t + 1]
        np.subtract(hs[t], n, out=h)  # h_t = n_t + z_t (h_{t-1} - n_t)  (eq-gru-hidden)
        h *= z
        h += n
    ys = _matmul(hs[1:], params.W_hy.T)  # (eq-output)
    ys += params.b_y
    return GRUCache(xs=xs, hs=hs, gates=gates, hn=hn, ys=ys)


def _local_derivatives(cache: GRUCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The factors of the backward step that do not depend on the gradient, for all t at once.

    Returns, each of shape (T, B, H): Pn = (1 - z_t)(1 - n_t^2), which takes dL/dh_t to
    the candidate's pre-activation; Pz = (h_{t-1} - n_t) z_t (1 - z_t), to the update
    gate's; and Pr = (W_hn h_{t-1} + b_hn) r_t (1 - r_t), which takes the candidate's
    pre-activation gradient to the reset gate's. (eq-gru-dgates)
    """
    r, z, n = cache.gates.transpose(1, 0, 2, 3)  # each (T, B, H)
    Pn = np.multiply(n, n)
    np.subtract(1.0, Pn, out=Pn)
    Pn *= 1.0 - z
    Pz = np.subtract(cache.hs[:-1], n)
    Pz *= z
    Pz *= 1.0 - z
    Pr = np.subtract(1.0, r)
    Pr *= r
    Pr *= cache.hn
    return Pn, Pz, Pr


def _backward_loop(
    params: GRUParams, cache: GRUCache, dh_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backward recurrence of the GRU over all T steps.

    `dh_out` (T, B, H) holds the immediate partials dL/dh_t and is
    overwritten with the totals dL/dh_t. Returns the gradients of the
    recurrent-side pre-activations ``W_hh h_{t-1} + b_hh``, gate-major
    (T, 3, B, H), that of the candidate's input side (T, B, H; it differs
    from the recurrent side, which the reset gate scales), and dL/dh_0.
    """
    T, B, H = dh_out.shape
    dtype = dh_out.dtype
    Pn, Pz, Pr = _local_derivatives(cache)
    r, z = cache.gates[:, 0], cache.gates[:, 1]
    # recurrent side: r, z, r * candidate
    de = np.empty((T, 3, B, H), dtype=dtype)
    dn = np.empty((T, B, H), dtype=dtype)  # the candidate's pre-activation
    # dL/dh_t through step t + 1 (none at t = T)
    dh_next = np.zeros((B, H), dtype=dtype)
    through_z = np.empty((B, H), dtype=dtype)
    for t in reversed(range(T)):
        dh = dh_out[t]
        dh += dh_next  # total dL/dh_t                           (eq-gru-dh)
        # along z_t h_{t-1}                                  (eq-gru-direct)
        np.multiply(dh, z[t], out=through_z)
        # candidate                                          (eq-gru-dgates)
        np.multiply(dh, Pn[t], out=dn[t])
        np.multiply(dh, Pz[t], out=de[t, 1])  # update gate
        np.multiply(dn[t], Pr[t], out=de[t, 0])  # reset gate
        # the reset scales the recurrent side
        np.multiply(dn[t], r[t], out=de[t, 2])
        # W_h^T de_t, to h_{t-1}: rows [de_r, de_z, de_n] of length 3H
        # (eq-gru-dh)
        np.matmul(
            de[t].transpose(1, 0, 2).reshape(B, 3 * H),
            params.W_hh,
            out=dh_next,
        )
        dh_next += through_z
    return de, dn, dh_next


def bptt(
    params: GRUParams, cache: GRUCache, dy: np.ndarray, dh_T: np.ndarray | None = None
) -> tuple[GRUParams, np.ndarray]:
    """Backpropagation through time for the GRU: gradients of all parameters and h_0.

    Parameters
    ----------
    params : GRUParams
        The parameters the forward pass used.
    cache : GRUCache
        What :func:`forward` returned.
    dy : ndarray, shape (B, T, O)
        dL/dy_t for every step, e.g. from :func:`rnnbook.mse_loss`.
    dh_T : ndarray, shape (B, H), optional
        dL/dh_T from a later chunk of a longer sequence (that chunk's ``dh0``).

    Returns
    -------
    grads : GRUParams
        The gradients, same shapes and dtype as `params`.
    dh0 : ndarray, shape (B, H)
        dL/dh_0.
    """
    check_params(params)
    if not isinstance(cache, GRUCache):
        raise ValueError(f"cache: expected rnnbook.gru.GRUCache, got {type(cache).__name__}")
    T, B = cache.xs.shape[:2]
    H, O = params.hidden_size, params.output_size
    dy = validate.float_array("dy", dy, (B, T, O), dtype=params.dtype)
    dys = np.ascontiguousarray(dy.transpose(1, 0, 2))  # time-major (T, B, O)
    dh_out = _matmul(dys, params.W_hy)  # dL/dh_t through y_t only   (eq-dL-dh-direct)
    if dh_T is not None:
        dh_out[-1] += validate.float_array("dh_T", dh_T, (B, H), dtype=params.dtype)
    de, dn, dh0 = _backward_loop(params, cache, dh_out)

    # Sum the per-step contributions over time and batch           (eq-gru-param-grads)
    r_side, z_side, n_side = de.transpose(1, 0, 2, 3)
    if inputs.is_ids(cache.xs):  # a scatter-add into the columns read
        (db_xh,) = _gate_sums([r_side, z_side, dn])
        dW_xh = inputs.gate_input_gradient([r_side, z_side, dn], cache.xs, params.input_size)
    else:
        dW_xh, db_xh = _gate_sums([r_side, z_side, dn], cache.xs)  # input side: da_t
    dW_hh, db_hh = _gate_sums([r_side, z_side, n_side], cache.hs[:-1])  # recurrent: de_t
    dy2 = dys.reshape(T * B, O)
    grads = GRUParams(
        W_xh=dW_xh,  # sum_t da_t x_t^T
        W_hh=dW_hh,  # sum_t de_t h_{t-1}^T
        b_xh=db_xh,  # sum_t da_t
        b_hh=db_hh,  # sum_t de_t
        W_hy=dy2.T @ cache.hs[1:].reshape(T * B, H),  # sum_t dy_t h_t^T
        b_y=_sum_rows(dy2),  # sum_t dy_t
    )
    return grads, dh0


def backward(
    params: GRUParams,
    cache: GRUCache,
    dy: np.ndarray,
    dh_T: np.ndarray | None = None,
    *,
    truncate: int | None = None,
) -> GRUParams:
    """Gradients of the loss for all six parameters (see :func:`bptt`).

    Parameters
    ----------
    params : GRUParams
    cache : GRUCache
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
    GRUParams
    """
    if truncate is not None:
        raise ValueError(f"truncate: expected None (the GRU runs full BPTT only), got {truncate!r}")
    grads, _ = bptt(params, cache, dy, dh_T)
    return grads


def last_step_gradients(params: GRUParams, cache: GRUCache, dh_T: np.ndarray) -> np.ndarray:
    """dL_T/dh_k for every k, for a loss L_T that depends on h_T only.

    Parameters
    ----------
    params : GRUParams
    cache : GRUCache
    dh_T : ndarray, shape (B, H)
        The gradient of L_T with respect to h_T, e.g. ``dy_T @ params.W_hy``.

    Returns
    -------
    ndarray, shape (B, T + 1, H)
        Entry ``[:, k]`` is the total derivative of L_T with respect to h_k, k = 0..T.
    """
    check_params(params)
    T, B = cache.xs.shape[:2]
    H = params.hidden_size
    dh_out = np.zeros((T, B, H), dtype=params.dtype)
    dh_out[-1] = validate.float_array("dh_T", dh_T, (B, H), dtype=params.dtype)
    _, _, dh0 = _backward_loop(params, cache, dh_out)
    return np.concatenate([dh0[None], dh_out]).transpose(1, 0, 2)


def final_state(cache: GRUCache) -> dict[str, np.ndarray]:
    """``{"h0": h_T}`` (a copy, shape (B, H)): what continues a forward pass where
    `cache` ended, ``forward(params, x_next, **final_state(cache))``."""
    return {"h0": cache.hs[-1].copy()}
