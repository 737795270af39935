"""Forward pass and BPTT: the equations, finite differences, truncation, dtypes."""

import numpy as np
import pytest
from conftest import make_problem
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnbook as rb


def naive_forward(p, x, h0):
    """The book's equations, one sequence and one step at a time, column vectors."""
    B, T, _ = x.shape
    h = np.zeros((B, T, p.hidden_size))
    y = np.zeros((B, T, p.output_size))
    for b in range(B):
        h_prev = h0[b]
        for t in range(T):
            h_prev = np.tanh(p.W_hh @ h_prev + p.W_xh @ x[b, t] + p.b_h)
            h[b, t] = h_prev
            y[b, t] = p.W_hy @ h_prev + p.b_y
    return h, y


def test_forward_matches_the_equations(rng):
    p, x, _, h0 = make_problem(rng, B=3, T=7, D=2, H=5, O=3)
    cache = rb.forward(p, x, h0)
    h, y = naive_forward(p, x, h0)
    assert cache.h.shape == (3, 7, 5) and cache.y.shape == (3, 7, 3)
    np.testing.assert_allclose(cache.h, h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.y, y, rtol=1e-12, atol=1e-12)


def test_h0_defaults_to_zeros(rng):
    p, x, _, h0 = make_problem(rng)
    np.testing.assert_array_equal(rb.forward(p, x).h, rb.forward(p, x, np.zeros_like(h0)).h)


shapes = st.tuples(
    st.integers(1, 4),  # B
    st.integers(1, 6),  # T
    st.integers(1, 3),  # D
    st.integers(1, 5),  # H
    st.integers(1, 3),  # O
)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_bptt_matches_finite_differences(shape, seed):
    B, T, D, H, O = shape
    p, x, target, h0 = make_problem(np.random.default_rng(seed), B, T, D, H, O)
    errors = rb.gradcheck(p, x, target, h0=h0)
    assert set(errors) == {"W_xh", "W_hh", "b_h", "W_hy", "b_y", "h0"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(
    "shape", [(1, 1, 1, 1, 1), (1, 8, 1, 3, 1), (4, 1, 3, 2, 2), (2, 9, 3, 6, 4)]
)
def test_bptt_grid_of_edge_shapes(shape):
    B, T, D, H, O = shape
    p, x, target, h0 = make_problem(np.random.default_rng(sum(shape)), B, T, D, H, O)
    assert max(rb.gradcheck(p, x, target, h0=h0).values()) < 1e-7


def test_gradcheck_detects_a_wrong_gradient(rng, monkeypatch):
    """The check must be able to fail: break BPTT's tanh derivative and watch it."""
    p, x, target, h0 = make_problem(rng)
    real = rb.rnn._tanh_derivative

    def broken(h, out=None):  # 1% too small, written where BPTT reads it
        return np.multiply(real(h, out), 0.99, out=out)

    monkeypatch.setattr(rb.rnn, "_tanh_derivative", broken)
    assert rb.gradcheck(p, x, target, h0=h0)["W_hh"] > 1e-3


def _grads(p, x, target, h0, k):
    cache = rb.forward(p, x, h0)
    _, dy = rb.mse_loss(cache.y, target)
    return rb.bptt(p, cache, dy, truncate=k)


@pytest.mark.parametrize("k", [6, 7, 100])
def test_truncated_equals_full_when_k_at_least_T(rng, k):
    p, x, target, h0 = make_problem(rng, T=6)
    full, dh0_full = _grads(p, x, target, h0, None)
    trunc, dh0_trunc = _grads(p, x, target, h0, k)
    for (name, a), (_, b) in zip(full.items(), trunc.items()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(dh0_full, dh0_trunc, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_truncated_differs_when_k_below_T(rng, k):
    p, x, target, h0 = make_problem(rng, T=6)
    full, _ = _grads(p, x, target, h0, None)
    trunc, _ = _grads(p, x, target, h0, k)
    assert np.abs(full.W_hh - trunc.W_hh).max() > 1e-6
    # the output layer does not recur: truncation leaves its gradients alone
    np.testing.assert_allclose(full.W_hy, trunc.W_hy, rtol=1e-12)


def test_truncation_k1_is_the_immediate_partial(rng):
    """k = 1 keeps only the direct term: dz_t = W_hy^T dy_t * (1 - h_t^2)."""
    p, x, target, h0 = make_problem(rng, T=4)
    cache = rb.forward(p, x, h0)
    _, dy = rb.mse_loss(cache.y, target)
    grads, _ = rb.bptt(p, cache, dy, truncate=1)
    dz = (dy @ p.W_hy) * (1 - cache.h**2)
    h_prev = np.concatenate([h0[:, None], cache.h[:, :-1]], axis=1)
    np.testing.assert_allclose(grads.W_hh, np.einsum("bti,btj->ij", dz, h_prev), rtol=1e-12)


def test_float32_keeps_its_dtype_and_agrees_with_float64(rng):
    p, x, target, h0 = make_problem(rng)
    p32, x32, t32, h32 = (
        p.astype(np.float32),
        x.astype(np.float32),
        target.astype(np.float32),
        h0.astype(np.float32),
    )
    cache = rb.forward(p32, x32, h32)
    loss, dy = rb.mse_loss(cache.y, t32)
    grads, dh0 = rb.bptt(p32, cache, dy)
    assert cache.h.dtype == cache.y.dtype == dy.dtype == dh0.dtype == np.float32
    assert all(g.dtype == np.float32 for _, g in grads.items())
    grads64 = rb.backward(p, rb.forward(p, x, h0), rb.mse_loss(rb.forward(p, x, h0).y, target)[1])
    for (name, a), (_, b) in zip(grads.items(), grads64.items()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)


def test_same_seed_same_results_bit_for_bit():
    def run(seed):
        rng = np.random.default_rng(seed)
        data = rb.sine_waves(20, 10, rng=rng)
        params = rb.init_params(1, 8, 1, rng=rng)
        history = rb.fit(
            params, data.x, data.y, optimizer=rb.Adam(0.01), epochs=3, batch_size=5, rng=rng
        )
        return params, history

    (p1, h1), (p2, h2), (p3, _) = run(7), run(7), run(8)
    for (_, a), (_, b) in zip(p1.items(), p2.items()):
        assert a.tobytes() == b.tobytes()
    assert h1.train_loss == h2.train_loss
    assert p1.W_hh.tobytes() != p3.W_hh.tobytes()


def test_params_helpers(rng):
    p = rb.init_params(3, 5, 2, rng=rng)
    assert (p.input_size, p.hidden_size, p.output_size) == (3, 5, 2)
    assert p.num_parameters() == 5 * 3 + 5 * 5 + 5 + 2 * 5 + 2
    q = p.copy()
    q.W_hh[0, 0] += 1
    assert p.W_hh[0, 0] != q.W_hh[0, 0]


@pytest.mark.parametrize("cuts", [[4], [1], [8], [2, 5], [1, 2, 3, 7], [3, 3, 6]])
def test_chunks_chained_with_dh_T_give_the_whole_sequence_gradient(rng, cuts):
    """Backpropagating the last chunk first, each earlier chunk with dh_T = the later
    chunk's dh0, sums to exactly the gradient of the whole sequence (and its dh0)."""
    p, x, target, h0 = make_problem(rng, B=3, T=9, D=2, H=4, O=2)
    whole = rb.forward(p, x, h0)
    _, dy = rb.mse_loss(whole.y, target)  # one loss over all 9 steps
    expected, expected_dh0 = rb.bptt(p, whole, dy)

    bounds = [0, *sorted(set(cuts)), 9]
    caches, h = [], h0
    for a, b in zip(bounds, bounds[1:]):  # forward chunk by chunk, carrying h_T
        caches.append(rb.forward(p, x[:, a:b], h))
        h = caches[-1].h[:, -1]
    total, dh_T = p.zeros_like(), None
    for (a, b), cache in reversed(list(zip(zip(bounds, bounds[1:]), caches))):
        grads, dh_T = rb.bptt(p, cache, dy[:, a:b], dh_T)
        for (_, g), (_, s) in zip(grads.items(), total.items()):
            s += g
    for name, g in expected.items():
        np.testing.assert_allclose(getattr(total, name), g, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(dh_T, expected_dh0, rtol=0, atol=1e-12)


def test_dh_T_is_dropped_or_kept_as_asked(rng):
    """Without dh_T the chunk's gradient misses the later chunk's part (the usual, biased
    choice of truncated BPTT over chunks); backward() accepts dh_T as bptt() does."""
    p, x, target, h0 = make_problem(rng, B=2, T=6, D=2, H=3, O=2)
    cache = rb.forward(p, x, h0)
    _, dy = rb.mse_loss(cache.y, target)
    dh_T = rng.normal(size=(2, 3))
    with_T = rb.backward(p, cache, dy, dh_T)
    assert not np.allclose(with_T.W_hh, rb.backward(p, cache, dy).W_hh)
    np.testing.assert_array_equal(with_T.W_hh, rb.bptt(p, cache, dy, dh_T)[0].W_hh)
    with pytest.raises(ValueError, match="dh_T"):
        rb.bptt(p, cache, dy, np.zeros((2, 4)))
