"""Sampling text from a character-level language model: greedy, temperature, top-k.

A trained model gives, after reading a prompt, logits y_t over the V characters. The
next character is drawn from

    p_i = exp(y_i / tau) / sum_j exp(y_j / tau)                     (eq-temperature)

with temperature tau > 0: tau = 1 samples the model's own distribution, tau -> 0 tends
to the greedy choice argmax_i y_i, and tau > 1 flattens it towards uniform. Top-k
sampling first keeps only the k largest logits (Fan, Lewis & Dauphin 2018), so that the
long tail of unlikely characters is never drawn. The drawn character is fed back as the
next input, with the hidden state carried along, as in min-char-rnn.

Every model module that supports this has ``final_state(cache)``: the keyword arguments
(``h0``, and ``c0`` for the LSTM) that continue a forward pass where `cache` ended.
"""

from __future__ import annotations

import numpy as np

from . import validate
from .params import Params, model_of


def next_ids(
    logits: np.ndarray,
    rng: np.random.Generator | None = None,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
) -> np.ndarray:
    """Choose one id per row of `logits` (B, V): argmax, or a draw from (eq-temperature).

    Parameters
    ----------
    logits : ndarray, shape (B, V)
    rng : numpy.random.Generator
        Required unless `greedy`.
    temperature : float
        tau > 0.
    top_k : int, optional
        Draw only among the k largest logits of each row.
    greedy : bool
        Take the argmax (no randomness).

    Returns
    -------
    ndarray, shape (B,), int32
    """
    logits = validate.float_array("logits", logits, (None, None))
    if greedy:
        return np.argmax(logits, axis=1).astype(np.int32)
    rng = validate.generator("rng", rng)
    validate.positive("temperature", temperature)
    scaled = logits / temperature
    if top_k is not None:
        k = validate.size("top_k", top_k)
        if k < scaled.shape[1]:
            kth = np.partition(scaled, -k, axis=1)[:, -k][:, None]  # the k-th largest
            scaled = np.where(scaled >= kth, scaled, -np.inf)
    p = np.exp(scaled - scaled.max(axis=1, keepdims=True))  # (eq-temperature), stably
    cdf = np.cumsum(p, axis=1)
    u = rng.random((p.shape[0], 1)) * cdf[:, -1:]  # inverse-CDF draw, one per row
    return np.minimum((cdf < u).sum(axis=1), p.shape[1] - 1).astype(np.int32)


def sample(
    params: Params,
    prompt: np.ndarray,
    steps: int,
    rng: np.random.Generator | None = None,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
) -> np.ndarray:
    """Read `prompt`, then generate `steps` characters, each fed back as the next input.

    Parameters
    ----------
    params : Params
        A model with integer inputs and V outputs (``D = O = V``).
    prompt : ndarray, shape (P,) or (B, P), integer
        The ids to prime the model with (P >= 1); B prompts give B samples.
    steps : int
        How many ids to generate.
    rng, temperature, top_k, greedy
        As for :func:`next_ids`.

    Returns
    -------
    ndarray, shape (B, steps), int32
        The generated ids (the prompt excluded); B = 1 for a 1-d prompt.
    """
    model = model_of(params)
    if not callable(getattr(model, "final_state", None)):
        raise ValueError(f"params: {model.__name__} has no final_state() to carry its state")
    if not isinstance(prompt, np.ndarray) or prompt.dtype.kind not in "iu" or prompt.ndim > 2:
        raise ValueError("prompt: expected a 1-d or 2-d integer array of ids")
    prompt = prompt.reshape(1, -1) if prompt.ndim == 1 else prompt
    if prompt.shape[1] == 0:
        raise ValueError("prompt: expected at least one id to start from, got none")
    steps = validate.size("steps", steps)
    choose = dict(temperature=temperature, top_k=top_k, greedy=greedy)
    cache = model.forward(params, prompt)
    out = np.empty((prompt.shape[0], steps), dtype=np.int32)
    for i in range(steps):
        out[:, i] = next_ids(cache.y[:, -1], rng, **choose)
        cache = model.forward(params, out[:, i : i + 1], **model.final_state(cache))
    return out
