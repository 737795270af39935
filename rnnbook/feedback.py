"""An RNN trained through its own feedback path: teacher forcing, free running, and between.

A next-step predictor is usually trained with *teacher forcing*: at every step it
reads the true value s_t. To forecast, it must instead read its own previous
output (*free running*, :func:`rnnbook.generate`). This module runs both in one
forward pass. Each step has a flag m_t in [0, 1] that says which input the network
reads:

    x~_t = m_t x_t + (1 - m_t) y_{t-1}                      (eq-feedback-input)
    h_t  = tanh(W_hh h_{t-1} + W_xh x~_t + b_h),  y_t = W_hy h_t + b_y

m_t = 1 everywhere is teacher forcing (the ordinary RNN); m_t = 1 for a prompt and
0 after it is free running; random flags are scheduled sampling. Where m_{t+1} < 1
the output y_t is also an input, so the gradient of the loss reaches y_t both
directly and through every later step (eq-feedback-grad):

    dL/dy_t (total) = dL_t/dy_t + (1 - m_{t+1}) W_xh^T dz_{t+1}
    dL/dh_t (total) = W_hy^T dL/dy_t (total) + W_hh^T dz_{t+1}

with dz_t = dL/da_t the gradient of the pre-activation. In a free-running stretch
the Jacobian of one step is therefore diag(1 - h_{t+1}^2) (W_hh + W_xh W_hy): the
feedback path adds W_xh W_hy to the recurrence (eq-closed-loop-jacobian).

The inputs carry the flags as one extra channel, ``x[..., D]``, so that
:func:`rnnbook.fit` can shuffle and batch them like any other inputs.

>>> import numpy as np, rnnbook as rb
>>> rng = np.random.default_rng(0)
>>> params = rb.feedback.from_rnn(rb.init_params(1, 8, 1, rng=rng))
>>> s = rng.normal(size=(4, 10, 1))
>>> x = rb.feedback.prompted(s, prompt=3)  # 3 observed values, then free running
>>> x.shape, rb.feedback.forward(params, x).y.shape
((4, 10, 2), (4, 10, 1))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from .rnn import RNNParams, _matmul, check_params


@dataclass
class FeedbackParams(RNNParams):
    """The five arrays of a vanilla RNN whose output can be fed back as its input (O = D).

    The same fields as :class:`rnnbook.RNNParams` (it is one, so :func:`rnnbook.forward`
    and :func:`rnnbook.generate` accept it); only its ``forward`` and ``backward``,
    found by :func:`rnnbook.fit` in this module, read the feedback flags.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.output_size != self.input_size:
            raise ValueError(
                f"params: expected output_size == input_size to feed outputs back, got "
                f"O={self.output_size}, D={self.input_size}"
            )


def from_rnn(params: RNNParams) -> FeedbackParams:
    """The same weights as a :class:`FeedbackParams` (copied), e.g. from ``rb.init_params``."""
    check_params(params)
    return FeedbackParams(**{name: a.copy() for name, a in params.items()})


@dataclass(frozen=True)
class FeedbackCache:
    """What :func:`forward` keeps: the inputs the network actually read, and the flags.

    Attributes
    ----------
    xs : ndarray, shape (T, B, D)
        x~_t of (eq-feedback-input), time-major: observed values or fed-back outputs.
    hs : ndarray, shape (T + 1, B, H)
        h_0..h_T, time-major.
    ys : ndarray, shape (T, B, D)
        y_1..y_T, time-major.
    observed : ndarray, shape (T, B, 1)
        The flags m_t.

    ``y`` (B, T, D) and ``h`` (B, T, H) are batch-first views, as in
    :class:`rnnbook.ForwardCache`.
    """

    xs: np.ndarray
    hs: np.ndarray
    ys: np.ndarray
    observed: np.ndarray

    @property
    def y(self) -> np.ndarray:
        """The outputs y_1..y_T, batch-first view of shape (B, T, D) (what the loss reads)."""
        return self.ys.transpose(1, 0, 2)

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, batch-first view of shape (B, T, H)."""
        return self.hs[1:].transpose(1, 0, 2)


def prompted(s: np.ndarray, prompt: int | np.ndarray) -> np.ndarray:
    """Inputs with flags: observe the first `prompt` values of `s`, then run free.

    Parameters
    ----------
    s : ndarray, shape (B, T, D)
        The observed sequences (the values after the prompt are ignored).
    prompt : int or ndarray of int, shape (B,)
        P, the number of observed steps (1 <= P <= T), one for all or one per sequence.

    Returns
    -------
    ndarray, shape (B, T, D + 1)
        ``[..., :D]`` is `s`, ``[..., D]`` the flag m_t = 1 for t < P and 0 after.
    """
    s = validate.float_array("s", s, (None, None, None))
    B, T, _ = s.shape
    prompt = np.broadcast_to(np.asarray(prompt), (B,))
    if not np.issubdtype(prompt.dtype, np.integer) or prompt.min() < 1 or prompt.max() > T:
        raise ValueError(f"prompt: expected integers in [1, T = {T}], got {prompt!r}")
    flags = (np.arange(T)[None, :] < prompt[:, None]).astype(s.dtype)
    return np.concatenate([s, flags[:, :, None]], axis=2)


def forward(params: FeedbackParams, x: np.ndarray, h0: np.ndarray | None = None) -> FeedbackCache:
    """Run the RNN, reading at each step the observed value or its own last output.

    Parameters
    ----------
    params : FeedbackParams
    x : ndarray, shape (B, T, D + 1)
        Observed values ``x[..., :D]`` and flags ``x[..., D]`` in [0, 1] (see
        :func:`prompted`); the first step must be observed (m_1 = 1).
    h0 : ndarray, shape (B, H), optional
        Initial hidden state; zeros by default.

    Returns
    -------
    FeedbackCache
        ``.y`` (B, T, D) the outputs, ``.h`` (B, T, H) the states.
    """
    check_params(params)
    D, H = params.input_size, params.hidden_size
    x = validate.float_array("x", x, (None, None, D + 1), dtype=params.dtype)
    B, T, _ = x.shape
    xs = np.ascontiguousarray(x.transpose(1, 0, 2))  # time-major (T, B, D + 1)
    values, m = xs[:, :, :D], xs[:, :, D:]
    if m.min() < 0 or m.max() > 1 or np.any(m[0] != 1):
        raise ValueError("x: expected flags x[..., D] in [0, 1], with 1 at the first step")
    hs = np.empty((T + 1, B, H), dtype=params.dtype)
    hs[0] = 0.0 if h0 is None else validate.float_array("h0", h0, (B, H), dtype=params.dtype)
    inputs = values * m  # m_t x_t; the fed-back part is added step by step
    ys = np.empty((T, B, D), dtype=params.dtype)
    W_hh_T, W_xh_T = params.W_hh.T.copy(), params.W_xh.T.copy()
    W_hy_T = params.W_hy.T.copy()
    for t in range(T):
        if t > 0:
            inputs[t] += (1 - m[t]) * ys[t - 1]  # (eq-feedback-input)
        a = hs[t] @ W_hh_T
        a += _matmul(inputs[t], W_xh_T)
        a += params.b_h
        np.tanh(a, out=hs[t + 1])  # (eq-hidden-state)
        np.matmul(hs[t + 1], W_hy_T, out=ys[t])
        ys[t] += params.b_y  # (eq-output)
    return FeedbackCache(xs=inputs, hs=hs, ys=ys, observed=m)


def bptt(
    params: FeedbackParams, cache: FeedbackCache, dy: np.ndarray
) -> tuple[FeedbackParams, np.ndarray]:
    """BPTT through the recurrence and the feedback path y_t -> x~_{t+1}.

    Parameters
    ----------
    params : FeedbackParams
    cache : FeedbackCache
        What :func:`forward` returned.
    dy : ndarray, shape (B, T, D)
        dL_t/dy_t, the loss's own gradient at each output (e.g. :func:`rnnbook.mse_loss`).

    Returns
    -------
    grads : FeedbackParams
        dL/dW_xh, dL/dW_hh, dL/db_h, dL/dW_hy, dL/db_y.
    dh0 : ndarray, shape (B, H)
        dL/dh_0.
    """
    check_params(params)
    T, B, D = cache.xs.shape
    dy = validate.float_array("dy", dy, (B, T, D), dtype=params.dtype)
    dys = dy.transpose(1, 0, 2)  # time-major
    h, m = cache.hs[1:], cache.observed
    dz = np.empty((T, B, params.hidden_size), dtype=params.dtype)  # dL/da_t
    dy_total = dys.copy()  # dL/dy_t, through the loss and then also the feedback path
    feedback = 1 - m  # how much step t reads y_{t-1}
    for t in reversed(range(T)):
        dh = _matmul(dy_total[t], params.W_hy)  # through y_t
        if t + 1 < T:
            dh += dz[t + 1] @ params.W_hh  # through h_{t+1}
        np.multiply(dh, 1 - h[t] ** 2, out=dz[t])  # (eq-tanh-derivative)
        if t > 0:  # y_{t-1} was read at step t with weight 1 - m_t
            dy_total[t - 1] += feedback[t] * (dz[t] @ params.W_xh)  # (eq-feedback-grad)
    dz2, dy2 = dz.reshape(T * B, -1), dy_total.reshape(T * B, D)
    grads = FeedbackParams(
        W_xh=dz2.T @ cache.xs.reshape(T * B, D),  # sum_t dz_t x~_t^T
        W_hh=dz2.T @ cache.hs[:-1].reshape(T * B, -1),  # sum_t dz_t h_{t-1}^T
        b_h=dz2.sum(axis=0),
        W_hy=dy2.T @ h.reshape(T * B, -1),  # sum_t (total dL/dy_t) h_t^T
        b_y=dy2.sum(axis=0),
    )
    return grads, dz[0] @ params.W_hh


def backward(params: FeedbackParams, cache: FeedbackCache, dy: np.ndarray) -> FeedbackParams:
    """The gradients of :func:`bptt` without dL/dh_0 (what :func:`rnnbook.fit` calls)."""
    return bptt(params, cache, dy)[0]
