"""Initialization statistics, clipping, optimizers."""

import numpy as np
import pytest

import rnnbook as rb


@pytest.mark.parametrize("draw", [rb.xavier_uniform, rb.xavier_normal])
@pytest.mark.parametrize("fan_out, fan_in", [(300, 500), (400, 400), (1000, 100)])
def test_xavier_variance(rng, draw, fan_out, fan_in):
    W = draw(fan_out, fan_in, rng)
    target = 2.0 / (fan_in + fan_out)  # (eq-xavier)
    n = W.size
    # standard error of a sample variance: sqrt((mu4 - sigma^4) / n),
    # with mu4 = 9/5 sigma^4 (uniform) or 3 sigma^4 (normal)
    kurtosis = 9 / 5 if draw is rb.xavier_uniform else 3.0
    se = target * np.sqrt((kurtosis - 1) / n)
    assert abs(W.var() - target) < 4 * se
    assert abs(W.mean()) < 4 * np.sqrt(target / n)


def test_xavier_uniform_bound(rng):
    W = rb.xavier_uniform(50, 70, rng)
    assert np.abs(W).max() <= np.sqrt(6 / 120)


def test_orthogonal(rng):
    for gain in (1.0, 0.5):
        W = rb.orthogonal(64, rng, gain)
        np.testing.assert_allclose(W @ W.T, gain**2 * np.eye(64), atol=1e-12)
        assert rb.largest_singular_value(W) == pytest.approx(gain)
        assert rb.spectral_radius(W) == pytest.approx(gain)


def test_init_schemes(rng):
    for scheme in ("xavier", "xavier_normal", "orthogonal", "normal", "identity"):
        p = rb.init_params(3, 6, 2, scheme=scheme, rng=rng, dtype=np.float32)
        assert p.W_xh.shape == (6, 3) and p.W_hh.shape == (6, 6) and p.W_hy.shape == (2, 6)
        assert p.dtype == np.float32
        assert not p.b_h.any() and not p.b_y.any()
    assert rb.init_params(
        1, 200, 1, scheme="normal", std=0.01, rng=rng
    ).W_hh.std() == pytest.approx(0.01, rel=0.05)
    np.testing.assert_array_equal(
        rb.init_params(1, 4, 1, scheme="identity", gain=0.5, rng=rng).W_hh, 0.5 * np.eye(4)
    )


def test_spectral_helpers():
    W = np.array([[0.0, 2.0], [0.0, 0.0]])  # nilpotent: radius 0, but stretches by 2
    assert rb.spectral_radius(W) == 0.0
    assert rb.largest_singular_value(W) == pytest.approx(2.0)


def _grads(rng, sizes=(2, 5, 3)):
    return rb.init_params(*sizes, rng=rng).map(lambda a: a + rng.normal(size=a.shape))


def test_clip_norm_caps_and_keeps_direction(rng):
    g = _grads(rng)
    norm = rb.global_norm(g)
    assert norm == pytest.approx(np.sqrt(sum((a**2).sum() for _, a in g.items())))
    clipped, before = rb.clip_grad_norm(g, norm / 4)
    assert before == norm
    assert rb.global_norm(clipped) == pytest.approx(norm / 4)
    for (_, a), (_, b) in zip(g.items(), clipped.items()):
        np.testing.assert_allclose(b, a / 4)  # same direction, a quarter of the length


def test_clip_norm_leaves_small_gradients_alone(rng):
    g = _grads(rng)
    clipped, norm = rb.clip_grad_norm(g, 10 * rb.global_norm(g))
    for (_, a), (_, b) in zip(g.items(), clipped.items()):
        np.testing.assert_array_equal(a, b)
    assert clipped.W_hh is not g.W_hh  # the input is never modified


def test_clip_value_bounds(rng):
    g = _grads(rng)
    clipped = rb.clip_grad_value(g, 0.3)
    for (_, a), (_, b) in zip(g.items(), clipped.items()):
        assert np.abs(b).max() <= 0.3
        small = np.abs(a) <= 0.3
        np.testing.assert_array_equal(a[small], b[small])


def _quadratic_descent(optimizer, steps=300):
    """Minimise 0.5 ||theta - 1||^2 over all parameters."""
    rng = np.random.default_rng(0)
    params = rb.init_params(2, 3, 1, rng=rng)
    for _ in range(steps):
        optimizer.step(params, params.map(lambda a: a - 1.0))
    return max(np.abs(a - 1).max() for _, a in params.items())


@pytest.mark.parametrize("opt", [rb.SGD(0.1), rb.SGD(0.05, momentum=0.9), rb.Adam(0.05)])
def test_optimizers_converge_on_a_quadratic(opt):
    assert _quadratic_descent(opt) < 1e-3


def test_adam_first_step_has_size_lr(rng):
    """With bias correction, Adam's first step is lr * sign(g) (up to eps)."""
    params = rb.init_params(1, 3, 1, rng=rng)
    before = params.copy()
    grads = _grads(rng, (1, 3, 1))
    rb.Adam(lr=0.01).step(params, grads)
    for (_, a), (_, b), (_, g) in zip(before.items(), params.items(), grads.items()):
        np.testing.assert_allclose(a - b, 0.01 * np.sign(g), rtol=1e-6)
