"""Closed-loop generation: feeding predictions back."""

import numpy as np
import pytest

import rnnbook as rb


def test_generate_matches_forward_on_its_own_outputs(rng):
    params = rb.init_params(1, 7, 1, scheme="xavier_normal", rng=rng)
    params.b_h[:] = rng.normal(size=7)
    prompt = rng.normal(size=(3, 5, 1))
    out = rb.generate(params, prompt, 4)
    assert out.shape == (3, 4, 1)
    # Feeding prompt + forecasts through forward() in one go gives the same predictions.
    full = np.concatenate([prompt, out[:, :-1]], axis=1)
    np.testing.assert_allclose(rb.forward(params, full).y[:, 4:], out, atol=1e-12)
    # The first forecast is the ordinary next-step prediction.
    np.testing.assert_allclose(out[:, 0], rb.forward(params, prompt).y[:, -1])


def test_generate_with_h0_and_one_step(rng):
    params = rb.init_params(2, 4, 2, rng=rng)
    prompt, h0 = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 4))
    out = rb.generate(params, prompt, 1, h0=h0)
    np.testing.assert_allclose(out[:, 0], rb.forward(params, prompt, h0).y[:, -1])


def test_generate_rejects_bad_input(rng):
    with pytest.raises(ValueError, match="output_size == input_size"):
        rb.generate(rb.init_params(1, 4, 2, rng=rng), np.zeros((1, 3, 1)), 2)
    params = rb.init_params(1, 4, 1, rng=rng)
    with pytest.raises(ValueError, match="steps"):
        rb.generate(params, np.zeros((1, 3, 1)), 0)
    with pytest.raises(ValueError, match="x"):
        rb.generate(params, np.zeros((1, 3, 2)), 2)


def test_ar2_closed_loop_continues_a_sine_exactly():
    """x_{t+1} = 2 cos(w) x_t - x_{t-1} extrapolates a pure sine forever."""
    data = rb.seed_config(np.random.default_rng(0), length=40)
    coefs = rb.fit_ar(data.x[:, :20], data.y[:, :20], 2)
    out = rb.generate_ar(coefs, data.x[:, :20], 20)
    np.testing.assert_allclose(out, data.y[:, 19:39], atol=1e-8)


def test_generate_ar_first_step_is_predict_ar(rng):
    data = rb.sine_waves(10, 15, noise=0.1, rng=rng)
    coefs = rb.fit_ar(data.x, data.y, 4)
    out = rb.generate_ar(coefs, data.x[:, :6], 5)
    assert out.shape == (10, 5, 1)
    np.testing.assert_allclose(out[:, 0], rb.predict_ar(coefs, data.x[:, :6])[:, -1])
    series = np.concatenate([data.x[:, :6], out[:, :-1]], axis=1)
    np.testing.assert_allclose(rb.predict_ar(coefs, series)[:, 5:], out)
    with pytest.raises(ValueError, match="prompt"):
        rb.generate_ar(coefs, data.x[:, :6, 0], 5)


def test_dominant_frequency_finds_the_sine(rng):
    f_true = rng.uniform(0.03, 0.2, size=6)
    k = np.arange(40)
    series = 0.7 * np.sin(2 * np.pi * f_true[:, None] * k + 1.0) + 0.3
    series += rng.normal(0, 0.01, size=series.shape)
    grid = np.linspace(0.01, 0.3, 2901)  # steps of 1e-4
    found = rb.generation.dominant_frequency(series[:, :, None], grid)
    np.testing.assert_allclose(found, f_true, atol=3e-4)
    with pytest.raises(ValueError, match="freqs"):
        rb.generation.dominant_frequency(series, np.array([0.6]))
    with pytest.raises(ValueError, match="series"):
        rb.generation.dominant_frequency(series[:, :3], grid)


def test_generate_with_noise_feeds_back_noisy_forecasts(rng):
    params = rb.init_params(1, 6, 1, scheme="xavier_normal", rng=rng)
    prompt = rng.normal(size=(3, 4, 1))
    out = rb.generate(params, prompt, 5, noise=0.1, rng=np.random.default_rng(7))
    # replay: the same noise added to the forecasts, read in one forward pass
    noise = np.random.default_rng(7)
    fed = [out[:, k - 1 : k] + noise.normal(0.0, 0.1, (3, 1, 1)) for k in range(1, 5)]
    full = np.concatenate([prompt, *fed], axis=1)
    np.testing.assert_allclose(rb.forward(params, full).y[:, 3:], out, atol=1e-12)
    assert not np.allclose(out, rb.generate(params, prompt, 5))
    np.testing.assert_array_equal(out[:, 0], rb.generate(params, prompt, 5)[:, 0])
    with pytest.raises(ValueError, match="rng"):
        rb.generate(params, prompt, 5, noise=0.1)
    with pytest.raises(ValueError, match="noise"):
        rb.generate(params, prompt, 5, noise=-1.0)


@pytest.mark.parametrize("T0", [1, 2, 7])
def test_generate_ar_matches_predict_ar_for_short_and_long_prompts(rng, T0):
    """Prompts shorter than k use the lower-order models, as predict_ar does."""
    data = rb.sine_waves(12, 15, noise=0.1, rng=rng)
    coefs = rb.fit_ar(data.x, data.y, 5)
    out = rb.generate_ar(coefs, data.x[:, :T0], 6)
    series = np.concatenate([data.x[:, :T0], out[:, :-1]], axis=1)
    np.testing.assert_allclose(rb.predict_ar(coefs, series)[:, T0 - 1 :], out, atol=1e-12)
    with pytest.raises(ValueError, match="coefs"):
        rb.generate_ar(coefs[:, :-1], data.x[:, :T0], 2)
