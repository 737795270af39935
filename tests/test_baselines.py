"""The references: full-history linear, Bayes (Gaussian and exact prior), windowed MLP."""

import numpy as np
import pytest

import rnnbook as rb
from rnnbook import baselines


@pytest.fixture(scope="module")
def fresh():
    return rb.fresh_test(2000, seed=3)


@pytest.fixture(scope="module")
def parts():
    return rb.book_split(0)


# ---------------------------------------------------------------------------------------------
# Full-history linear predictor


def test_fit_linear_is_ar_of_the_whole_history(parts):
    coefs = rb.fit_linear(parts.train.x, parts.train.y)
    T = parts.train.x.shape[1]
    assert coefs.shape == (T, T + 1)
    np.testing.assert_array_equal(coefs, rb.fit_ar(parts.train.x, parts.train.y, T))
    pred = rb.predict_linear(coefs, parts.test.x)
    # at step t it uses t + 1 lags: model t + 1, row t
    t = 7
    expected = parts.test.x[:, t::-1, 0] @ coefs[t, : t + 1] + coefs[t, -1]
    np.testing.assert_allclose(pred[:, t, 0], expected, rtol=1e-12)


def test_old_names_still_work():
    from rnnbook.data import fit_ar, persistence, predict_ar

    assert fit_ar is baselines.fit_ar and predict_ar is rb.predict_ar
    assert persistence is rb.persistence
    with pytest.raises(AttributeError):
        rb.data.not_a_baseline  # noqa: B018


def test_linear_beats_ar2_on_fresh_data(parts, fresh):
    lin = rb.sequence_mse(rb.predict_linear(rb.fit_linear(parts.train.x, parts.train.y), fresh.x),
                          fresh.y)  # fmt: skip
    ar2 = rb.sequence_mse(rb.predict_ar(rb.fit_ar(parts.train.x, parts.train.y, 2), fresh.x),
                          fresh.y)  # fmt: skip
    diff, se = rb.paired_difference(ar2, lin)
    assert diff > 5 * se


# ---------------------------------------------------------------------------------------------
# Bayes predictor with the Gaussian amplitude prior


def test_bayes_beats_the_full_history_linear_predictor(parts, fresh):
    lin = rb.predict_linear(rb.fit_linear(parts.train.x, parts.train.y), fresh.x)
    bayes = rb.bayes_predict(fresh.x)
    diff, se = rb.paired_difference(rb.sequence_mse(lin, fresh.y), rb.sequence_mse(bayes, fresh.y))
    assert diff > 10 * se, (diff, se)
    # and no worse at any single step, beyond noise
    per_step = (lin - fresh.y) ** 2 - (bayes - fresh.y) ** 2  # (B, T, 1)
    mean, se_step = rb.mean_and_se(per_step[:, :, 0])
    assert (mean > -3 * se_step).all()


def _draw_gaussian_model(prior, n, T, rng):
    """Sequences drawn from the model the prior describes exactly: (B, T + 1) samples."""
    j = rng.choice(prior.freqs.size, size=n, p=np.exp(prior.log_weights))
    a, b = rng.normal(0.0, np.sqrt(prior.var), size=(2, n, 1))
    omega_tau = 2 * np.pi * prior.freqs[j][:, None] * np.arange(T + 1)
    clean = a * np.sin(omega_tau) + b * np.cos(omega_tau)
    return clean + rng.normal(0.0, prior.noise, size=clean.shape)


def _quadrature_posterior_mean(prior, s, ahead):
    """E[s_{t+k} | s_0..s_{t}] for every k in `ahead`, by 2-d quadrature over (a, b).

    s has shape (n_obs,). The prior N(0, var I) and the likelihood are evaluated on a
    fine grid out to 7 prior standard deviations (the trapezoid rule is spectrally
    accurate for these smooth integrands), for every frequency of the prior.
    """
    t = s.size - 1
    grid = np.linspace(-7, 7, 401) * np.sqrt(prior.var)
    a, b = np.meshgrid(grid, grid, indexing="ij")
    log_terms, values = [], []
    for f, log_pi in zip(prior.freqs, prior.log_weights):
        omega = 2 * np.pi * f
        fit = sum(
            (s[tau] - a * np.sin(omega * tau) - b * np.cos(omega * tau)) ** 2
            for tau in range(t + 1)
        )
        log_terms.append(log_pi - (a**2 + b**2) / (2 * prior.var) - fit / (2 * prior.noise**2))
        values.append([a * np.sin(omega * (t + k)) + b * np.cos(omega * (t + k)) for k in ahead])
    log_terms = np.array(log_terms)
    weight = np.exp(log_terms - log_terms.max())
    values = np.array(values)  # (F, K, n, n)
    return np.einsum("fij,fkij->k", weight, values) / weight.sum()


def test_bayes_predict_is_the_exact_posterior_mean_when_its_prior_is_the_truth():
    prior = rb.SinePrior(
        freqs=np.array([0.04, 0.09, 0.17]), log_weights=np.log([0.2, 0.5, 0.3]),
        var=0.6, noise=0.25,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    s = _draw_gaussian_model(prior, 4, 6, rng)  # (4, 7)
    x = s[:, :-1, None]
    pred = rb.bayes_predict(x, prior)
    forecast = rb.bayes_forecast(x[:, :4], 3, prior)
    for i in range(4):
        for t in range(6):
            expected = _quadrature_posterior_mean(prior, s[i, : t + 1], [1])
            np.testing.assert_allclose(pred[i, t, 0], expected[0], rtol=0, atol=1e-9)
        expected = _quadrature_posterior_mean(prior, s[i, :4], [1, 2, 3])
        np.testing.assert_allclose(forecast[i, :, 0], expected, rtol=0, atol=1e-9)


def test_one_frequency_is_bayesian_linear_regression(rng):
    """With a single frequency, the posterior mean is ridge regression on (sin, cos)."""
    prior = rb.SinePrior(np.array([0.07]), np.zeros(1), var=0.5, noise=0.1)
    x = rng.normal(size=(3, 9, 1))
    pred = rb.bayes_predict(x, prior)
    omega_tau = 2 * np.pi * 0.07 * np.arange(10)
    Phi = np.stack([np.sin(omega_tau), np.cos(omega_tau)], axis=1)  # (10, 2)
    for t in range(9):
        A = Phi[: t + 1].T @ Phi[: t + 1] + prior.noise**2 / prior.var * np.eye(2)
        theta = np.linalg.solve(A, Phi[: t + 1].T @ x[:, : t + 1, 0].T)  # (2, 3)
        np.testing.assert_allclose(pred[:, t, 0], Phi[t + 1] @ theta, rtol=1e-10)


def test_pruning_and_blocks_do_not_change_the_predictions(fresh, monkeypatch):
    x = fresh.x[:150]
    pred = rb.bayes_predict(x)
    np.testing.assert_allclose(rb.bayes_predict(x, block=7), pred, rtol=0, atol=1e-13)
    monkeypatch.setattr(baselines, "PRUNE", np.inf)
    np.testing.assert_allclose(rb.bayes_predict(x, block=1000), pred, rtol=0, atol=1e-13)


def test_finer_frequency_grid_changes_little(fresh):
    x = fresh.x[:200]
    coarse, fine = rb.bayes_predict(x), rb.bayes_predict(x, rb.sine_prior(n_freqs=4096))
    assert np.abs(coarse - fine).max() < 2e-3
    assert abs(np.mean((coarse - fresh.y[:200]) ** 2) - np.mean((fine - fresh.y[:200]) ** 2)) < 1e-7


def test_bayes_forecast_starts_with_the_one_step_prediction(fresh):
    prompt = fresh.x[:300, :10]
    forecast = rb.bayes_forecast(prompt, 8)
    assert forecast.shape == (300, 8, 1)
    np.testing.assert_allclose(forecast[:, 0], rb.bayes_predict(prompt)[:, -1], atol=1e-12)
    # the one-step prediction after the full input is a 1-step forecast of the same prompt
    np.testing.assert_allclose(
        rb.bayes_forecast(fresh.x[:300], 1)[:, 0], rb.bayes_predict(fresh.x[:300])[:, -1],
        atol=1e-12,
    )  # fmt: skip


def test_bayes_forecast_beats_persistence_far_ahead(fresh):
    prompt, future = fresh.x[:500, :20], fresh.y[:500, 19:]  # s_20..s_25
    forecast = rb.bayes_forecast(prompt, future.shape[1])
    err = np.mean((forecast - future) ** 2, axis=(0, 2))
    hold = np.mean((prompt[:, -1:] - future) ** 2, axis=(0, 2))  # last value held
    assert (err < hold / 5).all()


def test_sine_prior_follows_the_task():
    prior = rb.sine_prior(n_freqs=10)
    assert prior.freqs.shape == (10,) and prior.freqs.min() > 0.02 and prior.freqs.max() < 0.15
    np.testing.assert_allclose(np.diff(prior.freqs), 0.013)
    assert prior.var == pytest.approx((1.5**3 - 0.5**3) / 3 / 2)  # E[A^2] / 2
    assert prior.noise == rb.data.BOOK_TASK["noise"]
    np.testing.assert_allclose(np.exp(prior.log_weights).sum(), 1.0)
    fixed = rb.sine_prior({"freq": 0.1, "amplitude": 2.0, "noise": 0.01})
    assert fixed.freqs.tolist() == [0.1] and fixed.var == 2.0 and fixed.noise == 0.01


def test_bayes_shapes_and_dtypes(fresh):
    x32 = fresh.x[:5].astype(np.float32)
    assert rb.bayes_predict(x32).dtype == np.float32 and rb.bayes_predict(x32).shape == (5, 25, 1)
    assert rb.bayes_forecast(x32, 4).shape == (5, 4, 1)


def test_bayes_validation(fresh):
    x = fresh.x[:3]
    with pytest.raises(ValueError, match="x"):
        rb.bayes_predict(x[:, :, 0])
    with pytest.raises(ValueError, match="prior"):
        rb.bayes_predict(x, prior={"noise": 0.1})
    with pytest.raises(ValueError, match="phase"):
        rb.sine_prior({"phase": (0.0, np.pi)})
    with pytest.raises(ValueError, match="noise"):
        rb.sine_prior({"noise": 0.0})
    with pytest.raises(ValueError, match="unknown"):
        rb.sine_prior({"frequency": 0.1})
    with pytest.raises(ValueError, match="freqs"):
        rb.SinePrior(np.array([0.1, 0.6]), np.zeros(2), 1.0, 0.1)
    with pytest.raises(ValueError, match="log_weights"):
        rb.SinePrior(np.array([0.1, 0.2]), np.zeros(3), 1.0, 0.1)
    with pytest.raises(ValueError, match="var"):
        rb.SinePrior(np.array([0.1]), np.zeros(1), 0.0, 0.1)
    with pytest.raises(ValueError, match="steps"):
        rb.bayes_forecast(x, 0)
    with pytest.raises(ValueError, match="n_freqs"):
        rb.sine_prior(n_freqs=0)
    with pytest.raises(ValueError, match="amplitude"):
        rb.bayes_exact_predict(x, {"amplitude": 1.0}, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        rb.bayes_exact_predict(x, rng=0)


# ---------------------------------------------------------------------------------------------
# The exact Bayes predictor (the task's ring-shaped prior on (a, b))


def _quadrature_exact(task, n_freqs, s):
    """E[s_{t+1} | s_0..s_t] for every t under the task's own prior, by quadrature.

    The frequency takes the n_freqs grid values of :func:`rnnbook.sine_prior`; A is
    uniform (midpoint rule, 400 cells) and phi uniform (trapezoid, 720 points). s: (T,).
    """
    freqs = rb.sine_prior(task, n_freqs).freqs
    a_lo, a_hi = task["amplitude"]
    A = a_lo + (np.arange(400) + 0.5) * (a_hi - a_lo) / 400
    phi = np.arange(720) * 2 * np.pi / 720
    omega = 2 * np.pi * freqs[:, None, None]
    log_lik = np.zeros((freqs.size, A.size, phi.size))
    out = []
    for t in range(s.size):
        log_lik -= (s[t] - A[:, None] * np.sin(omega * t + phi)) ** 2 / (2 * task["noise"] ** 2)
        w = np.exp(log_lik - log_lik.max())
        nxt = A[:, None] * np.sin(omega * (t + 1) + phi)
        out.append(np.sum(w * nxt) / w.sum())
    return np.array(out)


def test_exact_bayes_matches_quadrature_under_the_ring_prior():
    task = {**rb.data.BOOK_TASK, "noise": 0.3}
    data = rb.book_task(np.random.default_rng(4), n=3, length=5, noise=0.3)
    exact = rb.bayes_exact_predict(
        data.x, task, rng=np.random.default_rng(0), samples=100_000, n_freqs=8
    )
    gaussian = rb.bayes_predict(data.x, rb.sine_prior(task, n_freqs=8))
    for i in range(3):
        truth = _quadrature_exact(task, 8, data.x[i, :, 0])
        assert np.abs(exact[i, :, 0] - truth).max() < 0.01
        # the Gaussian prior is measurably off here, so the test can tell them apart
        assert np.abs(gaussian[i, :, 0] - truth).max() > 0.03


def test_exact_bayes_is_better_than_the_gaussian_prior_on_the_book_task():
    data = rb.fresh_test(400, seed=7)
    x, y = data.x[:, :8], data.y[:, :8]  # the prior matters most early
    exact = rb.bayes_exact_predict(x, rng=np.random.default_rng(0))
    gaussian = rb.bayes_predict(x)
    diff, se = rb.paired_difference(rb.sequence_mse(gaussian, y), rb.sequence_mse(exact, y))
    assert diff > 2 * se, (diff, se)
    assert np.abs(exact - gaussian).max() < 0.5


# ---------------------------------------------------------------------------------------------
# Windowed MLP


def test_window_features_pad_and_mask(rng):
    x = rng.normal(size=(2, 5, 2))
    z = rb.window_features(x, 3)
    assert z.shape == (2, 5, 3, 3)
    np.testing.assert_array_equal(z[:, 4, 0, :2], x[:, 4])  # lag 0
    np.testing.assert_array_equal(z[:, 4, 2, :2], x[:, 2])  # lag 2
    np.testing.assert_array_equal(z[:, 1, 2, :2], 0.0)  # before the start
    np.testing.assert_array_equal(
        z[0, :, :, 2], [[1, 0, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1], [1, 1, 1]]
    )


def test_window_gradients_match_finite_differences(rng):
    params = rb.init_window(2, 5, 3, 4, rng)
    params.b_h[:] = rng.normal(size=5)
    params.b_y[:] = rng.normal(size=3)
    x, target = rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 6, 3))
    errors = rb.gradcheck(params, x, target)
    assert set(errors) == {"W_zh", "b_h", "W_hy", "b_y"}
    assert max(errors.values()) < 1e-7, errors


def test_window_sees_only_its_window(rng):
    params = rb.init_window(1, 6, 1, 3, rng)
    x = rng.normal(size=(1, 8, 1))
    y = rb.window.forward(params, x).y
    x2 = x.copy()
    x2[0, 0] += 1.0  # changes the outputs of steps 0..2 only
    y2 = rb.window.forward(params, x2).y
    assert (y2[0, :3] != y[0, :3]).all() and (y2[0, 3:] == y[0, 3:]).all()


def test_window_shapes_and_validation(rng):
    params = rb.init_window(1, 4, 1, 5, rng, dtype=np.float32)
    assert params.W_zh.shape == (4, 5, 2) and params.dtype == np.float32
    assert (params.window, params.input_size, params.hidden_size, params.output_size) == (
        5,
        1,
        4,
        1,
    )
    assert params.num_parameters() == 4 * 10 + 4 + 4 + 1
    x = rng.normal(size=(2, 7, 1)).astype(np.float32)
    cache = rb.window.forward(params, x)
    assert cache.y.shape == (2, 7, 1) and cache.y.dtype == np.float32
    with pytest.raises(ValueError, match="h0"):
        rb.window.forward(params, x, np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="truncate"):
        rb.window.backward(params, cache, np.zeros_like(cache.y), truncate=3)
    with pytest.raises(ValueError, match="x"):
        rb.window.forward(params, x.astype(np.float64))
    with pytest.raises(ValueError, match="window"):
        rb.init_window(1, 4, 1, 0, rng)
    with pytest.raises(ValueError, match="W_hy"):
        rb.WindowParams(np.zeros((4, 5, 2)), np.zeros(4), np.zeros((1, 3)), np.zeros(1))
    with pytest.raises(ValueError, match="params"):
        rb.window.forward(rb.init_params(1, 4, 1, rng=rng), x)


def test_train_run_trains_the_window_mlp_with_the_same_protocol():
    rng = np.random.default_rng(0)
    parts = rb.split(rb.book_task(rng, n=200, length=12), rng=rng)
    run = rb.train_run(
        parts, 0, init=lambda rng: rb.init_window(1, 16, 1, 12, rng), epochs=20,
        select_best=True,
    )  # fmt: skip
    assert isinstance(run.params, rb.WindowParams) and not run.diverged
    assert run.test_mse == pytest.approx(rb.evaluate(run.params, parts.test.x, parts.test.y))
    assert run.val_mse == pytest.approx(min(run.history.val_loss))
    persistence = rb.baseline_mse(parts, (2,))["persistence"]
    assert run.test_mse < persistence / 2, (run.test_mse, persistence)
    again = rb.train_run(parts, 0, init=lambda rng: rb.init_window(1, 16, 1, 12, rng), epochs=20,
                         select_best=True)  # fmt: skip
    assert again.test_mse == run.test_mse
    with pytest.raises(ValueError, match="init_options"):
        rb.train_run(parts, 0, init=lambda rng: rb.init_window(1, 4, 1, 12, rng),
                     init_options={"gain": 1.0})  # fmt: skip


def test_exact_bayes_says_when_no_sample_reaches_the_ring():
    data = rb.book_task(np.random.default_rng(0), n=2, length=20, amplitude=3.0)
    with pytest.raises(RuntimeError, match="samples"):
        rb.bayes_exact_predict(data.x, rng=np.random.default_rng(0), samples=50)
