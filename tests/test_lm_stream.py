"""Stateful truncated BPTT on a long stream (rnnbook.lm)."""

import numpy as np
import pytest

import rnnbook as rb
from rnnbook import gru, lm, lstm, rnn, text

V = 5


def make(module, rng, H=4):
    if module is rnn:
        return rb.init_params(V, H, V, scheme="xavier", rng=rng)
    return module.init_params(V, H, V, rng)


@pytest.mark.parametrize("module", [rnn, gru, lstm], ids=lambda m: m.__name__)
def test_chained_windows_recover_the_full_gradient_exactly(module):
    rng = np.random.default_rng(0)
    p = make(module, rng)
    x = rng.integers(0, V, (3, 12))
    target = rng.integers(0, V, (3, 12))
    cache = module.forward(p, x)
    _, dy = rb.cross_entropy_loss(cache.y, target)
    full = module.backward(p, cache, dy)
    chained = lm.stream_gradient(p, x, target, 5, exact=True)  # windows 5, 5, 2
    detached = lm.stream_gradient(p, x, target, 5, exact=False)
    for (name, a), (_, b) in zip(full.items(), chained.items()):
        assert np.abs(a - b).max() < 1e-12, name
    # detaching drops a nonzero term: the recurrent weights' gradient differs
    assert np.abs(full.W_hh - detached.W_hh).max() > 1e-6
    # with one window, nothing is dropped
    one = lm.stream_gradient(p, x, target, 12, exact=False)
    assert np.abs(one.W_hh - full.W_hh).max() < 1e-12


def test_stream_loss_does_not_depend_on_the_window():
    rng = np.random.default_rng(1)
    p = make(lstm, rng)
    s = rng.integers(0, V, (4, 30))
    a = lm.stream_loss(p, s, window=7)
    b = lm.stream_loss(p, s, window=100)
    cache = lstm.forward(p, s[:, :-1])
    c, _ = rb.cross_entropy_loss(cache.y, s[:, 1:])
    assert abs(a - b) < 1e-12 and abs(a - c) < 1e-12


def test_windows_keep_last_covers_every_target_once():
    s = np.arange(2 * 23, dtype=np.int32).reshape(2, 23)
    ys = [y for _, y in text.windows(s, 5, keep_last=True)]
    np.testing.assert_array_equal(np.concatenate(ys, axis=1), s[:, 1:])


@pytest.mark.parametrize("module", [rnn, gru, lstm], ids=lambda m: m.__name__)
def test_fit_stream_learns_a_periodic_text_and_carries_state(module):
    rng = np.random.default_rng(2)
    p = make(module, rng, H=16)
    period = np.array([0, 1, 2, 3, 4, 3, 2, 1])  # the next id depends on two before
    s = text.streams(np.tile(period, 400).astype(np.int32), 8)
    val = text.streams(np.tile(period, 50).astype(np.int32), 4)
    before = lm.stream_loss(p, val)
    hist = lm.fit_stream(p, s, window=10, optimizer=rb.Adam(lr=0.02), steps=300,
                         validation=val, evaluations=3, clip_norm=5.0)  # fmt: skip
    assert len(hist.val_loss) == 3 and len(hist.grad_norm) == 300
    assert hist.val_loss[-1] < 0.1 * before
    # steps beyond one epoch (40 windows here) restart the walk
    assert hist.val_loss[-1] < 0.05


def test_fit_stream_validates_and_selects():
    rng = np.random.default_rng(3)
    p = make(rnn, rng)
    s = rng.integers(0, V, (2, 50)).astype(np.int32)
    with pytest.raises(ValueError, match="streams"):
        lm.fit_stream(p, s.astype(float), window=5, optimizer=rb.SGD(lr=0.1), steps=2)
    with pytest.raises(ValueError, match="window"):
        lm.fit_stream(p, s, window=50, optimizer=rb.SGD(lr=0.1), steps=2)
    with pytest.raises(ValueError, match="select_best"):
        lm.fit_stream(p, s, window=5, optimizer=rb.SGD(lr=0.1), steps=2, select_best=True)
    with pytest.raises(rb.DivergenceError):
        lm.fit_stream(p, s, window=5, optimizer=rb.SGD(lr=1e3), steps=50, max_loss=3.0)
    q = make(rnn, rng)
    hist = lm.fit_stream(q, s, window=5, optimizer=rb.Adam(lr=0.05), steps=40,
                         validation=s[:, :20], evaluations=4, select_best=True)  # fmt: skip
    assert hist.best_epoch == int(np.argmin(hist.val_loss)) + 1
    assert abs(lm.stream_loss(q, s[:, :20]) - min(hist.val_loss)) < 1e-12
