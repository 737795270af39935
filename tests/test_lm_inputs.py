"""Integer inputs (character ids) for the three cells, final_state, and sampling."""

import numpy as np
import pytest

import rnnbook as rb
from rnnbook import gru, inputs, lstm, rnn, sampling

V, H, B, T = 6, 4, 3, 5


def make(module, rng, D=V, H=H):
    if module is rnn:
        p = rb.init_params(D, H, V, scheme="xavier", rng=rng)
    else:
        p = module.init_params(D, H, V, rng)
    for _, a in p.items():  # nonzero biases, so that every term is exercised
        a += 0.1 * rng.normal(size=a.shape)
    return p


CELLS = [rnn, gru, lstm]


def grads_of(module, p, x, target, state):
    cache = module.forward(p, x, **state)
    loss, dy = rb.cross_entropy_loss(cache.y, target)
    return loss, module.backward(p, cache, dy)


@pytest.mark.parametrize("module", CELLS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("Bt", [(B, T), (1, 1), (40, 30)])  # (40, 30): a large block
def test_ids_give_the_one_hot_loss_and_gradients(module, Bt):
    rng = np.random.default_rng(1)
    p = make(module, rng, H=32 if Bt[0] == 40 else H)
    ids = rng.integers(0, V, Bt)
    target = rng.integers(0, V, Bt)
    Hp = p.hidden_size
    state = {"h0": 0.3 * rng.normal(size=(Bt[0], Hp))}
    if module is lstm:
        state["c0"] = 0.3 * rng.normal(size=(Bt[0], Hp))
    loss_i, g_i = grads_of(module, p, ids, target, state)
    loss_f, g_f = grads_of(module, p, np.eye(V)[ids], target, state)
    assert abs(loss_i - loss_f) < 1e-12
    for (name, a), (_, b) in zip(g_i.items(), g_f.items()):
        assert np.abs(a - b).max() < 1e-12, name


def test_rnn_workspace_with_ids_matches_the_one_hot_path_and_truncation():
    rng = np.random.default_rng(2)
    p = make(rnn, rng, H=80)  # H B = 4000 and 8000: both sides of SMALL_BLOCK
    ws = rnn.make_workspace(p)
    for Bb in (50, 100):
        ids = rng.integers(0, V, (Bb, 12))
        target = rng.integers(0, V, (Bb, 12))
        dh_T = rng.normal(size=(Bb, 80))
        for truncate in (None, 4):
            c = ws.forward(p, ids)
            loss, dy = rb.cross_entropy_loss(c.y, target)
            g, dh0 = ws.bptt(p, c, dy, dh_T, truncate=truncate)
            g, dh0 = g.copy(), dh0.copy()
            c2 = rb.forward(p, np.eye(V)[ids])
            loss2, dy2 = rb.cross_entropy_loss(c2.y, target)
            g2, dh02 = rb.bptt(p, c2, dy2, dh_T, truncate=truncate)
            assert loss == loss2
            assert np.abs(dh0 - dh02).max() < 1e-12
            for (name, a), (_, b) in zip(g.items(), g2.items()):
                assert np.abs(a - b).max() < 1e-12, (name, truncate)


@pytest.mark.parametrize("module", CELLS, ids=lambda m: m.__name__)
def test_ids_path_matches_finite_differences(module):
    rng = np.random.default_rng(3)
    p = make(module, rng)
    ids = rng.integers(0, V, (B, T))
    ids[0, 0] = V - 1  # the last column is read too
    target = rng.integers(0, V, (B, T))
    h0 = 0.3 * rng.normal(size=(B, H)) if module is not lstm else None
    errors = rb.gradcheck(p, ids, target, h0=h0, loss=rb.cross_entropy_loss)
    assert max(errors.values()) < 1e-8, errors


def test_scatter_add_is_the_sum_over_reads():
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 5, 40)
    dz = rng.normal(size=(40, 3))
    expected = np.zeros((5, 3))
    np.add.at(expected, ids, dz)
    np.testing.assert_allclose(inputs.input_gradient(dz, ids, 5), expected.T, atol=1e-14)
    # a column never read gets exactly zero
    assert (inputs.input_gradient(dz, np.full(40, 2), 5)[:, [0, 1, 3, 4]] == 0).all()


@pytest.mark.parametrize("module", CELLS, ids=lambda m: m.__name__)
def test_ids_out_of_range_or_wrong_shape_are_named_errors(module):
    p = make(module, np.random.default_rng(5))
    with pytest.raises(ValueError, match=r"x: expected ids in \[0, 6\)"):
        module.forward(p, np.array([[0, 6]]))
    with pytest.raises(ValueError, match=r"x: expected ids in \[0, 6\)"):
        module.forward(p, np.array([[-1, 0]]))
    with pytest.raises(ValueError, match="x: expected dtype float32 or float64, got int64"):
        module.forward(p, np.zeros((2, 3, 6), dtype=np.int64))
    if module is rnn:
        with pytest.raises(ValueError, match="x: expected integer ids of shape"):
            rnn.make_workspace(p).forward(p, np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize("module", CELLS, ids=lambda m: m.__name__)
def test_final_state_continues_the_forward_pass(module):
    rng = np.random.default_rng(6)
    p = make(module, rng)
    ids = rng.integers(0, V, (B, 2 * T))
    whole = module.forward(p, ids)
    first = module.forward(p, ids[:, :T])
    state = module.final_state(first)
    second = module.forward(p, ids[:, T:], **state)
    np.testing.assert_allclose(second.y, whole.y[:, T:], atol=1e-13)
    # a copy: a later forward pass does not change it
    before = {k: v.copy() for k, v in state.items()}
    module.forward(p, ids[:, :T] % 2)
    for k in state:
        np.testing.assert_array_equal(state[k], before[k])


def test_sample_is_seeded_and_continues_the_prompt():
    rng = np.random.default_rng(7)
    p = make(rnn, rng)
    prompt = np.array([1, 2, 3])
    a = sampling.sample(p, prompt, 20, np.random.default_rng(0), temperature=0.8)
    b = sampling.sample(p, prompt, 20, np.random.default_rng(0), temperature=0.8)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (1, 20) and a.min() >= 0 and a.max() < V
    greedy = sampling.sample(p, prompt, 5, greedy=True)
    # greedy continuation by hand: argmax, fed back
    seq = list(prompt)
    for _ in range(5):
        seq.append(int(np.argmax(rb.forward(p, np.array([seq])).y[0, -1])))
    np.testing.assert_array_equal(greedy[0], seq[3:])
    for module in (gru, lstm):
        out = sampling.sample(make(module, rng), prompt, 4, np.random.default_rng(0), top_k=2)
        assert out.shape == (1, 4)


def test_next_ids_temperature_and_top_k():
    logits = np.log(np.array([[0.5, 0.3, 0.2]]))
    rng = np.random.default_rng(0)
    draws = np.array([sampling.next_ids(logits, rng)[0] for _ in range(4000)])
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 4000, [0.5, 0.3, 0.2], atol=0.03)
    top = {int(sampling.next_ids(logits, rng, top_k=2)[0]) for _ in range(300)}
    assert top == {0, 1}
    cold = [sampling.next_ids(logits, rng, temperature=0.05)[0] for _ in range(200)]
    assert set(cold) == {0}
    with pytest.raises(ValueError, match="temperature"):
        sampling.next_ids(logits, rng, temperature=0.0)
