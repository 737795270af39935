"""The RNN trained through its feedback path (rnnbook.feedback)."""

import numpy as np
import pytest

import rnnbook as rb
from rnnbook import feedback


def _params(rng, D=1, H=6):
    params = feedback.from_rnn(rb.init_params(D, H, D, scheme="xavier_normal", rng=rng))
    params.b_h[:] = 0.3 * rng.normal(size=H)
    params.b_y[:] = 0.3 * rng.normal(size=D)
    return params


def test_all_observed_is_the_ordinary_rnn(rng):
    params = _params(rng)
    s, h0 = rng.normal(size=(3, 7, 1)), rng.normal(size=(3, 6))
    cache = feedback.forward(params, feedback.prompted(s, 7), h0)
    plain = rb.forward(params, s, h0)
    np.testing.assert_allclose(cache.y, plain.y, atol=1e-13)
    dy = rng.normal(size=(3, 7, 1))
    grads, dh0 = feedback.bptt(params, cache, dy)
    plain_grads, plain_dh0 = rb.bptt(params, plain, dy)
    for (name, g), (_, p) in zip(grads.items(), plain_grads.items()):
        np.testing.assert_allclose(g, p, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(dh0, plain_dh0, atol=1e-12)


def test_free_running_is_generate(rng):
    """A prompt of P values, then free running, gives rb.generate's forecasts."""
    params = _params(rng)
    s = rng.normal(size=(4, 9, 1))
    y = feedback.forward(params, feedback.prompted(s, 4)).y
    np.testing.assert_allclose(y[:, 3:], rb.generate(params, s[:, :4], 6), atol=1e-13)
    # values after the prompt are never read
    s2 = s.copy()
    s2[:, 4:] = 99.0
    np.testing.assert_allclose(feedback.forward(params, feedback.prompted(s2, 4)).y, y)


def test_closed_loop_is_an_autonomous_rnn(rng):
    """(eq-closed-loop-jacobian): free running = an RNN with W_hh + W_xh W_hy, b_h + W_xh b_y."""
    params = _params(rng)
    s = rng.normal(size=(2, 8, 1))
    cache = feedback.forward(params, feedback.prompted(s, 1))
    W, b = params.W_hh + params.W_xh @ params.W_hy, params.b_h + params.W_xh @ params.b_y
    h = cache.hs[1]
    for t in range(2, 9):
        h = np.tanh(h @ W.T + b)
        np.testing.assert_allclose(cache.hs[t], h, atol=1e-13)


@pytest.mark.parametrize("prompt", [1, 3, np.array([1, 2, 5])])
def test_gradients_match_finite_differences(rng, prompt):
    params = _params(rng)
    s = rng.normal(size=(3, 6, 1))
    x, target = feedback.prompted(s, prompt), rng.normal(size=(3, 6, 1))
    errors = rb.gradcheck(params, x, target, h0=rng.normal(size=(3, 6)))
    assert max(errors.values()) < 1e-7, errors


def test_gradients_with_soft_flags_and_two_channels(rng):
    """Flags strictly between 0 and 1 (a mix of both inputs) and D = O = 2."""
    params = _params(rng, D=2, H=5)
    s = rng.normal(size=(2, 5, 2))
    flags = rng.uniform(0, 1, size=(2, 5, 1))
    flags[:, 0] = 1.0
    x = np.concatenate([s, flags], axis=2)
    errors = rb.gradcheck(params, x, rng.normal(size=(2, 5, 2)))
    assert max(errors.values()) < 1e-7, errors


def test_the_feedback_term_matters(rng):
    """Dropping the path y_t -> x~_{t+1} gives a different, wrong gradient."""
    params = _params(rng)
    s, target = rng.normal(size=(3, 6, 1)), rng.normal(size=(3, 6, 1))
    x = feedback.prompted(s, 2)
    cache = feedback.forward(params, x)
    _, dy = rb.mse_loss(cache.y, target)
    with_feedback = feedback.backward(params, cache, dy)
    read = cache.xs.transpose(1, 0, 2)  # the inputs the network read, batch-first
    teacher = rb.forward(params, read)  # the same states, the fed-back inputs taken as data
    np.testing.assert_allclose(teacher.y, cache.y, atol=1e-13)
    without = rb.backward(params, teacher, dy)
    assert not np.allclose(with_feedback.W_hy, without.W_hy)


def test_fit_trains_it_and_keeps_the_class(rng):
    data = rb.book_task(np.random.default_rng(0), n=64)

    def sample(rng):  # fresh prompts for every minibatch
        index = rng.choice(64, size=16, replace=False)
        return feedback.prompted(data.x[index], rng.integers(5, 21, size=16)), data.y[index]

    params = feedback.from_rnn(rb.init_params(1, 8, 1, rng=rng))
    x_val = feedback.prompted(data.x[:16], 10)
    before = rb.evaluate(params, x_val, data.y[:16])
    history = rb.fit(params, sample, optimizer=rb.Adam(0.01), steps=60, epochs=3,
                     validation=(x_val, data.y[:16]), select_best=True,
                     rng=np.random.default_rng(1))  # fmt: skip
    assert isinstance(params, feedback.FeedbackParams)
    assert rb.evaluate(params, x_val, data.y[:16]) < before
    assert len(history.val_loss) == 3


def test_prompted_flags_a_prefix():
    s = np.zeros((3, 6, 1))
    x = feedback.prompted(s, np.array([1, 3, 6]))
    assert x.shape == (3, 6, 2)
    np.testing.assert_array_equal(x[:, :, 1].sum(axis=1), [1, 3, 6])
    assert np.all(np.diff(x[:, :, 1], axis=1) <= 0)  # flags never go back to 1


def test_rejects_bad_input(rng):
    params = _params(rng)
    with pytest.raises(ValueError, match="output_size == input_size"):
        feedback.from_rnn(rb.init_params(1, 4, 2, rng=rng))
    with pytest.raises(ValueError, match="x"):
        feedback.forward(params, np.zeros((2, 5, 1)))  # no flag channel
    x = feedback.prompted(np.zeros((2, 5, 1)), 2)
    x[:, 0, 1] = 0.0
    with pytest.raises(ValueError, match="first step"):
        feedback.forward(params, x)
    with pytest.raises(ValueError, match="prompt"):
        feedback.prompted(np.zeros((2, 5, 1)), 0)
    with pytest.raises(ValueError, match="prompt"):
        feedback.prompted(np.zeros((2, 5, 1)), 6)
