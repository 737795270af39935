"""The LSTM: its equations, finite differences on every parameter, h_0 and c_0, dtypes,
the chunked gradient, validation, PyTorch's nn.LSTM, and training with the one fit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnbook as rb
from rnnbook import lstm


def make_lstm(rng, B=3, T=5, D=2, H=4, O=2, dtype=np.float64):
    """Random parameters (every bias non-zero), inputs, targets, h_0 and c_0."""
    p = lstm.init_params(D, H, O, rng=rng)
    p.b_h[:] += rng.normal(size=4 * H)
    p.b_y[:] = rng.normal(size=O)
    x = rng.normal(size=(B, T, D))
    target = rng.normal(size=(B, T, O))
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    cast = (lambda a: a.astype(dtype)) if dtype != np.float64 else (lambda a: a)
    return p.astype(dtype), cast(x), cast(target), cast(h0), cast(c0)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def naive_forward(p, x, h0, c0):
    """PyTorch's LSTM equations, one sequence and one step at a time, column vectors."""
    B, T, _ = x.shape
    H = p.hidden_size
    h, c, y = np.zeros((B, T, H)), np.zeros((B, T, H)), np.zeros((B, T, p.output_size))
    for b in range(B):
        h_prev, c_prev = h0[b], c0[b]
        for t in range(T):
            a = p.W_xh @ x[b, t] + p.W_hh @ h_prev + p.b_h
            i, f, g, o = (
                sigmoid(a[:H]),
                sigmoid(a[H : 2 * H]),
                np.tanh(a[2 * H : 3 * H]),
                sigmoid(a[3 * H :]),
            )
            c_prev = f * c_prev + i * g
            h_prev = o * np.tanh(c_prev)
            h[b, t], c[b, t] = h_prev, c_prev
            y[b, t] = p.W_hy @ h_prev + p.b_y
    return h, c, y


def test_forward_matches_the_equations(rng):
    p, x, _, h0, c0 = make_lstm(rng, B=3, T=7, D=2, H=5, O=3)
    cache = lstm.forward(p, x, h0, c0)
    h, c, y = naive_forward(p, x, h0, c0)
    assert cache.h.shape == cache.c.shape == (3, 7, 5) and cache.y.shape == (3, 7, 3)
    for got, want in ((cache.h, h), (cache.c, c), (cache.y, y)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # the gates the cache exposes are those of the equations
    a1 = x[:, 0] @ p.W_xh.T + h0 @ p.W_hh.T + p.b_h
    np.testing.assert_allclose(cache.f[:, 0], sigmoid(a1[:, 5:10]), rtol=1e-12)
    np.testing.assert_allclose(cache.g[:, 0], np.tanh(a1[:, 10:15]), rtol=1e-12)


def test_states_default_to_zeros(rng):
    p, x, _, h0, c0 = make_lstm(rng)
    zeros = np.zeros_like(h0)
    np.testing.assert_array_equal(lstm.forward(p, x).h, lstm.forward(p, x, zeros, zeros).h)
    np.testing.assert_array_equal(lstm.forward(p, x).c0, zeros)


def test_init_params_shapes_and_forget_bias(rng):
    p = lstm.init_params(3, 5, 2, rng=rng)
    assert (p.input_size, p.hidden_size, p.output_size) == (3, 5, 2)
    assert p.W_xh.shape == (20, 3) and p.W_hh.shape == (20, 5) and p.b_h.shape == (20,)
    assert p.num_parameters() == 4 * 5 * (3 + 5 + 1) + 2 * 5 + 2
    np.testing.assert_array_equal(p.b_h[5:10], 1.0)  # Jozefowicz et al. (2015)
    np.testing.assert_array_equal(np.delete(p.b_h, np.s_[5:10]), 0.0)
    q = lstm.init_params(3, 5, 2, rng=np.random.default_rng(0), forget_bias=0.0)
    np.testing.assert_array_equal(q.b_h, 0.0)
    assert lstm.init_params(1, 2, 1, rng=rng, dtype=np.float32).dtype == np.float32


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
    """Every entry of every parameter, over random shapes (T = 1, B = 1, D > 1, O > 1 included)."""
    B, T, D, H, O = shape
    p, x, target, _, _ = make_lstm(np.random.default_rng(seed), B, T, D, H, O)
    errors = rb.gradcheck(p, x, target)
    assert set(errors) == {"W_xh", "W_hh", "b_h", "W_hy", "b_y"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(
    "shape", [(1, 1, 1, 1, 1), (1, 8, 1, 3, 1), (4, 1, 3, 2, 2), (2, 9, 3, 5, 4)]
)
def test_bptt_grid_of_edge_shapes(shape):
    B, T, D, H, O = shape
    p, x, target, _, _ = make_lstm(np.random.default_rng(sum(shape)), B, T, D, H, O)
    assert max(rb.gradcheck(p, x, target).values()) < 1e-7


def test_initial_state_gradients_match_finite_differences(rng):
    p, x, target, h0, c0 = make_lstm(rng, B=2, T=6, D=2, H=3, O=2)
    cache = lstm.forward(p, x, h0, c0)
    loss, dy = rb.mse_loss(cache.y, target)
    _, dh0, dc0 = lstm.bptt(p, cache, dy)

    def value():
        return rb.mse_loss(lstm.forward(p, x, h0, c0).y, target)[0]

    floor = 1e-4 * loss
    assert rb.relative_error(dh0, rb.numerical_gradient(value, h0, 1e-3, 4), floor) < 1e-7
    assert rb.relative_error(dc0, rb.numerical_gradient(value, c0, 1e-3, 4), floor) < 1e-7


@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_float32_code_path_matches_finite_differences_in_float64(shape, seed):
    """float32: the same code in float32 keeps its dtype and equals the float64 gradient
    to float32 precision; the float64 gradient is the one checked by finite differences
    (float32 round-off, ~1e-7 |L|, is too coarse for a five-point stencil)."""
    B, T, D, H, O = shape
    p, x, target, _, _ = make_lstm(np.random.default_rng(seed), B, T, D, H, O)
    p32, x32, t32 = p.astype(np.float32), x.astype(np.float32), target.astype(np.float32)
    cache = lstm.forward(p32, x32)
    _, dy = rb.mse_loss(cache.y, t32)
    grads32, dh0, dc0 = lstm.bptt(p32, cache, dy)
    assert cache.h.dtype == cache.c.dtype == cache.y.dtype == dh0.dtype == dc0.dtype == np.float32
    cache64 = lstm.forward(p, x)
    grads64 = lstm.backward(p, cache64, rb.mse_loss(cache64.y, target)[1])
    for (name, a), (_, b) in zip(grads32.items(), grads64.items()):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5 * np.abs(b).max(), err_msg=name)


def test_float32_central_difference_with_a_loose_tolerance(rng):
    """Finite differences in float32 itself: a central difference with eps = 1e-2."""
    p, x, target, _, _ = make_lstm(rng, B=2, T=4, D=2, H=3, O=2, dtype=np.float32)
    errors = rb.gradcheck(p, x, target, eps=1e-2, order=2)
    assert max(errors.values()) < 2e-2, errors


def test_gradcheck_detects_a_wrong_gradient(rng, monkeypatch):
    """The check must be able to fail: break the carousel's factor and watch it."""
    p, x, target, _, _ = make_lstm(rng)
    real = lstm._local_derivatives

    def broken(cache):
        P, Q, R = real(cache)
        return P * 0.99, Q, R

    monkeypatch.setattr(lstm, "_local_derivatives", broken)
    assert rb.gradcheck(p, x, target)["W_hh"] > 1e-3


@pytest.mark.parametrize("cuts", [[4], [1], [2, 5], [1, 2, 3, 7]])
def test_chunks_chained_with_dh_T_and_dc_T_give_the_whole_sequence_gradient(rng, cuts):
    p, x, target, h0, c0 = make_lstm(rng, B=3, T=9, D=2, H=4, O=2)
    whole = lstm.forward(p, x, h0, c0)
    _, dy = rb.mse_loss(whole.y, target)
    expected, expected_dh0, expected_dc0 = lstm.bptt(p, whole, dy)
    bounds = [0, *sorted(set(cuts)), 9]
    caches, h, c = [], h0, c0
    for a, b in zip(bounds, bounds[1:]):
        caches.append(lstm.forward(p, x[:, a:b], h, c))
        h, c = caches[-1].h[:, -1], caches[-1].c[:, -1]
    total, dh_T, dc_T = p.zeros_like(), None, None
    for (a, b), cache in reversed(list(zip(zip(bounds, bounds[1:]), caches))):
        grads, dh_T, dc_T = lstm.bptt(p, cache, dy[:, a:b], dh_T, dc_T)
        for (_, g), (_, s) in zip(grads.items(), total.items()):
            s += g
    for name, g in expected.items():
        np.testing.assert_allclose(getattr(total, name), g, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(dh_T, expected_dh0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dc_T, expected_dc0, rtol=0, atol=1e-12)


def test_last_step_gradients_are_the_state_gradients_of_the_last_loss(rng):
    """dL_T/dh_k and dL_T/dc_k from last_step_gradients equal finite differences at k = 0
    and the bptt gradients of a loss on y_T alone."""
    p, x, target, h0, c0 = make_lstm(rng, B=2, T=6, D=2, H=3, O=1)
    cache = lstm.forward(p, x, h0, c0)
    dy = np.zeros_like(cache.y)
    dy[:, -1] = rng.normal(size=(2, 1))
    _, dh0, dc0 = lstm.bptt(p, cache, dy)
    g_h = lstm.last_step_gradients(p, cache, dy[:, -1] @ p.W_hy)
    g_c = lstm.last_step_gradients(p, cache, dy[:, -1] @ p.W_hy, state="c")
    assert g_h.shape == g_c.shape == (2, 7, 3)
    np.testing.assert_allclose(g_h[:, 0], dh0, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_c[:, 0], dc0, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_h[:, -1], dy[:, -1] @ p.W_hy, rtol=1e-12)
    # dL_T/dc_T = dL_T/dh_T * o_T * (1 - tanh^2 c_T)
    np.testing.assert_allclose(
        g_c[:, -1], g_h[:, -1] * cache.o[:, -1] * (1 - np.tanh(cache.c[:, -1]) ** 2), rtol=1e-12
    )


def test_sigmoid_is_the_logistic_function_and_does_not_overflow():
    a = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(lstm.sigmoid(a), 1 / (1 + np.exp(-a)), rtol=1e-14, atol=2e-16)
    with np.errstate(over="raise"):
        s = lstm.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 1.0])


# ---------------------------------------------------------------------------------------------
# Validation


def test_bad_inputs_name_the_argument(rng):
    p, x, target, h0, c0 = make_lstm(rng, B=3, T=5, D=2, H=4, O=2)
    with pytest.raises(ValueError, match=r"x: expected shape \(\?, \?, 2\), got shape \(3, 5, 1\)"):
        lstm.forward(p, x[..., :1])
    with pytest.raises(ValueError, match=r"x: expected dtype float64 .*got float32"):
        lstm.forward(p, x.astype(np.float32))
    with pytest.raises(ValueError, match=r"c0: expected shape \(3, 4\), got shape \(3, 5\)"):
        lstm.forward(p, x, h0, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"h0: expected finite"):
        lstm.forward(p, x, np.full_like(h0, np.nan), c0)
    with pytest.raises(ValueError, match=r"params: expected rnnbook.LSTMParams, got RNNParams"):
        lstm.forward(rb.init_params(2, 4, 2, rng=rng), x)
    bad = p.copy()
    bad.W_hh[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"params.W_hh: expected finite values"):
        lstm.forward(bad, x)
    cache = lstm.forward(p, x)
    _, dy = rb.mse_loss(cache.y, target)
    with pytest.raises(ValueError, match=r"dy: expected shape \(3, 5, 2\), got shape \(3, 4, 2\)"):
        lstm.backward(p, cache, dy[:, 1:])
    with pytest.raises(ValueError, match=r"dc_T: expected shape \(3, 4\)"):
        lstm.bptt(p, cache, dy, None, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"truncate: expected None"):
        lstm.backward(p, cache, dy, truncate=3)
    with pytest.raises(ValueError, match=r"cache: expected rnnbook.lstm.LSTMCache"):
        lstm.bptt(p, rb.forward(rb.init_params(2, 4, 2, rng=rng), x), dy)
    with pytest.raises(ValueError, match=r"state: expected 'h' or 'c'"):
        lstm.last_step_gradients(p, cache, dy[:, -1] @ p.W_hy, state="x")


def test_bad_params_name_the_field(rng):
    p = lstm.init_params(2, 4, 3, rng=rng)
    with pytest.raises(ValueError, match=r"W_hh: expected shape \(4H, H\) = \(16, 4\)"):
        lstm.LSTMParams(p.W_xh, p.W_hh[:12], p.b_h, p.W_hy, p.b_y)
    with pytest.raises(ValueError, match=r"W_xh: expected shape \(16, \?\), got shape \(12, 2\)"):
        lstm.LSTMParams(p.W_xh[:12], p.W_hh, p.b_h, p.W_hy, p.b_y)
    with pytest.raises(ValueError, match=r"b_h: expected shape \(16,\), got shape \(4,\)"):
        lstm.LSTMParams(p.W_xh, p.W_hh, p.b_h[:4], p.W_hy, p.b_y)
    with pytest.raises(ValueError, match=r"b_y: expected shape \(3,\), got shape \(2,\)"):
        lstm.LSTMParams(p.W_xh, p.W_hh, p.b_h, p.W_hy, p.b_y[:2])
    with pytest.raises(ValueError, match=r"W_hy: expected dtype float64"):
        lstm.LSTMParams(p.W_xh, p.W_hh, p.b_h, p.W_hy.astype(np.float32), p.b_y)
    with pytest.raises(ValueError, match=r"hidden_size: expected an integer >= 1, got 0"):
        lstm.init_params(2, 0, 3, rng=rng)
    with pytest.raises(ValueError, match=r"rng: expected a numpy.random.Generator"):
        lstm.init_params(2, 4, 3, rng=0)
    with pytest.raises(ValueError, match=r"forget_bias: expected a finite number, got nan"):
        lstm.init_params(2, 4, 3, rng=rng, forget_bias=float("nan"))
    with pytest.raises(ValueError, match=r"dtype: expected float32 or float64, got int64"):
        lstm.init_params(2, 4, 3, rng=rng, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# The shared machinery works on the LSTM unchanged


def test_fit_trains_the_lstm_on_the_recall_task():
    rng = np.random.default_rng(0)
    p = lstm.init_params(1, 8, 1, rng=rng)
    test = rb.recall_task(500, 3, rng=np.random.default_rng(1))
    before = rb.recall_score(p, test)
    history = rb.fit(p, rb.recall_batches(3, 32), loss=rb.recall_loss,
                     optimizer=rb.Adam(0.02), steps=200, clip_norm=1.0, rng=rng)  # fmt: skip
    assert len(history.step_loss) == 200
    assert before < 0.1 and rb.recall_score(p, test) > 0.9


def test_fit_with_arrays_validation_and_sgd_on_the_lstm():
    rng = np.random.default_rng(0)
    parts = rb.book_split(0)
    p = lstm.init_params(1, 8, 1, rng=rng)
    history = rb.fit(p, parts.train.x[:64], parts.train.y[:64], optimizer=rb.SGD(0.1, 0.9),
                     epochs=3, batch_size=16, validation=(parts.val.x, parts.val.y),
                     select_best=True, rng=rng)  # fmt: skip
    assert history.val_loss[-1] < history.val_loss[0] or history.best_epoch < 3
    clipped, norm = rb.clip_grad_norm(p, 1.0)
    assert isinstance(clipped, lstm.LSTMParams) and norm > 1.0


def test_same_seed_same_lstm_bit_for_bit():
    def run(seed):
        rng = np.random.default_rng(seed)
        p = lstm.init_params(1, 4, 1, rng=rng)
        rb.fit(p, rb.recall_batches(4, 8), loss=rb.recall_loss, optimizer=rb.Adam(0.01),
               steps=20, rng=rng)  # fmt: skip
        return p

    a, b = run(3), run(3)
    assert all(x.tobytes() == y.tobytes() for (_, x), (_, y) in zip(a.items(), b.items()))


# ---------------------------------------------------------------------------------------------
# Against PyTorch (skipped where the optional torch is not installed)


def test_forward_and_every_gradient_equal_torch_nn_lstm(rng):
    torch = pytest.importorskip("torch")
    p, x, target, h0, c0 = make_lstm(rng, B=3, T=8, D=2, H=5, O=3)
    cache = lstm.forward(p, x, h0, c0)
    loss, dy = rb.mse_loss(cache.y, target)
    grads, dh0, dc0 = lstm.bptt(p, cache, dy)

    cell = torch.nn.LSTM(2, 5, batch_first=True, dtype=torch.float64)
    readout = torch.nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih_l0.copy_(torch.from_numpy(p.W_xh))
        cell.weight_hh_l0.copy_(torch.from_numpy(p.W_hh))
        cell.bias_ih_l0.copy_(torch.from_numpy(p.b_h))  # b_h = bias_ih + bias_hh
        cell.bias_hh_l0.zero_()
        readout.weight.copy_(torch.from_numpy(p.W_hy))
        readout.bias.copy_(torch.from_numpy(p.b_y))
    h0_t = torch.tensor(h0[None], requires_grad=True)
    c0_t = torch.tensor(c0[None], requires_grad=True)
    h, (h_T, c_T) = cell(torch.from_numpy(x), (h0_t, c0_t))
    y = readout(h)
    loss_t = ((y - torch.from_numpy(target)) ** 2).mean()
    loss_t.backward()

    assert loss == pytest.approx(loss_t.item(), rel=1e-13)
    np.testing.assert_allclose(cache.y, y.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cache.c[:, -1], c_T.detach().numpy()[0], rtol=0, atol=1e-12)
    theirs = {
        "W_xh": cell.weight_ih_l0.grad, "W_hh": cell.weight_hh_l0.grad,
        "b_h": cell.bias_ih_l0.grad, "W_hy": readout.weight.grad, "b_y": readout.bias.grad,
    }  # fmt: skip
    # the two bias vectors get the same gradient (torch computes it twice)
    np.testing.assert_allclose(cell.bias_ih_l0.grad, cell.bias_hh_l0.grad, rtol=0, atol=1e-15)
    for name, g in grads.items():
        t = theirs[name].numpy()
        assert np.abs(g - t).max() <= 1e-12 * np.abs(t).max(), name
    np.testing.assert_allclose(dh0, h0_t.grad.numpy()[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(dc0, c0_t.grad.numpy()[0], rtol=0, atol=1e-12)
