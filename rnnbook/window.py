"""A windowed MLP: the nonlinear reference without recurrence.

At step t the network sees the last K inputs, zero-padded before the start of the
sequence, each with a mask bit that says whether that input exists (so a padded
zero is not mistaken for a measured zero)::

    z_t = [(x_t, m_t), (x_{t-1}, m_{t-1}), ..., (x_{t-K+1}, m_{t-K+1})]
    with m_j = 1 and x_j as given for j >= 0, m_j = x_j = 0 for j < 0   (eq-window-features)
    h_t = tanh(W_zh z_t + b_h)                                          (eq-window-hidden)
    y_t = W_hy h_t + b_y                                                (eq-window-output)

Nothing is carried from one step to the next: with K >= T the window holds the
whole history, exactly what an RNN started from h_0 = 0 has read, so the only
difference from the RNN is the recurrence. The module has the same interface as
:mod:`rnnbook.rnn` (a :class:`rnnbook.params.Params` dataclass, ``forward`` and
``backward``), so :func:`rnnbook.fit`, :func:`rnnbook.train_run`,
:func:`rnnbook.gradcheck`, clipping and the optimizers work on it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from .init import xavier_uniform
from .params import Params


@dataclass
class WindowParams(Params):
    """The parameters of a windowed MLP (or their gradients).

    Attributes
    ----------
    W_zh : ndarray, shape (H, K, D + 1)
        Weights from the window to the hidden units: for each lag j = 0..K-1, D
        weights for the input x_{t-j} and one for its mask bit.
    b_h : ndarray, shape (H,)
    W_hy : ndarray, shape (O, H)
    b_y : ndarray, shape (O,)
    """

    W_zh: np.ndarray
    b_h: np.ndarray
    W_hy: np.ndarray
    b_y: np.ndarray

    def __post_init__(self) -> None:
        W_zh = validate.float_array("W_zh", self.W_zh, (None, None, None), finite=False)
        H, dtype = W_zh.shape[0], W_zh.dtype
        if W_zh.shape[2] < 2:
            raise ValueError(f"W_zh: expected shape (H, K, D + 1) with D >= 1, got {W_zh.shape}")
        W_hy = validate.float_array("W_hy", self.W_hy, (None, H), dtype=dtype, finite=False)
        validate.float_array("b_h", self.b_h, (H,), dtype=dtype, finite=False)
        validate.float_array("b_y", self.b_y, (W_hy.shape[0],), dtype=dtype, finite=False)

    @property
    def window(self) -> int:
        """K, the number of inputs the network sees at each step."""
        return self.W_zh.shape[1]

    @property
    def input_size(self) -> int:
        """D, the size of each input vector x_t."""
        return self.W_zh.shape[2] - 1

    @property
    def hidden_size(self) -> int:
        """H, the number of hidden units."""
        return self.W_zh.shape[0]

    @property
    def output_size(self) -> int:
        """O, the size of each output vector y_t."""
        return self.W_hy.shape[0]


@dataclass(frozen=True)
class WindowCache:
    """What the forward pass keeps for the backward pass.

    Attributes
    ----------
    z : ndarray, shape (B, T, K, D + 1)
        The windows of (eq-window-features).
    h : ndarray, shape (B, T, H)
        The hidden units.
    y : ndarray, shape (B, T, O)
        The outputs.
    """

    z: np.ndarray
    h: np.ndarray
    y: np.ndarray


def init_window(
    input_size: int,
    hidden_size: int,
    output_size: int,
    window: int,
    rng: np.random.Generator | None = None,
    *,
    dtype: type | np.dtype = np.float64,
) -> WindowParams:
    """Initial parameters of a windowed MLP: Xavier uniform weights, zero biases.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        D, H and O.
    window : int
        K, the number of past inputs seen at each step (K = T sees the whole history).
    rng : numpy.random.Generator
    dtype : float32 or float64

    Returns
    -------
    WindowParams
        W_zh (H, K, D + 1), b_h (H,), W_hy (O, H), b_y (O,).
    """
    D = validate.size("input_size", input_size)
    H = validate.size("hidden_size", hidden_size)
    O = validate.size("output_size", output_size)
    K = validate.size("window", window)
    rng = validate.generator("rng", rng)
    if np.dtype(dtype) not in validate.FLOAT_DTYPES:
        raise ValueError(f"dtype: expected float32 or float64, got {np.dtype(dtype)}")
    W_zh = xavier_uniform(H, K * (D + 1), rng).reshape(H, K, D + 1)  # fan-in K (D + 1)
    W_hy = xavier_uniform(O, H, rng)
    params = WindowParams(W_zh=W_zh, b_h=np.zeros(H), W_hy=W_hy, b_y=np.zeros(O))
    return params.astype(dtype)


def window_features(x: np.ndarray, window: int) -> np.ndarray:
    """The windows z_t of (eq-window-features) for every step, shape (B, T, K, D + 1).

    ``z[:, t, j, :D]`` is x_{t-j} (zero before the start) and ``z[:, t, j, D]`` its mask
    bit, 1 if step t - j exists.
    """
    x = validate.float_array("x", x, (None, None, None))
    K = validate.size("window", window)
    B, T, D = x.shape
    padded = np.concatenate([np.zeros((B, K - 1, D), dtype=x.dtype), x], axis=1)
    # windows[:, t, :, i] = padded[:, t + i] = x_{t + i - K + 1}; reversed, lag j = K - 1 - i
    windows = np.lib.stride_tricks.sliding_window_view(padded, K, axis=1)[..., ::-1]
    z = np.empty((B, T, K, D + 1), dtype=x.dtype)
    z[..., :D] = windows.transpose(0, 1, 3, 2)
    z[..., D] = np.arange(T)[:, None] >= np.arange(K)  # m: step t - j exists
    return z


def _check(params: WindowParams) -> WindowParams:
    if not isinstance(params, WindowParams):
        raise ValueError(f"params: expected rnnbook.WindowParams, got {type(params).__name__}")
    for name, a in params.items():
        if not np.isfinite(a).all():
            raise ValueError(f"params.{name}: expected finite values, got NaN or inf")
    return params


def forward(params: WindowParams, x: np.ndarray, h0: None = None) -> WindowCache:
    """Run the windowed MLP at every step of a batch of sequences.

    Parameters
    ----------
    params : WindowParams
    x : ndarray, shape (B, T, D)
        Same dtype as `params`.
    h0 : None
        There is no state to start from; only ``None`` is accepted (the argument
        exists so that every model is called the same way).

    Returns
    -------
    WindowCache
        ``cache.y`` (B, T, O), plus the windows and hidden units for :func:`backward`.
    """
    _check(params)
    if h0 is not None:
        raise ValueError("h0: a windowed MLP has no hidden state to start from; expected None")
    x = validate.float_array("x", x, (None, None, params.input_size), dtype=params.dtype)
    z = window_features(x, params.window)  # (eq-window-features)
    # the sum over lags and channels as one BLAS product (einsum would not use BLAS)
    h = np.tanh(np.tensordot(z, params.W_zh, ([2, 3], [1, 2])) + params.b_h)  # (eq-window-hidden)
    y = h @ params.W_hy.T + params.b_y  # (eq-window-output)
    return WindowCache(z=z, h=h, y=y)


def backward(
    params: WindowParams, cache: WindowCache, dy: np.ndarray, *, truncate: None = None
) -> WindowParams:
    """Gradients of the loss for all four parameters.

    Parameters
    ----------
    params : WindowParams
    cache : WindowCache
        What :func:`forward` returned for these parameters.
    dy : ndarray, shape (B, T, O)
        dL/dy for every step, e.g. from :func:`rnnbook.mse_loss`.
    truncate : None
        Only ``None``: there is no recurrence to truncate.

    Returns
    -------
    WindowParams
    """
    _check(params)
    if truncate is not None:
        raise ValueError("truncate: a windowed MLP has no recurrence to truncate; expected None")
    dy = validate.float_array("dy", dy, cache.y.shape, dtype=params.dtype)
    da = (dy @ params.W_hy) * (1.0 - cache.h**2)  # dL/d(W_zh z_t + b_h), through tanh
    return WindowParams(
        W_zh=np.tensordot(da, cache.z, ([0, 1], [0, 1])),  # sum_t da_t z_t^T
        b_h=da.sum(axis=(0, 1)),
        W_hy=np.tensordot(dy, cache.h, ([0, 1], [0, 1])),  # sum_t dy_t h_t^T
        b_y=dy.sum(axis=(0, 1)),
    )
