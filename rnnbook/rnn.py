"""The vanilla RNN: parameters, forward pass and backpropagation through time.

The model, in column-vector notation (the book's equations):

    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)      (eq-hidden-state)
    y_t = W_hy h_t + b_y                            (eq-output)

This is the same maths as :mod:`rnnbook.reference` (one line of code per equation),
arranged for the machine. Four arrangements make it fast; the appendix "Performance"
measures each one:

1. **Stacked operands.** The block of step t holds the column [h_{t-1}; 1; x_t], so the
   pre-activation W_hh h_{t-1} + b_h + W_xh x_t is one product with the stacked weights
   W_a = [W_hh | b_h | W_xh]: one product and one tanh per step. Backward, the block
   [dz_{t+1}; dy_t] times [W_hh^T | W_hy^T] is dL/dh_t: one product and one multiply per
   step. The same blocks give all five gradients as one sum of products, the bias
   gradients included (the row of ones), with no sum over the batch.
2. **Feature-major blocks.** Each step's block is a contiguous (rows, B) array, a column
   per sequence, so every per-step operation reads and writes one piece of memory.
3. **Bulk work.** 1 - h_t^2 for all steps at once; the gradient products for all steps in
   one call.
4. **Buffers allocated once.** A :class:`Workspace` owns the arrays for one shape and reuses
   them from step to step: no allocation, no page faults, no per-step validation. This is
   the fast path that :func:`rnnbook.fit` takes. The public :func:`forward` and
   :func:`bptt` run the same code on a fresh workspace per call, so what they return is
   never overwritten by a later call.

Inputs and outputs of the public functions are batch-first, (B, T, .); the blocks are
exposed as batch-first and time-major views (:class:`ForwardCache`).
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
    """What the forward pass keeps for the backward pass: the step blocks and the outputs.

    Attributes
    ----------
    blocks : ndarray, shape (T + 1, H + 1 + D, B)
        ``blocks[s]`` is the column block [h_s; 1; x_{s+1}] of step s + 1, one column per
        sequence (``blocks[T]`` holds [h_T; 1; 0]).
    y : ndarray, shape (B, T, O)
        The outputs y_1..y_T, batch-first (what the loss reads).
    hidden_size : int
        H, where the states end in each block.

    The familiar arrays are views of these (no copies): batch-first ``h`` (B, T, H) and
    ``h0`` (B, H), and time-major ``hs`` (T + 1, B, H), ``xs`` (T, B, D) and ``ys``
    (T, B, O).
    """

    blocks: np.ndarray
    y: np.ndarray
    hidden_size: int

    @property
    def hs(self) -> np.ndarray:
        """``hs[t]`` is h_t for t = 0..T, time-major view of shape (T + 1, B, H)."""
        return self.blocks[:, : self.hidden_size].transpose(0, 2, 1)

    @property
    def xs(self) -> np.ndarray:
        """The inputs x_1..x_T, time-major view of shape (T, B, D)."""
        return self.blocks[:-1, self.hidden_size + 1 :].transpose(0, 2, 1)

    @property
    def ys(self) -> np.ndarray:
        """The outputs y_1..y_T, time-major view of shape (T, B, O)."""
        return self.y.transpose(1, 0, 2)

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, batch-first view of shape (B, T, H)."""
        return self.blocks[1:, : self.hidden_size].transpose(2, 0, 1)

    @property
    def h0(self) -> np.ndarray:
        """The initial hidden state, shape (B, H)."""
        return self.blocks[0, : self.hidden_size].T


def check_params(params: RNNParams) -> RNNParams:
    """Check that `params` is an RNNParams with finite entries."""
    if not isinstance(params, RNNParams):
        raise ValueError(f"params: expected rnnbook.RNNParams, got {type(params).__name__}")
    for name, a in params.items():
        if not np.isfinite(a).all():
            raise ValueError(f"params.{name}: expected finite values, got NaN or inf")
    return params


# ---------------------------------------------------------------------------------------------
# The public functions: full validation, then the fast code on a fresh workspace.


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
        ``cache.h`` (B, T, H) and ``cache.y`` (B, T, O), plus what backward needs. Its
        arrays belong to this call alone: no later call changes them.
    """
    check_params(params)
    x = validate.float_array("x", x, (None, None, params.input_size), dtype=params.dtype)
    if h0 is not None:
        shape = (x.shape[0], params.hidden_size)
        validate.float_array("h0", h0, shape, dtype=params.dtype)
    return Workspace(params).forward(params, x, h0)


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
    if not isinstance(cache, ForwardCache):
        raise ValueError(f"cache: expected rnnbook.ForwardCache, got {type(cache).__name__}")
    B, T = cache.blocks.shape[2], cache.blocks.shape[0] - 1
    H, O = params.hidden_size, params.output_size
    if cache.blocks.shape[1:] != (H + 1 + params.input_size, B) or cache.hidden_size != H:
        raise ValueError(
            f"cache: expected the forward pass of these parameters (D, H = "
            f"{params.input_size}, {H}), got one with blocks of shape {cache.blocks.shape}"
        )
    validate.float_array("dy", dy, (B, T, O), dtype=params.dtype)
    if dh_T is not None:
        validate.float_array("dh_T", dh_T, (B, H), dtype=params.dtype)
    if truncate is not None:
        validate.size("truncate", truncate)
    return Workspace(params).bptt(params, cache, dy, dh_T, truncate=truncate)


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


# ---------------------------------------------------------------------------------------------
# The workspace: buffers for one shape, and the maths that fills them.


def make_workspace(params: RNNParams) -> Workspace:
    """A :class:`Workspace` for `params`: the fast path of :func:`rnnbook.fit`."""
    check_params(params)
    return Workspace(params)


class Workspace:
    """Buffers allocated once for the forward and backward passes: the fast path.

    ``ws.forward`` and ``ws.bptt`` / ``ws.backward`` compute exactly what :func:`forward`,
    :func:`bptt` and :func:`backward` compute (those run this code on a fresh workspace per
    call), but every array they return lives in the workspace and is overwritten by its
    next call with the same batch shape. They check shapes and dtypes, not values: the
    caller validates its data once (as :func:`rnnbook.fit` does). One workspace keeps
    buffers for every (B, T) it has seen, so a last, smaller minibatch costs one more set.

    Parameters
    ----------
    params : RNNParams
        Sets the sizes D, H, O and the dtype; any parameters of these sizes can be passed
        to the methods later.
    """

    def __init__(self, params: RNNParams) -> None:
        self.D, self.H, self.O = params.input_size, params.hidden_size, params.output_size
        self.dtype = params.dtype
        D, H, O = self.D, self.H, self.O
        self.W_a = np.empty((H, H + 1 + D), self.dtype)  # [W_hh | b_h | W_xh]
        self.W_out = np.empty((O, H + 1), self.dtype)  # [W_hy | b_y]
        self.W_back = np.empty((H, H + O), self.dtype)  # [W_hh^T | W_hy^T]
        self._forward_buffers: dict[tuple[int, int], _ForwardBuffers] = {}
        self._backward_buffers: dict[tuple[int, int], _BackwardBuffers] = {}

    def forward(
        self, params: RNNParams, x: np.ndarray, h0: np.ndarray | None = None
    ) -> ForwardCache:
        """:func:`forward` into this workspace's buffers (see the class)."""
        if x.ndim != 3 or x.shape[2] != self.D or x.dtype != self.dtype:
            raise ValueError(
                f"x: expected shape (B, T, {self.D}) and dtype {self.dtype}, "
                f"got shape {x.shape} and dtype {x.dtype}"
            )
        B, T, _ = x.shape
        buffers = self._forward_buffers.get((B, T))
        if buffers is None:
            buffers = self._forward_buffers[B, T] = _ForwardBuffers(B, T, self)
        H, z = self.H, buffers.blocks
        # x_{s+1} into block s, one column per sequence
        z[:T, H + 1 :] = x.transpose(1, 2, 0)
        if h0 is None:
            z[0, :H] = 0.0
        else:
            z[0, :H] = h0.T
        W_a, W_out = self.W_a, self.W_out
        W_a[:, :H], W_a[:, H] = params.W_hh, params.b_h  # [W_hh | b_h | W_xh]
        W_a[:, H + 1 :] = params.W_xh
        W_out[:, :H], W_out[:, H] = params.W_hy, params.b_y
        _forward_steps(buffers.product, W_a, buffers.steps, buffers.states)
        # W_hy h_t + b_y for all steps at once   (eq-output)
        y = np.matmul(W_out, z[1:, : H + 1], out=buffers.outputs)
        # batch-first and contiguous, for the loss
        buffers.y[...] = y.transpose(2, 0, 1)
        return buffers.cache

    def bptt(
        self,
        params: RNNParams,
        cache: ForwardCache,
        dy: np.ndarray,
        dh_T: np.ndarray | None = None,
        *,
        truncate: int | None = None,
    ) -> tuple[RNNParams, np.ndarray]:
        """:func:`bptt` into this workspace's buffers (see the class)."""
        z, H = cache.blocks, self.H
        B, T = z.shape[2], z.shape[0] - 1
        if dy.shape != (B, T, self.O) or dy.dtype != self.dtype:
            raise ValueError(
                f"dy: expected shape {(B, T, self.O)} and dtype {self.dtype}, "
                f"got shape {dy.shape} and dtype {dy.dtype}"
            )
        buffers = self._backward_buffers.get((B, T))
        if buffers is None:
            buffers = self._backward_buffers[B, T] = _BackwardBuffers(B, T, self)
        g = buffers.blocks
        g[1:, H:] = dy.transpose(1, 2, 0)  # dy_s into block s, one column per sequence
        W_back = self.W_back
        W_back[:, :H], W_back[:, H:] = params.W_hh.T, params.W_hy.T
        dh_T = None if dh_T is None else dh_T.T
        if truncate is not None and truncate < T:
            dtanh = _tanh_derivative(z[1:, :H])  # each 1 - h_t^2 is used up to k times
            dh0 = _backward_truncated(W_back, buffers, dtanh, dh_T, truncate)
        elif buffers.small:  # 1 - h_t^2 for all steps at once, where dz_t will go
            _tanh_derivative(z[1:, :H], out=g[:T, :H])  # (eq-tanh-derivative)
            dh0 = _backward_full(W_back, buffers, None, dh_T)
        else:
            dh0 = _backward_full(W_back, buffers, list(z[1:, :H]), dh_T)
        _sum_of_products(g, z, buffers)  # (eq-param-grads)
        return buffers.grads, dh0.T

    def backward(
        self,
        params: RNNParams,
        cache: ForwardCache,
        dy: np.ndarray,
        dh_T: np.ndarray | None = None,
        *,
        truncate: int | None = None,
    ) -> RNNParams:
        """:func:`backward` into this workspace's buffers (see the class)."""
        grads, _ = self.bptt(params, cache, dy, dh_T, truncate=truncate)
        return grads


class _ForwardBuffers:
    """The step blocks [h_s; 1; x_{s+1}] and outputs of one (B, T), with per-step views."""

    def __init__(self, B: int, T: int, ws: Workspace) -> None:
        H, D, O = ws.H, ws.D, ws.O
        self.blocks = np.empty((T + 1, H + 1 + D, B), ws.dtype)
        self.blocks[:, H] = 1.0  # the row of ones that multiplies b_h and b_y
        self.blocks[T, H + 1 :] = 0.0  # no x_{T+1}
        self.outputs = np.empty((T, O, B), ws.dtype)  # y_{s+1}, feature-major
        self.y = np.empty((B, T, O), ws.dtype)
        self.product = _product_for(H * B)
        self.steps = list(self.blocks)  # [h_s; 1; x_{s+1}], s = 0..T
        self.states = list(self.blocks[:, :H])  # h_s, s = 0..T
        self.cache = ForwardCache(self.blocks, self.y, H)


class _BackwardBuffers:
    """The blocks [dz_{s+1}; dy_s] and the gradient sums of one (B, T), with step views."""

    def __init__(self, B: int, T: int, ws: Workspace) -> None:
        H, D, O, dtype = ws.H, ws.D, ws.O, ws.dtype
        R = H + 1 + D
        self.blocks = np.empty((T + 1, H + O, B), dtype)
        self.blocks[T, :H] = 0.0  # dz_{T+1} = 0: no step after T
        self.blocks[0, H:] = 0.0  # dy_0 = 0: h_0 has no output
        self.small = H * B <= SMALL_BLOCK
        self.product = _product_for(H * B)
        self.dtanh_step = np.empty((H, B), dtype)  # 1 - h^2 of one step (large blocks)
        self.dh = np.empty((H, B), dtype)
        self.steps = list(self.blocks)  # [dz_{s+1}; dy_s], s = 0..T
        self.dz = list(self.blocks[:, :H])  # dz_{s+1}, s = 0..T
        # the products of the blocks, a chunk of steps at a time: at most a quarter of the
        # numbers of the blocks (or 2^15), so that long sequences need little extra memory
        budget = max((T + 1) * (H + O) * B // 4, 2**15)
        self.chunk = max(1, min(T + 1, budget // ((H + O) * R)))
        self.products = np.empty((self.chunk, H + O, R), dtype)
        self.sums = np.empty((H + O, R), dtype)  # [[dW_hh, db_h, dW_xh], [dW_hy, db_y, -]]
        s = self.sums
        self.grads = RNNParams(
            W_xh=s[:H, H + 1 :], W_hh=s[:H, :H], b_h=s[:H, H], W_hy=s[H:, :H], b_y=s[H:, H]
        )


# A step's block of at most this many numbers (H B) fits in the L1 cache
# (32 KiB in float64): then the cost of each NumPy call outweighs the memory
# traffic, otherwise the traffic outweighs the calls. The appendix
# "Performance" measures both sides.
SMALL_BLOCK = 4096


def _product_for(block: int):
    """The matrix product for blocks of `block` numbers: ``np.dot`` costs
    less per call, ``np.matmul`` does not clear its output before writing
    it."""
    return np.dot if block <= SMALL_BLOCK else np.matmul


def _forward_steps(
    product,
    W_a: np.ndarray,
    steps: list,
    states: list,
) -> None:
    """The forward recurrence: h_{s+1} = tanh(W_a [h_s; 1; x_{s+1}]).

    For s = 0..T-1. `steps` are the blocks [h_s; 1; x_{s+1}] (H + 1 + D, B)
    and `states` their first H rows, h_s (H, B); each new state is written
    into the next block. `product` is ``np.dot`` or ``np.matmul`` (see
    ``_product_for``); `W_a` is [W_hh | b_h | W_xh], shape (H, H + 1 + D).
    """
    tanh = np.tanh
    for z_s, h_next in zip(steps, states[1:]):
        # W_hh h_s + b_h + W_xh x_{s+1}   (eq-preactivation)
        product(W_a, z_s, h_next)
        tanh(h_next, h_next)  # (eq-hidden-state)


def _tanh_derivative(h: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 - h**2: the derivative of tanh where its value is h, written into `out`."""
    out = np.multiply(h, h, out=out)
    return np.subtract(1.0, out, out=out)


def _backward_full(
    W_back: np.ndarray,
    buffers: _BackwardBuffers,
    states: list | None,
    dh_T: np.ndarray | None,
) -> np.ndarray:
    """The backward recurrence over all T steps; returns dL/dh_0, shape (H, B).

    Block s + 1 (shape (H + O, B)) holds [dz_{s+2}; dy_{s+1}], so
    ``W_back @ block`` with W_back = [W_hh^T | W_hy^T] (H, H + O) is the
    total dL/dh_{s+1}: what flows back from step s + 2 plus the immediate
    partial through y_{s+1} (dz_{T+1} = 0). Times 1 - h_{s+1}^2 it is
    dz_{s+1}, which goes into block s, ready for the next product. With
    `states` (h_1..h_T, each (H, B), for large blocks) 1 - h^2 is formed step
    by step, while it is in cache; without, block s holds 1 - h_{s+1}^2
    already (formed for all steps at once) and the multiplication overwrites
    it with dz_{s+1}. `dh_T` (H, B) joins dL/dh_T from a later chunk.
    """
    steps, dz, dh = buffers.steps, buffers.dz, buffers.dh
    product, multiply, T = buffers.product, np.multiply, len(dz) - 1
    for s in range(T - 1, -1, -1):
        # dL/dh_{s+1}   (eq-bptt-recurrence)
        product(W_back, steps[s + 1], dh)
        if s == T - 1 and dh_T is not None:
            dh += dh_T  # from a later chunk, through h_T
        if states is None:
            dtanh = dz[s]
        else:  # (eq-tanh-derivative)
            dtanh = _tanh_derivative(states[s], out=buffers.dtanh_step)
        # dz_{s+1} = dL/da_{s+1}   (eq-tanh-derivative)
        multiply(dh, dtanh, dz[s])
    # dL/dh_0 = W_hh^T dz_1, as dy_0 = 0   (eq-jacobian)
    return product(W_back, steps[0])


def _backward_truncated(
    W_back: np.ndarray,
    buffers: _BackwardBuffers,
    dtanh: np.ndarray,
    dh_T: np.ndarray | None,
    k: int,
) -> np.ndarray:
    """Truncated BPTT: each L_t is backpropagated through at most k steps; returns dL/dh_0.

    This is the double sum of (eq-dW-hh-double-sum) with only the terms t - j < k kept;
    it costs O(T k) instead of O(T). The dz_j of all loss terms add up in the blocks;
    `dtanh` (T, H, B) holds 1 - h_t^2 for every step.
    """
    H = W_back.shape[0]
    W_hh_T, W_hy_T = W_back[:, :H], W_back[:, H:]
    steps, dz = buffers.steps, buffers.dz
    T = len(dtanh)
    for s in range(T):
        dz[s][...] = 0.0
    dh0 = np.zeros_like(buffers.dh)
    dz_j = np.empty_like(buffers.dh)
    for t in range(1, T + 1):
        dh = W_hy_T @ steps[t][H:]  # dL_t/dh_t   (eq-dL-dh-direct)
        if t == T and dh_T is not None:
            dh += dh_T  # the later chunk's gradient is truncated with L_T's
        for j in range(t, max(t - k, 0), -1):  # steps t, t-1, ..., t-k+1
            np.multiply(dh, dtanh[j - 1], out=dz_j)  # (eq-tanh-derivative)
            dz[j - 1] += dz_j
            dh = W_hh_T @ dz_j  # one more Jacobian factor: dL_t/dh_{j-1}   (eq-jacobian)
        if t - k < 1:  # the window reached step 1, so it reaches h_0 too
            dh0 += dh
    return dh0


def _sum_of_products(
    g: np.ndarray,
    z: np.ndarray,
    buffers: _BackwardBuffers,
) -> None:
    """All five gradients at once into ``buffers.sums`` (H + O, H + 1 + D).

    The sum over s of [dz_{s+1}; dy_s] [h_s; 1; x_{s+1}]^T, with `g` the
    blocks [dz_{s+1}; dy_s] (T + 1, H + O, B) and `z` the blocks
    [h_s; 1; x_{s+1}] (T + 1, H + 1 + D, B). Its first H rows are
    [dW_hh | db_h | dW_xh] = sum_t dz_t [h_{t-1}; 1; x_t]^T, its last O rows
    start with [dW_hy | db_y] = sum_t dy_t [h_t; 1]^T (eq-param-grads); the
    row of ones turns the bias gradients into columns of the same product.
    Block T adds nothing to the first (dz_{T+1} = 0), block 0 nothing to the
    second (dy_0 = 0). Long sequences are summed a chunk of steps at a time.
    """
    chunk, products, sums = buffers.chunk, buffers.products, buffers.sums
    zT = z.transpose(0, 2, 1)
    n = g.shape[0]
    if chunk >= n:
        np.sum(np.matmul(g, zT, out=products), axis=0, out=sums)
        return
    sums[...] = 0.0
    for first in range(0, n, chunk):
        last = first + chunk
        part = products[: min(chunk, n - first)]
        np.matmul(g[first:last], zT[first:last], out=part)
        sums += part.sum(axis=0)


# ---------------------------------------------------------------------------------------------
# Speed helpers for cells stored batch-first (rnnbook.gru, rnnbook.lstm use them).


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
