"""PyTorch's default initialization and the mean-field edge of chaos (rnnbook.init)."""

import numpy as np
import pytest

import rnnbook as rb


def test_pytorch_default_bounds_and_biases(rng):
    H = 64
    p = rb.init_params(3, H, 2, scheme="pytorch", rng=rng)
    k = 1 / np.sqrt(H)
    for name in ("W_xh", "W_hh", "W_hy", "b_y"):
        assert np.abs(getattr(p, name)).max() <= k, name
    assert np.abs(p.b_h).max() <= 2 * k  # b_ih + b_hh
    assert np.abs(p.b_h).max() > k  # ... and really a sum of two (with 64 units, surely)
    # Var(W_hh) = k^2 / 3 = 1 / (3H): gain 1 / sqrt(3) against Xavier
    se = np.sqrt((9 / 5 - 1) / H**2) / (3 * H)
    assert abs(p.W_hh.var() - 1 / (3 * H)) < 4 * se
    assert p.b_h.any() and p.b_y.any()


def test_pytorch_default_is_a_scheme_with_dtype(rng):
    p = rb.init_params(1, 8, 1, scheme="pytorch", rng=rng, dtype=np.float32)
    assert p.dtype == np.float32
    q = rb.pytorch_default(1, 8, 1, np.random.default_rng(5))
    r = rb.init_params(1, 8, 1, scheme="pytorch", rng=np.random.default_rng(5))
    for (_, a), (_, b) in zip(q.items(), r.items()):
        np.testing.assert_array_equal(a, b)


def test_existing_schemes_unchanged():
    """Adding schemes must not change what the old ones draw (the chapters' results)."""
    p = rb.init_params(1, 4, 1, scheme="xavier", rng=np.random.default_rng(0))
    a = np.sqrt(6 / 5)
    expected = np.random.default_rng(0).uniform(-a, a, size=(4, 1))
    np.testing.assert_array_equal(p.W_xh, expected)
    assert not p.b_h.any()


def test_mean_field_without_input_is_linear_below_gain_one():
    for gain in (0.3, 0.8, 1.0):
        q, chi = rb.mean_field(gain)
        assert q == 0.0
        assert chi == pytest.approx(gain**2)


def _monte_carlo(f, q, n=400_000):
    z = np.random.default_rng(0).normal(size=n)
    values = f(np.sqrt(q) * z)
    return values.mean(), values.std() / np.sqrt(n)


@pytest.mark.parametrize("gain, c", [(1.5, 0.0), (1.0, 0.05), (0.7, 0.3), (1.3, 0.035)])
def test_mean_field_fixed_point_and_chi(gain, c):
    q, chi = rb.mean_field(gain, c)
    assert q > 0
    # q solves (eq-mf-variance): q = gain^2 E[tanh(sqrt(q) z)^2] + c
    mean, se = _monte_carlo(lambda u: np.tanh(u) ** 2, q)
    assert abs(gain**2 * mean + c - q) < 4 * gain**2 * se
    # chi = gain^2 E[tanh'(sqrt(q) z)^2]  (eq-mf-chi)
    mean, se = _monte_carlo(lambda u: (1 - np.tanh(u) ** 2) ** 2, q)
    assert abs(gain**2 * mean - chi) < 4 * gain**2 * se


def test_mean_field_predicts_a_wide_network():
    """A wide tanh RNN with Gaussian W_hh (variance gain^2/H) and white input of
    variance c per unit: its pre-activation variance and its E[tanh'^2] follow
    the mean-field fixed point."""
    rng = np.random.default_rng(1)
    H, B, gain, c = 1000, 8, 1.2, 0.05
    W = rng.normal(0, gain / np.sqrt(H), size=(H, H))
    h = np.zeros((B, H))
    u_all = []
    for t in range(60):
        u = h @ W.T + rng.normal(0, np.sqrt(c), size=(B, H))
        h = np.tanh(u)
        if t >= 30:  # past the transient
            u_all.append(u)
    u_all = np.array(u_all)
    q, chi = rb.mean_field(gain, c)
    assert u_all.var() == pytest.approx(q, rel=0.03)
    assert gain**2 * np.mean((1 - np.tanh(u_all) ** 2) ** 2) == pytest.approx(chi, rel=0.02)


def test_critical_gain():
    assert rb.critical_gain(0.0) == 1.0
    previous = 1.0
    for c in (0.01, 0.05, 0.2):
        g = rb.critical_gain(c)
        assert rb.mean_field(g, c)[1] == pytest.approx(1.0, abs=1e-9)
        assert g > previous  # more input, more saturation, a larger gain at the edge
        previous = g
    assert rb.mean_field(0.99 * g, 0.2)[1] < 1 < rb.mean_field(1.01 * g, 0.2)[1]


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: rb.mean_field(0.0), "gain"),
        (lambda: rb.mean_field(-1.0), "gain"),
        (lambda: rb.mean_field(1.0, -0.1), "input_variance"),
        (lambda: rb.critical_gain(float("nan")), "input_variance"),
    ],
)
def test_mean_field_validates(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_initialization_listings_fit_79_columns():
    """The package code that book/initialization.md includes fits the text column."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    text = (root / "book" / "initialization.md").read_text(encoding="utf-8")
    objects = re.findall(r"```\{literalinclude\} \.\./(\S+)\n:pyobject: (\S+)", text)
    assert len(objects) >= 4, objects
    wide = {}
    for path, name in objects:
        source = (root / path).read_text(encoding="utf-8")
        (node,) = [n for n in ast.parse(source).body if getattr(n, "name", None) == name]
        lines = source.splitlines()[node.lineno - 1 : node.end_lineno]
        wide[path, name] = [len(line) for line in lines if len(line) > 79]
    assert not any(wide.values()), wide
