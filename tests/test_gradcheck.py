"""rnnbook.gradcheck: the default step tells the truth on the BPTT chapter's problem."""

import numpy as np
import pytest

import rnnbook as rb


def chapter_problem():
    """The problem of book/bptt.md: two sequences of eight steps, H = 5, b_h and h0 non-zero."""
    rng = np.random.default_rng(0)
    params = rb.init_params(1, 5, 1, scheme="xavier", rng=rng)
    params.b_h[:] = rng.normal(0.0, 0.1, size=5)
    waves = rb.sine_waves(2, 8, rng=rng)
    h0 = rng.normal(0.0, 0.1, size=(2, 5))
    return params, waves.x, waves.y, h0


def test_default_step_certifies_the_chapter_gradient_to_about_1e_10():
    params, x, y, h0 = chapter_problem()
    errors = rb.gradcheck(params, x, y, h0=h0)
    assert set(errors) == {"W_xh", "W_hh", "b_h", "W_hy", "b_y", "h0"}
    assert max(errors.values()) <= 2e-10, errors  # round-off: ~1e-10 either side


def test_the_old_step_is_dominated_by_truncation_for_b_h_and_h0():
    """At eps = 1e-3 the eps^4 term of b_h and h0 is large: the errors fall ~16x at eps / 2."""
    params, x, y, h0 = chapter_problem()
    coarse = rb.gradcheck(params, x, y, h0=h0, eps=1e-3)
    half = rb.gradcheck(params, x, y, h0=h0, eps=5e-4)
    for name in ("b_h", "h0"):
        assert coarse[name] > 1e-10
        assert 8 < coarse[name] / half[name] < 32  # eps^4 scaling: 2^4 = 16


def test_relative_error_floor():
    assert rb.relative_error(np.array([1e-9]), np.array([2e-9])) == pytest.approx(0.5)
    assert rb.relative_error(np.array([1e-9]), np.array([2e-9]), floor=1e-3) == pytest.approx(1e-6)
    assert rb.relative_error(np.zeros(3), np.zeros(3)) == 0.0
