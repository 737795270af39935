"""The fast path: rnnbook.rnn.Workspace, and the training step fit builds on it.

The workspace runs the same code as the public functions, in buffers it keeps; these tests
check that it gives the public functions' numbers, that what the public functions return is
never overwritten, and that clipping in place and Adam on one vector give bit for bit the
numbers of the plain per-field formulas.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from conftest import make_problem

import rnnbook as rb
from rnnbook.clip import clip_grad_norm_
from rnnbook.params import Params

SHAPES = [
    dict(B=1, T=1, D=1, H=1, O=1),
    dict(B=3, T=7, D=2, H=4, O=2),
    dict(B=32, T=25, D=1, H=16, O=1),
    dict(B=5, T=9, D=3, H=8, O=3),
    dict(B=4, T=6, D=1, H=40, O=1),  # H larger than B
    dict(B=70, T=5, D=2, H=64, O=2),  # a block above SMALL_BLOCK: the other route
]


def _gap(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def _public(p, x, target, h0, dh_T, truncate):
    cache = rb.forward(p, x, h0)
    _, dy = rb.mse_loss(cache.y, target)
    return cache, *rb.bptt(p, cache, dy, dh_T, truncate=truncate)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("truncate", [None, 1, 3])
@pytest.mark.parametrize("with_state", [False, True])
def test_workspace_agrees_with_the_public_functions(rng, shape, truncate, with_state):
    p, x, target, h0 = make_problem(rng, **shape)
    dh_T = rng.normal(size=h0.shape) if with_state else None
    h0 = h0 if with_state else None
    cache, grads, dh0 = _public(p, x, target, h0, dh_T, truncate)
    ws = rb.rnn.make_workspace(p)
    for _ in range(2):  # the second call runs in reused buffers
        fast = ws.forward(p, x, h0)
        _, dy = rb.mse_loss(fast.y, target)
        fast_grads, fast_dh0 = ws.bptt(p, fast, dy, dh_T, truncate=truncate)
        assert _gap(fast.h, cache.h) < 1e-12 and _gap(fast.y, cache.y) < 1e-12
        for name, g in grads.items():
            assert _gap(getattr(fast_grads, name), g) < 1e-12, name
        assert _gap(fast_dh0, dh0) < 1e-12
    np.testing.assert_array_equal(
        ws.backward(p, fast, dy, dh_T, truncate=truncate).W_hh, grads.W_hh
    )


@pytest.mark.parametrize("dh_T", [False, True])
def test_large_and_small_blocks_take_two_routes_to_the_same_numbers(rng, monkeypatch, dh_T):
    """Blocks above SMALL_BLOCK form 1 - h^2 step by step and use np.matmul, those below
    form it for all steps at once and use np.dot: the same gradients either way."""
    p, x, target, h0 = make_problem(rng, B=70, T=6, D=2, H=64, O=2)
    assert 70 * 64 > rb.rnn.SMALL_BLOCK
    dh_T = rng.normal(size=h0.shape) if dh_T else None
    large = _public(p, x, target, h0, dh_T, None)
    monkeypatch.setattr(rb.rnn, "SMALL_BLOCK", 10**9)
    small = _public(p, x, target, h0, dh_T, None)
    assert _gap(large[0].h, small[0].h) < 1e-12
    for name, g in small[1].items():
        assert _gap(getattr(large[1], name), g) < 1e-12, name
    assert _gap(large[2], small[2]) < 1e-12


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("with_state", [False, True])
def test_workspace_agrees_with_the_reference_code(rng, shape, with_state):
    """The fast path against rnnbook.reference, the one-line-per-equation RNN: 1e-12."""
    from rnnbook import reference

    p, x, target, h0 = make_problem(rng, **shape)
    h0 = h0 if with_state else None
    dh_T = rng.normal(size=(shape["B"], shape["H"])) if with_state else None
    h, y = reference.forward(p, x, h0)
    _, dy = rb.mse_loss(y, target)
    grads, dh0 = reference.bptt(p, x, h, dy, dh_T)
    ws = rb.rnn.make_workspace(p)
    fast = ws.forward(p, x, h0)
    assert _gap(fast.h, h[:, 1:]) < 1e-12 and _gap(fast.y, y) < 1e-12
    fast_grads, fast_dh0 = ws.bptt(p, fast, dy, dh_T)
    for name, g in grads.items():
        assert _gap(getattr(fast_grads, name), g) < 1e-12, name
    assert _gap(fast_dh0, dh0) < 1e-12


def test_workspace_reuses_its_buffers_and_keeps_one_set_per_shape(rng):
    p, x, target, _ = make_problem(rng, B=6, T=5)
    ws = rb.rnn.make_workspace(p)
    first = ws.forward(p, x)
    assert ws.forward(p, x + 1.0).blocks is first.blocks  # overwritten, as documented
    assert ws.forward(p, x[:2]).blocks is not first.blocks  # a smaller last minibatch
    g1 = ws.backward(p, first, rb.mse_loss(first.y, target)[1])
    assert ws.backward(p, first, rb.mse_loss(first.y, target)[1]) is g1
    with pytest.raises(ValueError, match="x: expected shape"):
        ws.forward(p, x.astype(np.float32))
    with pytest.raises(ValueError, match="dy: expected shape"):
        ws.backward(p, first, target[:, :3])


def test_what_the_public_functions_return_survives_later_calls(rng):
    p, x, target, h0 = make_problem(rng, B=4, T=6, D=2, H=5, O=2)
    cache = rb.forward(p, x, h0)
    h, y, hs, xs = cache.h.copy(), cache.y.copy(), cache.hs.copy(), cache.xs.copy()
    _, dy = rb.mse_loss(cache.y, target)
    grads, dh0 = rb.bptt(p, cache, dy)
    saved = grads.copy()
    dh0_saved = dh0.copy()
    for _ in range(2):  # later calls of the same shape, other values
        other = rb.forward(p, x * 2.0, -h0)
        rb.bptt(p, other, rb.mse_loss(other.y, -target)[1], truncate=2)
        rb.bptt(p, cache, dy * 3.0)
    for now, before in [(cache.h, h), (cache.y, y), (cache.hs, hs), (cache.xs, xs)]:
        np.testing.assert_array_equal(now, before)
    for name, g in saved.items():
        np.testing.assert_array_equal(getattr(grads, name), g, err_msg=name)
    np.testing.assert_array_equal(dh0, dh0_saved)


def test_cache_views_have_the_documented_shapes(rng):
    p, x, _, h0 = make_problem(rng, B=3, T=4, D=2, H=5, O=2)
    cache = rb.forward(p, x, h0)
    assert cache.h.shape == (3, 4, 5) and cache.y.shape == (3, 4, 2) and cache.h0.shape == (3, 5)
    assert (
        cache.hs.shape == (5, 3, 5) and cache.xs.shape == (4, 3, 2) and cache.ys.shape == (4, 3, 2)
    )
    np.testing.assert_array_equal(cache.xs, x.transpose(1, 0, 2))
    np.testing.assert_array_equal(cache.h0, h0)
    np.testing.assert_array_equal(cache.hs[1:], cache.h.transpose(1, 0, 2))


def test_float32_workspace_keeps_its_dtype(rng):
    p, x, target, h0 = make_problem(rng, dtype=np.float32)
    ws = rb.rnn.make_workspace(p)
    cache = ws.forward(p, x, h0)
    grads, dh0 = ws.bptt(p, cache, rb.mse_loss(cache.y, target)[1])
    assert cache.y.dtype == dh0.dtype == np.float32
    assert all(g.dtype == np.float32 for _, g in grads.items())


# ---------------------------------------------------------------------------------------------
# Clipping in place and Adam on one vector: the same bits as the plain formulas.


def _grads(rng, scale):
    p = rb.init_params(2, 5, 3, rng=rng)
    return p.map(lambda a: scale * rng.normal(size=a.shape))


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_clip_in_place_gives_the_bits_of_clip_grad_norm(rng, scale):
    g = _grads(rng, scale)
    expected, expected_norm = rb.clip_grad_norm(g, 1.0)
    norm = clip_grad_norm_(g, 1.0)
    assert norm == expected_norm
    for (name, a), (_, b) in zip(g.items(), expected.items()):
        assert a.tobytes() == b.tobytes(), name


def _adam_per_field(m, v, t, params, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Adam exactly as eq-adam, one field at a time (the loop rnnbook ran before)."""
    for (_, p), (_, g), (_, m_), (_, v_) in zip(
        params.items(), grads.items(), m.items(), v.items()
    ):
        m_ *= b1
        m_ += (1 - b1) * g
        v_ *= b2
        v_ += (1 - b2) * g * g
        m_hat = m_ / (1 - b1**t)
        v_hat = v_ / (1 - b2**t)
        p -= lr * m_hat / (np.sqrt(v_hat) + eps)


@dataclass
class _TwoFields(Params):
    """Any parameter dataclass: fields of different shapes and orders."""

    b: np.ndarray
    W: np.ndarray


@pytest.mark.parametrize("kind", ["rnn", "other"])
def test_adam_on_one_vector_gives_the_bits_of_the_per_field_loop(rng, kind):
    if kind == "rnn":
        params = rb.init_params(2, 5, 3, rng=rng)
    else:
        params = _TwoFields(b=rng.normal(size=4), W=rng.normal(size=(3, 2, 2)))
    mine, theirs = params.copy(), params.copy()
    m, v = params.zeros_like(), params.zeros_like()
    adam = rb.Adam(0.01)
    for t in range(1, 31):
        scale = 1e4 if t == 10 else 1.0  # a gradient spike
        grads = params.map(lambda a, s=scale: s * rng.normal(size=a.shape))
        adam.step(mine, grads)
        _adam_per_field(m, v, t, theirs, grads, 0.01)
    for (name, a), (_, b) in zip(mine.items(), theirs.items()):
        assert a.tobytes() == b.tobytes(), name
    for (name, a), (_, b) in zip(adam.v.items(), v.items()):
        assert a.tobytes() == b.tobytes(), name


def test_adam_state_can_be_replaced_from_outside(rng):
    params = rb.init_params(1, 3, 1, rng=rng)
    adam = rb.Adam(0.01)
    adam.step(params, params.map(np.ones_like))
    adam.m = params.zeros_like()  # e.g. a reset of the first moment
    adam.step(params, params.map(np.ones_like))
    for name, m in adam.m.items():
        np.testing.assert_allclose(m, 0.1, err_msg=name)  # (1 - beta1) g, from zero


# ---------------------------------------------------------------------------------------------
# fit takes the fast path, with the numbers of the plain functions.


def _fit(p, parts, **options):
    return rb.fit(p, parts.train.x, parts.train.y, optimizer=rb.Adam(0.01), epochs=3,
                  batch_size=32, clip_norm=0.5, validation=(parts.val.x, parts.val.y),
                  rng=np.random.default_rng(4), **options)  # fmt: skip


@pytest.mark.parametrize("truncate", [None, 4])
def test_fit_through_the_workspace_equals_fit_through_the_functions(monkeypatch, truncate):
    parts = rb.split(rb.book_task(np.random.default_rng(0), n=100), rng=np.random.default_rng(0))
    fast_p = rb.init_params(1, 6, 1, rng=np.random.default_rng(2))
    plain_p = fast_p.copy()
    fast = _fit(fast_p, parts, truncate=truncate)
    monkeypatch.delattr(rb.rnn, "make_workspace")  # a model module without a fast path
    plain = _fit(plain_p, parts, truncate=truncate)
    for name in ("train_loss", "val_loss", "step_loss", "grad_norm", "lr"):
        np.testing.assert_allclose(getattr(fast, name), getattr(plain, name), rtol=1e-12)
    assert fast.clipped == plain.clipped and any(fast.clipped)
    for (name, a), (_, b) in zip(fast_p.items(), plain_p.items()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)


def test_fit_steps_do_not_call_the_public_functions(monkeypatch):
    """Validation happens once, not per step: the steps run in the workspace."""
    parts = rb.split(rb.book_task(np.random.default_rng(0), n=100), rng=np.random.default_rng(0))
    calls = {"forward": 0, "backward": 0}
    for name in calls:
        real = getattr(rb.rnn, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(rb.rnn, name, counted)
    history = rb.fit(rb.init_params(1, 4, 1, rng=np.random.default_rng(0)), parts.train.x,
                     parts.train.y, optimizer=rb.Adam(0.01), epochs=2, batch_size=8)  # fmt: skip
    assert len(history.step_loss) > 10
    assert calls == {"forward": 1, "backward": 0}  # the one check of params and x


def test_fit_still_rejects_non_finite_inputs_anywhere():
    parts = rb.split(rb.book_task(np.random.default_rng(0), n=60), rng=np.random.default_rng(0))
    x = parts.train.x.copy()
    x[-1, 3, 0] = np.nan  # not in the first sequence
    with pytest.raises(ValueError, match="x: expected finite"):
        rb.fit(rb.init_params(1, 4, 1, rng=np.random.default_rng(0)), x, parts.train.y,
               optimizer=rb.SGD(0.1), epochs=1, batch_size=8)  # fmt: skip

    def bad_sampler(rng):
        x, y = rb.recall_batches(3, 4)(rng)
        x[0, 0] = np.inf
        return x, y

    with pytest.raises(ValueError, match="x: expected finite"):
        rb.fit(rb.init_params(1, 4, 1, rng=np.random.default_rng(0)), bad_sampler,
               optimizer=rb.SGD(0.1), loss=rb.recall_loss, steps=2,
               rng=np.random.default_rng(0))  # fmt: skip


@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("with_state", [False, True])
def test_batch_split_gives_the_numbers_of_the_whole_batch(rng, parts, with_state):
    """The parts' outputs joined and their gradients summed equal the whole batch's."""
    p, x, target, h0 = make_problem(rng, B=7, T=6, D=2, H=5, O=2)
    h0, dh_T = (h0, rng.normal(size=h0.shape)) if with_state else (None, None)
    cache, grads, dh0 = _public(p, x, target, h0, dh_T, None)
    split = rb.train.BatchSplit(p, parts=parts)
    for _ in range(2):  # the second call runs in the parts' reused buffers
        joined = split.forward(p, x, h0)
        np.testing.assert_allclose(joined.y, cache.y, rtol=1e-12, atol=1e-14)
        _, dy = rb.mse_loss(joined.y, target)
        split_grads, split_dh0 = split.bptt(p, joined, dy, dh_T)
        for (name, a), (_, b) in zip(split_grads.items(), grads.items()):
            assert _gap(a, b) < 1e-12, name
        assert _gap(split_dh0, dh0) < 1e-12
        assert split.backward(p, joined, dy, dh_T) is not None


def test_batch_split_needs_a_model_with_a_workspace(monkeypatch):
    p = rb.init_params(1, 3, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="parts"):
        rb.train.BatchSplit(p, parts=0)
    monkeypatch.delattr(rb.rnn, "make_workspace")
    with pytest.raises(ValueError, match="make_workspace"):
        rb.train.BatchSplit(p)
