"""Weight initialization: Xavier (Glorot), orthogonal, scaled normal, PyTorch's default;
spectral helpers; the mean-field edge of chaos.

Glorot & Bengio (2010) choose the weight variance so that activations and
gradients keep their variance from layer to layer:

    Var(W) = 2 / (fan_in + fan_out)                        (eq-xavier)

A uniform distribution on [-a, a] has variance a^2 / 3, hence a = sqrt(6 / (fan_in + fan_out)).

For the square recurrent matrix that is Var(W_hh) = 1/H. As H grows, the
empirical distribution of its eigenvalues tends to the uniform law on the unit
disk (the circular law; Tao, Vu & Krishnapur 2010), its spectral radius tends
to 1 (a separate theorem: Geman 1986; Bai & Yin 1986; Bordenave, Caputo, Chafai
& Tikhomirov 2018) and its largest singular value to 2 (Geman 1980; Yin, Bai &
Krishnaiah 1988). At finite H the spectral radius overshoots 1 (Rider 2003).

Whether a *tanh* recurrence sits at the edge between vanishing and exploding
gradients is not decided by the spectral radius but by the mean-field
criterion chi = gain^2 E[tanh'(u)^2] = 1 (Sompolinsky, Crisanti & Sommers
1988; Poole et al. 2016; Chen, Pennington & Schoenholz 2018): see
:func:`mean_field` and :func:`critical_gain`.
"""

from __future__ import annotations

import functools

import numpy as np

from . import validate
from .rnn import RNNParams

SCHEMES = ("xavier", "xavier_normal", "orthogonal", "normal", "identity", "pytorch")


def xavier_uniform(
    fan_out: int,
    fan_in: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """A (fan_out, fan_in) matrix from U[-a, a].

    a = sqrt(6 / (fan_in + fan_out)).
    """
    a = np.sqrt(6.0 / (fan_in + fan_out))  # variance a^2/3 = (eq-xavier)
    return rng.uniform(-a, a, size=(fan_out, fan_in))


def xavier_normal(
    fan_out: int,
    fan_in: int,
    rng: np.random.Generator,
) -> np.ndarray:
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


def pytorch_default(
    input_size: int,
    hidden_size: int,
    output_size: int,
    rng: np.random.Generator,
) -> RNNParams:
    """PyTorch's default init of ``nn.RNN`` followed by ``nn.Linear``.

    ``nn.RNN`` draws every weight and bias from U[-k, k] with k = 1/sqrt(H),
    in the order weight_ih, weight_hh, bias_ih, bias_hh; its two biases add
    up to b_h. ``nn.Linear(H, O)`` draws its weight and bias from
    U[-1/sqrt(H), 1/sqrt(H)] as well (``kaiming_uniform_`` with
    ``a = sqrt(5)``). So Var(W_hh) = 1/(3H): a gain of 1/sqrt(3) compared
    with Xavier's 1/H.

    Returns
    -------
    RNNParams
        W_xh (H, D), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,).
    """
    D, H, O = input_size, hidden_size, output_size
    k = 1.0 / np.sqrt(H)
    W_xh = rng.uniform(-k, k, size=(H, D))
    W_hh = rng.uniform(-k, k, size=(H, H))
    b_ih, b_hh = rng.uniform(-k, k, size=H), rng.uniform(-k, k, size=H)
    b_h = b_ih + b_hh
    W_hy = rng.uniform(-k, k, size=(O, H))
    b_y = rng.uniform(-k, k, size=O)
    return RNNParams(W_xh=W_xh, W_hh=W_hh, b_h=b_h, W_hy=W_hy, b_y=b_y)


def spectral_radius(W: np.ndarray) -> float:
    """max |lambda_i(W)|: decides the growth of W^k in the long run."""
    W = validate.float_array("W", W, (None, None))
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def largest_singular_value(W: np.ndarray) -> float:
    """sigma_max(W) = ||W||_2: bounds how much W can stretch any vector."""
    W = validate.float_array("W", W, (None, None))
    return float(np.linalg.norm(W, ord=2))


@functools.cache
def _hermite_nodes(n: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of Gauss-Hermite quadrature for z ~ N(0, 1) (weights sum to 1)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)  # weight function exp(-z^2 / 2)
    return z, w / w.sum()


def _gaussian_mean(f, q: float) -> float:
    """E[f(sqrt(q) z)] for z ~ N(0, 1), by Gauss-Hermite quadrature."""
    z, w = _hermite_nodes()
    return float(w @ f(np.sqrt(q) * z))


def mean_field(
    gain: float,
    input_variance: float = 0.0,
) -> tuple[float, float]:
    """Mean-field fixed point of a wide random tanh RNN, and its factor chi.

    With W_hh of second moments gain^2 / H per entry (Xavier: gain 1; an
    orthogonal matrix times `gain` has the same) and an input term W_xh x_t of
    variance `input_variance` per unit, the pre-activations u = W_hh h + W_xh x
    of a wide network are Gaussian with the variance q* that solves

        q = gain^2 E[tanh(sqrt(q) z)^2] + input_variance   (eq-mf-variance)

    with z ~ N(0, 1), and one step of BPTT multiplies the squared norm of a
    gradient by, on average,

        chi = gain^2 E[tanh'(sqrt(q*) z)^2]                (eq-mf-chi)

    chi < 1 is the ordered phase (gradients vanish), chi > 1 the chaotic one
    (they explode); chi = 1 is the edge of chaos (Sompolinsky, Crisanti &
    Sommers 1988; Poole et al. 2016; Chen, Pennington & Schoenholz 2018).

    Parameters
    ----------
    gain : float
        sqrt(H Var(W_hh)), > 0.
    input_variance : float
        Variance of each unit's input term, >= 0.

    Returns
    -------
    (q, chi) : tuple of float
        The fixed point q* of (eq-mf-variance) (the stable one) and chi
        of (eq-mf-chi).
    """
    g2 = validate.positive("gain", gain) ** 2
    c = validate.positive("input_variance", input_variance, allow_zero=True)

    def excess(q: float) -> float:
        """Right-hand side of (eq-mf-variance) minus q."""
        return g2 * _gaussian_mean(lambda u: np.tanh(u) ** 2, q) + c - q

    if c == 0 and g2 <= 1:
        q = 0.0  # the only fixed point: the state decays to zero
    else:  # excess(lo) > 0 > excess(hi): bisect
        lo, hi = (c, g2 + c) if c > 0 else (1e-12, g2)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
        q = 0.5 * (lo + hi)

    def tanh_prime_squared(u: np.ndarray) -> np.ndarray:
        return (1 - np.tanh(u) ** 2) ** 2

    chi = g2 * _gaussian_mean(tanh_prime_squared, q)  # (eq-mf-chi)
    return q, chi


def critical_gain(input_variance: float = 0.0) -> float:
    """The gain at which chi of :func:`mean_field` equals 1: the edge of chaos.

    1 without input; above 1 with input, because the input keeps the units
    away from zero, where tanh' < 1 (Poole et al. 2016).
    """
    c = validate.positive("input_variance", input_variance, allow_zero=True)
    if c == 0:
        return 1.0
    lo, hi = 1.0, 2.0
    while mean_field(hi, c)[1] < 1:
        lo, hi = hi, 2 * hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mean_field(mid, c)[1] < 1 else (lo, mid)
    return 0.5 * (lo + hi)


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
    """Initial parameters of an RNN; biases are zero except for ``"pytorch"``.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        D, H and O.
    scheme : {"xavier", "xavier_normal", "orthogonal", "normal", "identity", "pytorch"}
        ``"xavier"`` (uniform) and ``"xavier_normal"`` apply (eq-xavier) to every
        matrix; ``"orthogonal"`` and ``"identity"`` (Le et al., 2015) set W_hh to
        `gain` times an orthogonal or the identity matrix and use Xavier
        uniform for W_xh and W_hy (``"orthogonal"`` is Keras's default for
        ``SimpleRNN``); ``"normal"`` draws every matrix from N(0, std^2);
        ``"pytorch"`` is PyTorch's default (:func:`pytorch_default`), the only
        scheme with non-zero biases.
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

    if scheme == "pytorch":
        return pytorch_default(D, H, O, rng).astype(dtype)
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
