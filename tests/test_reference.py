"""rnnbook.reference: the one-line-per-equation RNN equals rnnbook.rnn to rounding error."""

import numpy as np
import pytest
from conftest import make_problem

import rnnbook as rb
from rnnbook import reference

SHAPES = [
    dict(B=1, T=1, D=1, H=1, O=1),
    dict(B=3, T=7, D=2, H=4, O=2),
    dict(B=2, T=30, D=1, H=16, O=1),
    dict(B=5, T=4, D=3, H=8, O=3),
]


def relative_gap(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("with_h0", [False, True])
def test_forward_equals_the_fast_forward(rng, shape, with_h0):
    p, x, _, h0 = make_problem(rng, **shape)
    h0 = h0 if with_h0 else None
    h, y = reference.forward(p, x, h0)
    cache = rb.forward(p, x, h0)
    assert h.shape == (shape["B"], shape["T"] + 1, shape["H"])
    assert relative_gap(h[:, 1:], cache.h) < 1e-12
    assert relative_gap(h[:, 0], cache.h0) < 1e-12 if with_h0 else not h[:, 0].any()
    assert relative_gap(y, cache.y) < 1e-12


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("with_dh_T", [False, True])
def test_bptt_equals_the_fast_bptt(rng, shape, with_dh_T):
    p, x, target, h0 = make_problem(rng, **shape)
    dh_T = rng.normal(size=h0.shape) if with_dh_T else None
    h, y = reference.forward(p, x, h0)
    _, dy = rb.mse_loss(y, target)
    grads, dh0 = reference.bptt(p, x, h, dy, dh_T)
    cache = rb.forward(p, x, h0)
    fast, fast_dh0 = rb.bptt(p, cache, dy, dh_T)
    for name, g in grads.items():
        assert relative_gap(g, getattr(fast, name)) < 1e-12, name
    assert relative_gap(dh0, fast_dh0) < 1e-12


def test_bptt_matches_finite_differences(rng):
    """Independent of rnnbook.rnn: the reference gradient against five-point differences."""
    p, x, target, h0 = make_problem(rng, B=2, T=6, D=2, H=3, O=2)
    h, y = reference.forward(p, x, h0)
    _, dy = rb.mse_loss(y, target)
    grads, dh0 = reference.bptt(p, x, h, dy)
    state = {"h0": h0}

    def loss():
        return rb.mse_loss(reference.forward(p, x, state["h0"])[1], target)[0]

    for name, g in grads.items():
        numeric = rb.numerical_gradient(loss, getattr(p, name), 3e-4, order=4)
        assert rb.relative_error(g, numeric) < 1e-8, name
    numeric = rb.numerical_gradient(loss, state["h0"], 3e-4, order=4)
    assert rb.relative_error(dh0, numeric) < 1e-8


def test_reference_validates_its_input(rng):
    p, x, target, h0 = make_problem(rng, B=2, T=5, D=2, H=3, O=2)
    with pytest.raises(ValueError, match="x"):
        reference.forward(p, x[..., :1])
    with pytest.raises(ValueError, match="h0"):
        reference.forward(p, x, h0[:, :2])
    h, y = reference.forward(p, x, h0)
    with pytest.raises(ValueError, match="dy"):
        reference.bptt(p, x, h, y[:, :3])
    with pytest.raises(ValueError, match="h"):
        reference.bptt(p, x, h[:, 1:], y)
    with pytest.raises(ValueError, match="dh_T"):
        reference.bptt(p, x, h, y, np.zeros((2, 4)))


def test_float32_stays_float32(rng):
    p, x, target, h0 = make_problem(rng, B=2, T=5, D=2, H=3, O=2, dtype=np.float32)
    h, y = reference.forward(p, x, h0)
    grads, dh0 = reference.bptt(p, x, h, rb.mse_loss(y, target)[1])
    assert h.dtype == y.dtype == dh0.dtype == np.float32
    assert all(g.dtype == np.float32 for _, g in grads.items())
