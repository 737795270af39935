"""A fourth cell for the tests, defined outside rnnbook: a diagonal linear recurrence.

    h_t = a * h_{t-1} + W_xh x_t + b_h,    y_t = W_hy h_t + b_y

It is the whole of what a new model must provide (a Params dataclass, ``forward`` returning a
cache with ``.y`` and ``backward`` returning gradients as the same dataclass); the tests check
that rnnbook's training loop, gradient check, clipping and optimizers serve it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.params import Params


@dataclass
class DiagonalParams(Params):
    a: np.ndarray  # (H,)
    W_xh: np.ndarray  # (H, D)
    b_h: np.ndarray  # (H,)
    W_hy: np.ndarray  # (O, H)
    b_y: np.ndarray  # (O,)


@dataclass
class DiagonalCache:
    x: np.ndarray  # (B, T, D)
    hs: np.ndarray  # (B, T + 1, H), hs[:, 0] = h_0
    y: np.ndarray  # (B, T, O)


def init_params(D: int, H: int, O: int, rng: np.random.Generator) -> DiagonalParams:
    return DiagonalParams(
        a=rng.uniform(0.5, 0.9, H),
        W_xh=rng.normal(0, 0.5, (H, D)),
        b_h=rng.normal(0, 0.1, H),
        W_hy=rng.normal(0, 0.5, (O, H)),
        b_y=rng.normal(0, 0.1, O),
    )


def forward(params: DiagonalParams, x: np.ndarray, h0: np.ndarray | None = None):
    B, T, _ = x.shape
    hs = np.zeros((B, T + 1, params.a.size))
    if h0 is not None:
        hs[:, 0] = h0
    u = x @ params.W_xh.T + params.b_h
    for t in range(T):
        hs[:, t + 1] = params.a * hs[:, t] + u[:, t]
    return DiagonalCache(x=x, hs=hs, y=hs[:, 1:] @ params.W_hy.T + params.b_y)


def backward(params: DiagonalParams, cache: DiagonalCache, dy: np.ndarray, dh_T=None):
    B, T, _ = dy.shape
    dh_direct = dy @ params.W_hy
    dus = np.empty_like(dh_direct)
    dh = np.zeros_like(dh_direct[:, 0]) if dh_T is None else dh_T.copy()
    da = np.zeros_like(params.a)
    for t in reversed(range(T)):
        dh = dh + dh_direct[:, t]  # total dL/dh_{t+1}
        dus[:, t] = dh
        da += (dh * cache.hs[:, t]).sum(axis=0)
        dh = dh * params.a
    return DiagonalParams(
        a=da,
        W_xh=np.einsum("bth,btd->hd", dus, cache.x),
        b_h=dus.sum(axis=(0, 1)),
        W_hy=np.einsum("bto,bth->oh", dy, cache.hs[:, 1:]),
        b_y=dy.sum(axis=(0, 1)),
    )
