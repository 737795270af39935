"""What the clipping chapter relies on, as properties of the package.

- With a threshold below every gradient norm, clipped SGD is normalized gradient descent:
  (eta, c) and (k eta, c / k) give the same parameters, step for step.
- A value limit bounds the global norm by limit * sqrt(P), with equality when every entry
  is clipped.
- `fit(..., max_loss=)` stops a run at the first step whose loss exceeds the limit, keeping
  the history of the steps before it.
- An optimizer subclass sees every update `fit` makes, once per step, after clipping.
"""

import numpy as np
import pytest

import rnnbook as rb


def _problem(seed=0, B=16, T=8, H=4):
    rng = np.random.default_rng(seed)
    params = rb.init_params(1, H, 1, rng=rng)
    x = rng.normal(size=(B, T, 1))
    y = np.roll(x, -1, axis=1)
    return params, x, y


def _train(params, x, y, lr, clip, steps=20):
    params = params.copy()
    history = rb.fit(
        params, x, y, optimizer=rb.SGD(lr), epochs=steps, batch_size=len(x), clip_norm=clip
    )
    return params, history


def _flat(p):
    return np.concatenate([a.ravel() for _, a in p.items()])


@pytest.mark.parametrize("k", [2.0, 10.0])
def test_only_eta_times_c_matters_when_every_step_is_clipped(k):
    params, x, y = _problem()
    a, ha = _train(params, x, y, 0.05, 1e-3)
    b, hb = _train(params, x, y, 0.05 * k, 1e-3 / k)
    assert all(ha.clipped) and all(hb.clipped)
    np.testing.assert_allclose(_flat(a), _flat(b), rtol=0, atol=1e-12)


def test_eta_and_c_differ_when_clipping_does_not_always_fire():
    params, x, y = _problem()
    a, ha = _train(params, x, y, 0.05, 1e3)  # never clips: plain SGD at 0.05
    b, hb = _train(params, x, y, 0.05 * 1e6, 1e-3)  # always clips: normalized steps
    assert not any(ha.clipped) and all(hb.clipped)
    assert np.abs(_flat(a) - _flat(b)).max() > 1e-3


def test_value_clip_norm_bound(rng):
    params, x, y = _problem()
    grads = rb.backward(params, rb.forward(params, x), rng.normal(size=y.shape))
    P = params.num_parameters()
    for limit in (1e-6, 1e-3, 1e-1, 10.0):
        clipped = rb.clip_grad_value(grads, limit)
        assert rb.global_norm(clipped) <= limit * np.sqrt(P) * (1 + 1e-12)
    every = 0.5 * np.abs(_flat(grads)).min()  # below every entry: all are clipped
    assert rb.global_norm(rb.clip_grad_value(grads, every)) == pytest.approx(every * np.sqrt(P))


def test_max_loss_stops_at_the_first_step_above_it():
    params, x, y = _problem()
    params = params.copy()
    with pytest.raises(rb.DivergenceError, match="the loss") as caught:
        rb.fit(params, x, y, optimizer=rb.SGD(50.0), epochs=200, batch_size=len(x), max_loss=10.0)
    history = caught.value.history
    losses = np.array(history.step_loss)
    assert len(losses) < 200 and (losses <= 10.0).all()


class _CountingSGD(rb.SGD):
    def __init__(self, lr):
        super().__init__(lr)
        self.norms = []

    def step(self, params, grads):
        self.norms.append(rb.global_norm(grads))
        super().step(params, grads)


def test_an_optimizer_subclass_sees_every_clipped_update():
    params, x, y = _problem()
    sgd = _CountingSGD(0.5)
    history = rb.fit(params.copy(), x, y, optimizer=sgd, epochs=3, batch_size=4, clip_norm=0.01)
    assert len(sgd.norms) == len(history.grad_norm) == 12
    seen = np.array(sgd.norms)
    raw = np.array(history.grad_norm)
    np.testing.assert_allclose(seen, np.minimum(raw, 0.01), rtol=1e-12)


@pytest.mark.parametrize("function", [rb.clip_grad_norm, rb.clip_grad_value])
def test_included_listings_fit_79_columns(function):
    """The chapter literalincludes these two functions: readers see every line."""
    import inspect

    wide = [line for line in inspect.getsource(function).splitlines() if len(line) > 79]
    assert not wide, wide
