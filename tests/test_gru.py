"""The GRU: its equations, finite differences on every parameter and h_0, dtypes, the
chunked gradient, validation, PyTorch's nn.GRU, and training with the one fit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnbook as rb
from rnnbook import gru


def make_gru(rng, B=3, T=5, D=2, H=4, O=2, dtype=np.float64):
    """Random parameters (every bias non-zero), inputs, targets and h_0."""
    p = gru.init_params(D, H, O, rng=rng)
    p.b_xh[:] = rng.normal(size=3 * H)
    p.b_hh[:] = rng.normal(size=3 * H)
    p.b_y[:] = rng.normal(size=O)
    x = rng.normal(size=(B, T, D))
    target = rng.normal(size=(B, T, O))
    h0 = rng.normal(size=(B, H))
    cast = (lambda a: a.astype(dtype)) if dtype != np.float64 else (lambda a: a)
    return p.astype(dtype), cast(x), cast(target), cast(h0)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def naive_forward(p, x, h0):
    """PyTorch's GRU equations, one sequence and one step at a time, column vectors."""
    B, T, _ = x.shape
    H = p.hidden_size
    h, y = np.zeros((B, T, H)), np.zeros((B, T, p.output_size))
    for b in range(B):
        h_prev = h0[b]
        for t in range(T):
            ax = p.W_xh @ x[b, t] + p.b_xh
            ah = p.W_hh @ h_prev + p.b_hh
            r = sigmoid(ax[:H] + ah[:H])
            z = sigmoid(ax[H : 2 * H] + ah[H : 2 * H])
            n = np.tanh(ax[2 * H :] + r * ah[2 * H :])
            h_prev = (1 - z) * n + z * h_prev
            h[b, t] = h_prev
            y[b, t] = p.W_hy @ h_prev + p.b_y
    return h, y


def test_forward_matches_the_equations(rng):
    p, x, _, h0 = make_gru(rng, B=3, T=7, D=2, H=5, O=3)
    cache = gru.forward(p, x, h0)
    h, y = naive_forward(p, x, h0)
    assert cache.h.shape == (3, 7, 5) and cache.y.shape == (3, 7, 3)
    np.testing.assert_allclose(cache.h, h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache.y, y, rtol=1e-12, atol=1e-12)
    ax, ah = x[:, 0] @ p.W_xh.T + p.b_xh, h0 @ p.W_hh.T + p.b_hh
    np.testing.assert_allclose(cache.z[:, 0], sigmoid(ax[:, 5:10] + ah[:, 5:10]), rtol=1e-12)
    np.testing.assert_allclose(cache.r[:, 0], sigmoid(ax[:, :5] + ah[:, :5]), rtol=1e-12)


def test_h0_defaults_to_zeros(rng):
    p, x, _, h0 = make_gru(rng)
    np.testing.assert_array_equal(gru.forward(p, x).h, gru.forward(p, x, np.zeros_like(h0)).h)


def test_init_params_shapes(rng):
    p = gru.init_params(3, 5, 2, rng=rng)
    assert (p.input_size, p.hidden_size, p.output_size) == (3, 5, 2)
    assert p.W_xh.shape == (15, 3) and p.W_hh.shape == (15, 5)
    assert p.b_xh.shape == p.b_hh.shape == (15,)
    assert p.num_parameters() == 3 * 5 * (3 + 5 + 2) + 2 * 5 + 2
    np.testing.assert_array_equal(p.b_xh, 0.0)
    np.testing.assert_array_equal(p.b_hh, 0.0)
    assert gru.init_params(1, 2, 1, rng=rng, dtype=np.float32).dtype == np.float32


shapes = st.tuples(
    st.integers(1, 3),  # B
    st.integers(1, 6),  # T
    st.integers(1, 3),  # D
    st.integers(1, 4),  # H
    st.integers(1, 3),  # O
)


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_bptt_matches_finite_differences_float64(shape, seed):
    """Every entry of every parameter and of h_0, over random shapes."""
    B, T, D, H, O = shape
    p, x, target, h0 = make_gru(np.random.default_rng(seed), B, T, D, H, O)
    errors = rb.gradcheck(p, x, target, h0=h0)
    assert set(errors) == {"W_xh", "W_hh", "b_xh", "b_hh", "W_hy", "b_y", "h0"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(
    "shape", [(1, 1, 1, 1, 1), (1, 8, 1, 3, 1), (4, 1, 3, 2, 2), (2, 9, 3, 5, 4)]
)
def test_bptt_grid_of_edge_shapes(shape):
    B, T, D, H, O = shape
    p, x, target, h0 = make_gru(np.random.default_rng(sum(shape)), B, T, D, H, O)
    assert max(rb.gradcheck(p, x, target, h0=h0).values()) < 1e-7


@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_float32_code_path_agrees_with_the_checked_float64_gradient(shape, seed):
    """float32: the same code keeps its dtype and equals the float64 gradient (the one
    finite differences check) to float32 precision."""
    B, T, D, H, O = shape
    p, x, target, h0 = make_gru(np.random.default_rng(seed), B, T, D, H, O)
    p32, x32, t32 = p.astype(np.float32), x.astype(np.float32), target.astype(np.float32)
    cache = gru.forward(p32, x32, h0.astype(np.float32))
    _, dy = rb.mse_loss(cache.y, t32)
    grads32, dh0 = gru.bptt(p32, cache, dy)
    assert cache.h.dtype == cache.y.dtype == dh0.dtype == np.float32
    cache64 = gru.forward(p, x, h0)
    grads64 = gru.backward(p, cache64, rb.mse_loss(cache64.y, target)[1])
    for (name, a), (_, b) in zip(grads32.items(), grads64.items()):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5 * np.abs(b).max(), err_msg=name)


def test_float32_central_difference_with_a_loose_tolerance(rng):
    """Finite differences in float32 itself: a central difference with eps = 1e-2."""
    p, x, target, h0 = make_gru(rng, B=2, T=4, D=2, H=3, O=2, dtype=np.float32)
    errors = rb.gradcheck(p, x, target, h0=h0, eps=1e-2, order=2)
    assert max(errors.values()) < 2e-2, errors


def test_gradcheck_detects_a_wrong_gradient(rng, monkeypatch):
    """The check must be able to fail: break the reset gate's factor and watch it."""
    p, x, target, h0 = make_gru(rng)
    real = gru._local_derivatives

    def broken(cache):
        Pn, Pz, Pr = real(cache)
        return Pn, Pz, Pr * 0.99

    monkeypatch.setattr(gru, "_local_derivatives", broken)
    assert rb.gradcheck(p, x, target, h0=h0)["W_hh"] > 1e-3


@pytest.mark.parametrize("cuts", [[4], [1], [2, 5], [1, 2, 3, 7]])
def test_chunks_chained_with_dh_T_give_the_whole_sequence_gradient(rng, cuts):
    p, x, target, h0 = make_gru(rng, B=3, T=9, D=2, H=4, O=2)
    whole = gru.forward(p, x, h0)
    _, dy = rb.mse_loss(whole.y, target)
    expected, expected_dh0 = gru.bptt(p, whole, dy)
    bounds = [0, *sorted(set(cuts)), 9]
    caches, h = [], h0
    for a, b in zip(bounds, bounds[1:]):
        caches.append(gru.forward(p, x[:, a:b], h))
        h = caches[-1].h[:, -1]
    total, dh_T = p.zeros_like(), None
    for (a, b), cache in reversed(list(zip(zip(bounds, bounds[1:]), caches))):
        grads, dh_T = gru.bptt(p, cache, dy[:, a:b], dh_T)
        for (_, g), (_, s) in zip(grads.items(), total.items()):
            s += g
    for name, g in expected.items():
        np.testing.assert_allclose(getattr(total, name), g, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(dh_T, expected_dh0, rtol=0, atol=1e-12)


def test_last_step_gradients_are_the_state_gradients_of_the_last_loss(rng):
    p, x, target, h0 = make_gru(rng, B=2, T=6, D=2, H=3, O=1)
    cache = gru.forward(p, x, h0)
    dy = np.zeros_like(cache.y)
    dy[:, -1] = rng.normal(size=(2, 1))
    _, dh0 = gru.bptt(p, cache, dy)
    g = gru.last_step_gradients(p, cache, dy[:, -1] @ p.W_hy)
    assert g.shape == (2, 7, 3)
    np.testing.assert_allclose(g[:, 0], dh0, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g[:, -1], dy[:, -1] @ p.W_hy, rtol=1e-12)
    # one step back: dL/dh_{T-1} = J_T^T dL/dh_T, the Jacobian by finite differences
    h_prev = cache.h[:, -2].copy()

    def h_T():
        return gru.forward(p, x[:, -1:], h_prev).h[:, 0]

    for b in range(2):
        J = np.empty((3, 3))
        for j in range(3):
            e = np.zeros((2, 3))
            e[b, j] = 1e-6
            h_prev += e
            up = h_T()[b]
            h_prev -= 2 * e
            down = h_T()[b]
            h_prev += e
            J[:, j] = (up - down) / 2e-6
        np.testing.assert_allclose(g[b, -2], J.T @ g[b, -1], rtol=1e-7, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# Validation


def test_bad_inputs_name_the_argument(rng):
    p, x, target, h0 = make_gru(rng, B=3, T=5, D=2, H=4, O=2)
    with pytest.raises(ValueError, match=r"x: expected a 3-d array of shape \(\?, \?, 2\)"):
        gru.forward(p, x[0])
    with pytest.raises(ValueError, match=r"x: expected finite values"):
        gru.forward(p, np.where(x > 1, np.nan, x))
    with pytest.raises(ValueError, match=r"h0: expected shape \(3, 4\), got shape \(3, 5\)"):
        gru.forward(p, x, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"params: expected rnnbook.GRUParams, got LSTMParams"):
        gru.forward(rb.lstm.init_params(2, 4, 2, rng=rng), x)
    bad = p.copy()
    bad.b_hh[0] = np.nan
    with pytest.raises(ValueError, match=r"params.b_hh: expected finite values"):
        gru.forward(bad, x)
    cache = gru.forward(p, x)
    _, dy = rb.mse_loss(cache.y, target)
    with pytest.raises(ValueError, match=r"dy: expected dtype float64"):
        gru.backward(p, cache, dy.astype(np.float32))
    with pytest.raises(ValueError, match=r"dh_T: expected shape \(3, 4\)"):
        gru.bptt(p, cache, dy, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"truncate: expected None"):
        gru.backward(p, cache, dy, truncate=3)
    with pytest.raises(ValueError, match=r"cache: expected rnnbook.gru.GRUCache"):
        gru.bptt(p, rb.lstm.forward(rb.lstm.init_params(2, 4, 2, rng=rng), x), dy)


def test_bad_params_name_the_field(rng):
    p = gru.init_params(2, 4, 3, rng=rng)
    with pytest.raises(ValueError, match=r"W_hh: expected shape \(3H, H\) = \(12, 4\)"):
        gru.GRUParams(p.W_xh, p.W_hh[:8], p.b_xh, p.b_hh, p.W_hy, p.b_y)
    with pytest.raises(ValueError, match=r"W_xh: expected shape \(12, \?\), got shape \(8, 2\)"):
        gru.GRUParams(p.W_xh[:8], p.W_hh, p.b_xh, p.b_hh, p.W_hy, p.b_y)
    with pytest.raises(ValueError, match=r"b_hh: expected shape \(12,\), got shape \(4,\)"):
        gru.GRUParams(p.W_xh, p.W_hh, p.b_xh, p.b_hh[:4], p.W_hy, p.b_y)
    with pytest.raises(ValueError, match=r"W_hy: expected shape \(\?, 4\), got shape \(3, 5\)"):
        gru.GRUParams(p.W_xh, p.W_hh, p.b_xh, p.b_hh, np.zeros((3, 5)), p.b_y)
    with pytest.raises(ValueError, match=r"output_size: expected an integer >= 1"):
        gru.init_params(2, 4, 0, rng=rng)
    with pytest.raises(ValueError, match=r"rng: expected a numpy.random.Generator"):
        gru.init_params(2, 4, 3)


# ---------------------------------------------------------------------------------------------
# The shared machinery works on the GRU unchanged


def test_fit_trains_the_gru_on_the_recall_task():
    rng = np.random.default_rng(0)
    p = gru.init_params(1, 8, 1, rng=rng)
    test = rb.recall_task(500, 3, rng=np.random.default_rng(1))
    before = rb.recall_score(p, test)
    history = rb.fit(p, rb.recall_batches(3, 32), loss=rb.recall_loss,
                     optimizer=rb.Adam(0.02), steps=200, clip_norm=1.0, rng=rng)  # fmt: skip
    assert len(history.step_loss) == 200
    assert before < 0.1 and rb.recall_score(p, test) > 0.9


def test_fit_with_arrays_on_the_gru_lowers_the_validation_loss():
    rng = np.random.default_rng(0)
    parts = rb.book_split(0)
    p = gru.init_params(1, 8, 1, rng=rng)
    before = rb.evaluate(p, parts.val.x, parts.val.y)
    history = rb.fit(p, parts.train.x, parts.train.y, optimizer=rb.Adam(0.01), epochs=2,
                     batch_size=32, validation=(parts.val.x, parts.val.y), rng=rng)  # fmt: skip
    assert history.val_loss[-1] < 0.5 * before


def test_huge_learning_rate_raises_divergence_error_for_the_gru():
    rng = np.random.default_rng(0)
    p = gru.init_params(1, 4, 1, rng=rng)
    x = rng.normal(size=(8, 5, 1)) * 1e3
    with pytest.raises(rb.DivergenceError):
        rb.fit(p, x, x, optimizer=rb.SGD(1e6), epochs=3, max_loss=1e8, rng=rng)


# ---------------------------------------------------------------------------------------------
# Against PyTorch (skipped where the optional torch is not installed)


def test_forward_and_every_gradient_equal_torch_nn_gru(rng):
    torch = pytest.importorskip("torch")
    p, x, target, h0 = make_gru(rng, B=3, T=8, D=2, H=5, O=3)
    cache = gru.forward(p, x, h0)
    loss, dy = rb.mse_loss(cache.y, target)
    grads, dh0 = gru.bptt(p, cache, dy)

    cell = torch.nn.GRU(2, 5, batch_first=True, dtype=torch.float64)
    readout = torch.nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih_l0.copy_(torch.from_numpy(p.W_xh))
        cell.weight_hh_l0.copy_(torch.from_numpy(p.W_hh))
        cell.bias_ih_l0.copy_(torch.from_numpy(p.b_xh))
        cell.bias_hh_l0.copy_(torch.from_numpy(p.b_hh))
        readout.weight.copy_(torch.from_numpy(p.W_hy))
        readout.bias.copy_(torch.from_numpy(p.b_y))
    h0_t = torch.tensor(h0[None], requires_grad=True)
    h, _ = cell(torch.from_numpy(x), h0_t)
    y = readout(h)
    loss_t = ((y - torch.from_numpy(target)) ** 2).mean()
    loss_t.backward()

    assert loss == pytest.approx(loss_t.item(), rel=1e-13)
    np.testing.assert_allclose(cache.h, h.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cache.y, y.detach().numpy(), rtol=0, atol=1e-12)
    theirs = {
        "W_xh": cell.weight_ih_l0.grad, "W_hh": cell.weight_hh_l0.grad,
        "b_xh": cell.bias_ih_l0.grad, "b_hh": cell.bias_hh_l0.grad,
        "W_hy": readout.weight.grad, "b_y": readout.bias.grad,
    }  # fmt: skip
    for name, g in grads.items():
        t = theirs[name].numpy()
        assert np.abs(g - t).max() <= 1e-12 * np.abs(t).max(), name
    np.testing.assert_allclose(dh0, h0_t.grad.numpy()[0], rtol=0, atol=1e-12)
