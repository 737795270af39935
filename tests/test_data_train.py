"""Data, baselines and the training loop."""

import numpy as np
import pytest

import rnnbook as rb


def test_sine_waves_shapes_and_targets(rng):
    data = rb.sine_waves(6, 10, noise=0.0, rng=rng, dtype=np.float32)
    assert data.x.shape == data.y.shape == (6, 10, 1) and data.x.dtype == np.float32
    np.testing.assert_array_equal(data.x[:, 1:], data.y[:, :-1])  # the target is the next input
    t = np.arange(11)
    s = data.amplitude[:, None] * np.sin(2 * np.pi * data.freq[:, None] * t + data.phase[:, None])
    np.testing.assert_allclose(data.x[:, :, 0], s[:, :-1], atol=1e-6)
    assert ((0.02 <= data.freq) & (data.freq <= 0.15)).all()


def test_seed_config():
    data = rb.seed_config(np.random.default_rng(0))
    assert data.x.shape == (500, 25, 1)
    assert (data.freq == 0.1).all() and (data.amplitude == 1.0).all()
    assert data.phase.std() > 1.0  # random phase


def test_split_is_by_sequence_and_disjoint(rng):
    data = rb.sine_waves(100, 8, rng=rng)
    parts = rb.split(data, (0.6, 0.2, 0.2), rng=rng)
    assert (len(parts.train), len(parts.val), len(parts.test)) == (60, 20, 20)
    phases = [set(p.phase) for p in (parts.train, parts.val, parts.test)]
    assert (
        not (phases[0] & phases[1]) and not (phases[0] & phases[2]) and not (phases[1] & phases[2])
    )
    assert set.union(*phases) == set(data.phase)


def test_two_tap_ar_is_exact_on_one_frequency():
    """x_{t+1} = 2 cos(w) x_t - x_{t-1}: AR(2) recovers it from data."""
    data = rb.seed_config(np.random.default_rng(0))
    coefs = rb.fit_ar(data.x, data.y, 2)
    np.testing.assert_allclose(coefs[1], [2 * np.cos(2 * np.pi * 0.1), -1.0, 0.0], atol=1e-10)
    pred = rb.predict_ar(coefs, data.x)
    np.testing.assert_allclose(pred[:, 1:], data.y[:, 1:], atol=1e-10)  # exact after the first step


def test_persistence_and_ar_baselines(rng):
    data = rb.sine_waves(200, 30, rng=rng)
    persist = np.mean((rb.persistence(data.x) - data.y) ** 2)
    ar = np.mean((rb.predict_ar(rb.fit_ar(data.x, data.y, 4), data.x) - data.y) ** 2)
    assert ar < persist / 2


def test_ar_uses_the_shorter_model_early(rng):
    data = rb.sine_waves(50, 12, rng=rng)
    coefs = rb.fit_ar(data.x, data.y, 3)
    assert coefs.shape == (3, 4) and coefs[0, 1] == coefs[0, 2] == coefs[1, 2] == 0
    pred = rb.predict_ar(coefs, data.x)
    np.testing.assert_allclose(pred[:, 0, 0], coefs[0, 0] * data.x[:, 0, 0] + coefs[0, 3])
    expected = (
        data.x[:, 5, 0] * coefs[2, 0]
        + data.x[:, 4, 0] * coefs[2, 1]
        + data.x[:, 3, 0] * coefs[2, 2]
        + coefs[2, 3]
    )
    np.testing.assert_allclose(pred[:, 5, 0], expected)


def test_training_on_seed_config_lowers_the_loss_a_lot():
    rng = np.random.default_rng(0)
    parts = rb.split(rb.seed_config(rng), rng=rng)
    params = rb.init_params(1, 16, 1, rng=rng)
    before = rb.evaluate(params, parts.test.x, parts.test.y)
    history = rb.fit(
        params,
        parts.train.x,
        parts.train.y,
        optimizer=rb.Adam(0.01),
        epochs=30,
        batch_size=32,
        validation=(parts.val.x, parts.val.y),
        rng=rng,
    )
    after = rb.evaluate(params, parts.test.x, parts.test.y)
    assert len(history.train_loss) == len(history.val_loss) == 30
    assert len(history.grad_norm) == 30 * history.steps_per_epoch
    assert after < before / 20, (before, after)
    assert history.val_loss[-1] < history.val_loss[0] / 3


def test_clipping_is_recorded(rng):
    data = rb.sine_waves(16, 10, rng=rng)
    params = rb.init_params(1, 8, 1, rng=rng)
    history = rb.fit(params, data.x, data.y, optimizer=rb.SGD(0.01), epochs=5, clip_norm=1e-3)
    assert all(history.clipped) and history.clip_fraction == 1.0
    assert all(n > 1e-3 for n in history.grad_norm)


def test_huge_learning_rate_raises_divergence_error(rng):
    data = rb.sine_waves(32, 25, rng=rng)
    params = rb.init_params(1, 16, 1, rng=rng)
    with pytest.raises(
        rb.DivergenceError,
        match=r"diverged at epoch \d+ \(step \d+\).*clipping.*smaller learning rate",
    ):
        rb.fit(params, data.x, data.y, optimizer=rb.SGD(1e6), epochs=50)


def test_first_step_floor_is_the_error_of_the_best_guess_from_s0():
    """sin^2(omega) E[cos^2 phi]: the MSE of s_0 cos(omega) as a prediction of s_1."""
    phase = np.random.default_rng(0).uniform(0, 2 * np.pi, 200_000)
    omega = 2 * np.pi * 0.1
    s0, s1 = np.sin(phase), np.sin(phase + omega)
    measured = np.mean((s1 - s0 * np.cos(omega)) ** 2)
    assert rb.first_step_floor(0.1, phase) == pytest.approx(measured, rel=1e-12)
    assert rb.first_step_floor(0.1) == pytest.approx(measured, rel=1e-2)  # random phases
    assert rb.first_step_floor(0.1, length=25) == pytest.approx(rb.first_step_floor(0.1) / 25)
    assert rb.first_step_floor(0.1, np.zeros((3, 4))).shape == (3,)
