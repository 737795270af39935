"""Weight initialization: Xavier (Glorot), orthogonal, scaled normal; spectral helpers.

Glorot & Bengio (2010) choose the weight variance so that activations and
gradients keep their variance from layer to layer:

    Var(W) = 2 / (fan_in + fan_out)                        (eq-xavier)

A uniform distribution on [-a, a] has variance a^2 / 3, hence a = sqrt(6 / (fan_in + fan_out)).
"""

from __future__ import annotations

import numpy as np

from . import validate
from .rnn import RNNParams

SCHEMES = ("xavier", "xavier_normal", "orthogonal", "normal", "identity")


def xavier_uniform(fan_out: int, fan_in: int, rng: np.random.Generator) -> np.ndarray:
    """A (fan_out, fan_in) matrix from U[-a, a] with a = sqrt(6 / (fan_in + fan_out))."""
    a = np.sqrt(6.0 / (fan_in + fan_out))  # variance a^2/3 = (eq-xavier)
    return rng.uniform(-a, a, size=(fan_out, fan_in))


def xavier_normal(fan_out: int, fan_in: int, rng: np.random.Generator) -> np.ndarray:
    """A (fan_out, fan_in) matrix from N(0, 2 / (fan_in + fan_out))."""
    std = np.sqrt(2.0 / (fan_in + fan_out))  # (eq-xavier)
    return rng.normal(0.0, std, size=(fan_out, fan_in))


def orthogonal(n: int, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """An (n, n) random orthogonal matrix times `gain` (Saxe et al., 2014).

    QR of a Gaussian matrix, with the signs of R's diagonal folded into Q so
    that Q is uniformly (Haar) distributed. All singular values equal `gain`.
    """
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return gain * q * np.sign(np.diag(r))


def scaled_normal(fan_out: int, fan_in: int, std: float, rng: np.random.Generator) -> np.ndarray:
    """A (fan_out, fan_in) matrix from N(0, std^2)."""
    return rng.normal(0.0, std, size=(fan_out, fan_in))


def spectral_radius(W: np.ndarray) -> float:
    """max |lambda_i(W)|: decides the growth of W^k in the long run."""
    W = validate.float_array("W", W, (None, None))
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def largest_singular_value(W: np.ndarray) -> float:
    """sigma_max(W) = ||W||_2: bounds how much W can stretch any vector."""
    W = validate.float_array("W", W, (None, None))
    return float(np.linalg.norm(W, ord=2))


def init_params(
    input_size: int,
    hidden_size: int,
    output_size: int,
    scheme: str = "xavier",
    rng: np.random.Generator | None = None,
    *,
    std: float = 0.01,
    gain: float = 1.0,
    dtype: type | np.dtype = np.float64,
) -> RNNParams:
    """Initial parameters of an RNN; biases are zero.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        D, H and O.
    scheme : {"xavier", "xavier_normal", "orthogonal", "normal", "identity"}
        ``"xavier"`` (uniform) and ``"xavier_normal"`` apply (eq-xavier) to every
        matrix; ``"orthogonal"`` and ``"identity"`` (Le et al., 2015) set W_hh to
        `gain` times an orthogonal or the identity matrix and use Xavier
        uniform for W_xh and W_hy; ``"normal"`` draws every matrix from N(0, std^2).
    rng : numpy.random.Generator
        The only source of randomness, e.g. ``np.random.default_rng(0)``.
    std : float
        Standard deviation for ``scheme="normal"``.
    gain : float
        Scale of W_hh for ``"orthogonal"`` and ``"identity"``.
    dtype : float32 or float64
        The dtype of all arrays.

    Returns
    -------
    RNNParams
        W_xh (H, D), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,).
    """
    D = validate.size("input_size", input_size)
    H = validate.size("hidden_size", hidden_size)
    O = validate.size("output_size", output_size)
    rng = validate.generator("rng", rng)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme: expected one of {SCHEMES}, got {scheme!r}")
    if np.dtype(dtype) not in validate.FLOAT_DTYPES:
        raise ValueError(f"dtype: expected float32 or float64, got {np.dtype(dtype)}")

    if scheme == "normal":
        validate.positive("std", std)
        W_xh, W_hh = scaled_normal(H, D, std, rng), scaled_normal(H, H, std, rng)
        W_hy = scaled_normal(O, H, std, rng)
    else:
        draw = xavier_normal if scheme == "xavier_normal" else xavier_uniform
        W_xh, W_hh, W_hy = draw(H, D, rng), draw(H, H, rng), draw(O, H, rng)
        if scheme == "orthogonal":
            W_hh = orthogonal(H, rng, validate.positive("gain", gain))
        elif scheme == "identity":
            W_hh = validate.positive("gain", gain) * np.eye(H)
    params = RNNParams(W_xh=W_xh, W_hh=W_hh, b_h=np.zeros(H), W_hy=W_hy, b_y=np.zeros(O))
    return params.astype(dtype)
