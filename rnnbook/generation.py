"""Closed-loop generation: feed the model's own predictions back as its next inputs.

A next-step predictor reads the true s_t and predicts s_{t+1}. To forecast further,
read a prompt s_0..s_{T0-1}, then feed each prediction back in place of the
unknown true value: s^_{t+1} = f(s^_t, state). Errors now compound, so how long the
forecast stays close to the truth measures what the model has really learned.
"""

from __future__ import annotations

import numpy as np

from . import validate
from .rnn import RNNParams, forward


def generate(
    params: RNNParams,
    prompt: np.ndarray,
    steps: int,
    h0: np.ndarray | None = None,
    *,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Read `prompt`, then run `steps` steps on the RNN's own predictions.

    Parameters
    ----------
    params : RNNParams
        An RNN whose output predicts its next input, so O = D.
    prompt : ndarray, shape (B, T0, D)
        The observed beginning s_0..s_{T0-1} of each sequence, T0 >= 1.
    steps : int
        How many values to forecast.
    h0 : ndarray, shape (B, H), optional
        Initial hidden state; zeros by default.
    noise : float
        If positive, every fed-back prediction gets Gaussian noise of this standard
        deviation before the network reads it (the forecasts returned are the
        network's outputs, without the noise): fed-back values then look as noisy as
        the observed inputs the network was trained on.
    rng : numpy.random.Generator, optional
        Draws that noise; required when `noise` > 0.

    Returns
    -------
    ndarray, shape (B, steps, D)
        The forecasts of s_{T0}, ..., s_{T0+steps-1}. The first is the ordinary
        next-step prediction after the prompt; every later one was computed from
        forecasts only.
    """
    if params.output_size != params.input_size:
        raise ValueError(
            f"params: expected output_size == input_size to feed outputs back, got "
            f"O={params.output_size}, D={params.input_size}"
        )
    steps = validate.size("steps", steps)
    validate.positive("noise", noise, allow_zero=True)
    if noise > 0:
        rng = validate.generator("rng", rng)
    cache = forward(params, prompt, h0)  # validates params, prompt and h0
    B, D = prompt.shape[0], params.input_size
    out = np.empty((B, steps, D), dtype=params.dtype)
    out[:, 0] = cache.ys[-1]  # prediction of s_{T0} from the prompt
    h = cache.hs[-1]
    for k in range(1, steps):
        fed_back = out[:, k - 1 : k]
        if noise > 0:
            fed_back = fed_back + rng.normal(0.0, noise, fed_back.shape).astype(params.dtype)
        cache = forward(params, fed_back, h)  # one step on the last forecast
        out[:, k] = cache.ys[-1]
        h = cache.hs[-1]
    return out


def generate_ar(coefs: np.ndarray, prompt: np.ndarray, steps: int) -> np.ndarray:
    """Closed-loop forecasts of the AR models from :func:`rnnbook.fit_ar`.

    Parameters
    ----------
    coefs : ndarray, shape (k, k + 1)
        From :func:`rnnbook.fit_ar`.
    prompt : ndarray, shape (B, T0, 1)
    steps : int

    Returns
    -------
    ndarray, shape (B, steps, 1)
        Forecasts of s_{T0}, ..., s_{T0+steps-1}, each from the prompt and the
        forecasts before it, with the same AR model choice as :func:`rnnbook.predict_ar`.
    """
    prompt = validate.float_array("prompt", prompt, (None, None, 1))
    steps = validate.size("steps", steps)
    coefs = validate.float_array("coefs", coefs, (None, None))
    K = coefs.shape[0]
    if coefs.shape[1] != K + 1:
        raise ValueError(f"coefs: expected shape (k, k + 1) from fit_ar, got {coefs.shape}")
    series = np.concatenate([prompt, np.zeros((prompt.shape[0], steps, 1), prompt.dtype)], 1)
    T0 = prompt.shape[1]
    for k in range(steps):
        # predict_ar's last prediction for the series so far, from its last values
        # only: model j = min(L, K) on x_{L-1}, ..., x_{L-j} (L values so far)
        L = T0 + k
        row = coefs[min(L, K) - 1]
        recent = series[:, max(0, L - K) : L, 0][:, ::-1]  # newest first
        series[:, L, 0] = recent @ row[: recent.shape[1]] + row[K]
    return series[:, T0:]


def dominant_frequency(series: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """The frequency of the sine that fits each series best, from a grid.

    For every f of the grid, fit s_k ~ a sin(2 pi f k) + b cos(2 pi f k) + c by least
    squares; return the f whose fit leaves the smallest residual. Applied to a
    free-running forecast, this is the frequency the model runs at on its own.

    Parameters
    ----------
    series : ndarray, shape (B, K) or (B, K, 1)
        B series of K >= 4 values each (e.g. forecasts from :func:`generate`).
    freqs : ndarray, shape (F,)
        Candidate frequencies in cycles per step, each in (0, 0.5).

    Returns
    -------
    ndarray, shape (B,)
        The best-fitting frequency of each series.
    """
    series = np.asarray(series)
    if series.ndim == 3 and series.shape[2] == 1:
        series = series[:, :, 0]
    series = validate.float_array("series", series, (None, None))
    freqs = validate.float_array("freqs", np.asarray(freqs, dtype=float), (None,))
    K = series.shape[1]
    if K < 4:
        raise ValueError(f"series: expected at least 4 values per series, got {K}")
    if freqs.size == 0 or freqs.min() <= 0 or freqs.max() >= 0.5:
        raise ValueError("freqs: expected a non-empty grid of frequencies in (0, 0.5)")
    k = np.arange(K)
    phase = 2 * np.pi * freqs[:, None] * k  # (F, K)
    basis = np.stack([np.sin(phase), np.cos(phase), np.ones_like(phase)], axis=2)
    q, _ = np.linalg.qr(basis)  # (F, K, 3): orthonormal bases of the three columns
    q = q.transpose(1, 0, 2).reshape(K, -1)  # (K, 3F): all fits in one product
    best = np.empty(series.shape[0], dtype=int)
    for first in range(0, series.shape[0], 1024):  # blocks bound the memory
        block = series[first : first + 1024] @ q  # (b, 3F)
        explained = (block**2).reshape(len(block), -1, 3).sum(axis=2)  # energy fitted
        best[first : first + 1024] = np.argmax(explained, axis=1)
    return freqs[best]
