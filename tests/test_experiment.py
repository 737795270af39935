"""The multi-seed runner, its summaries, per-step errors, baselines, and the book's task."""

import numpy as np
import pytest

import rnnbook as rb


@pytest.fixture(scope="module")
def parts():
    rng = np.random.default_rng(0)
    return rb.split(rb.book_task(rng, n=80, length=12), rng=rng)


def test_book_task_is_noisy_and_in_range():
    data = rb.book_task(np.random.default_rng(0), n=400, length=30)
    assert data.x.shape == (400, 30, 1)
    lo, hi = rb.data.BOOK_TASK["freq"]
    assert ((lo <= data.freq) & (data.freq <= hi)).all()
    clean = data.amplitude[:, None] * np.sin(
        2 * np.pi * data.freq[:, None] * np.arange(30) + data.phase[:, None]
    )
    noise = data.x[:, :, 0] - clean
    assert noise.std() == pytest.approx(rb.data.BOOK_TASK["noise"], rel=0.05)
    quiet = rb.book_task(np.random.default_rng(0), n=5, noise=0.0)
    np.testing.assert_array_equal(quiet.x[:, 1:], quiet.y[:, :-1])


def test_same_seed_same_run(parts):
    a = rb.train_run(parts, 3, hidden_size=6, epochs=3)
    b = rb.train_run(parts, 3, hidden_size=6, epochs=3)
    c = rb.train_run(parts, 4, hidden_size=6, epochs=3)
    assert a.test_mse == b.test_mse and a.history.val_loss == b.history.val_loss
    assert a.test_mse != c.test_mse
    assert not a.diverged and a.message == ""
    assert a.test_mse == pytest.approx(rb.evaluate(a.params, parts.test.x, parts.test.y))
    assert len(a.history.val_loss) == 3


def test_train_run_passes_options(parts):
    run = rb.train_run(
        parts,
        0,
        hidden_size=5,
        scheme="identity",
        init_options={"gain": 0.5},
        optimizer=lambda: rb.SGD(0.01),
        epochs=1,
        batch_size=None,
        clip_norm=1e-6,
        validate_every_epoch=False,
    )
    assert run.history.steps_per_epoch == 1 and run.history.clipped == [True]
    assert run.history.val_loss == []
    np.testing.assert_allclose(np.diag(run.params.W_hh), 0.5, atol=1e-3)  # one tiny step


def test_diverged_run_is_kept_with_its_history():
    rng = np.random.default_rng(3)
    data = rb.sine_waves(32, 25, rng=rng)
    parts = rb.Split(data, data, data)
    run = rb.train_run(
        parts, 0, hidden_size=16, optimizer=lambda: rb.SGD(1e3), epochs=60, batch_size=None
    )
    assert run.diverged and np.isnan(run.test_mse)
    assert "diverged at epoch" in run.message
    assert len(run.history.grad_norm) >= 1 and run.history.seconds > 0
    summary = rb.summarize([run, 0.5, 0.7])
    assert (summary.n, summary.n_diverged) == (3, 1)
    assert summary.mean == pytest.approx(0.6) and summary.std == pytest.approx(
        np.std([0.5, 0.7], ddof=1)
    )
    assert summary.format(2) == "0.60 ± 0.14 (1/3 diverged)"
    assert rb.summarize([run]).format() == "diverged (1/1)"


def test_divergence_error_carries_history():
    rng = np.random.default_rng(3)
    data = rb.sine_waves(32, 25, rng=rng)
    params = rb.init_params(1, 16, 1, rng=rng)
    with pytest.raises(rb.DivergenceError) as info:
        rb.fit(params, data.x, data.y, optimizer=rb.SGD(1e3), epochs=60)
    history = info.value.history
    assert history is not None and 1 <= len(history.grad_norm) < 60
    assert len(history.train_loss) == len(history.grad_norm)  # full batch: one step per epoch


def test_summarize_statistics():
    s = rb.summarize([1.0, 2.0, 3.0, 6.0])
    assert (s.mean, s.min, s.max, s.n, s.n_diverged) == (3.0, 1.0, 6.0, 4, 0)
    assert s.std == pytest.approx(np.std([1, 2, 3, 6], ddof=1))
    assert rb.summarize([2.5]).std == 0.0
    with pytest.raises(ValueError, match="runs"):
        rb.summarize([])


def test_curves_pad_diverged_runs(parts):
    ok = rb.train_run(parts, 0, hidden_size=4, epochs=3)
    short = rb.Run(1, ok.params, rb.History(val_loss=[1.0]), np.nan, True, "diverged")
    c = rb.curves([ok, short])
    assert c.shape == (2, 3) and np.isnan(c[1, 1:]).all() and c[1, 0] == 1.0
    assert rb.curves([ok], "train_loss").shape == (1, 3)
    with pytest.raises(ValueError, match="name"):
        rb.curves([ok], "grad_norm")


def test_step_mse():
    pred = np.zeros((2, 3, 1))
    target = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]])[:, :, None]
    np.testing.assert_allclose(rb.step_mse(pred, target), [5.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="target"):
        rb.step_mse(pred, target[:, :2])


def test_baselines(parts):
    mse = rb.baseline_mse(parts, orders=(1, 3))
    assert list(mse) == ["persistence", "AR(1)", "AR(3)", "linear (full history)", "Bayes"]
    pred = rb.baseline_predictions(parts, orders=(3,))
    expected = rb.predict_ar(rb.fit_ar(parts.train.x, parts.train.y, 3), parts.test.x)
    np.testing.assert_array_equal(pred["AR(3)"], expected)
    linear = rb.predict_linear(rb.fit_linear(parts.train.x, parts.train.y), parts.test.x)
    np.testing.assert_array_equal(pred["linear (full history)"], linear)
    np.testing.assert_array_equal(pred["Bayes"], rb.bayes_predict(parts.test.x))
    assert mse["AR(3)"] == pytest.approx(np.mean((expected - parts.test.y) ** 2))
    assert mse["Bayes"] < mse["linear (full history)"] < mse["AR(3)"] < mse["persistence"]


def test_baselines_on_other_data_and_task(parts):
    other = rb.book_task(np.random.default_rng(9), n=50, length=12, noise=0.1)
    pred = rb.baseline_predictions(parts, (2,), data=other, task={"noise": 0.1})
    assert pred["AR(2)"].shape == other.x.shape
    task = rb.sine_prior({"noise": 0.1})
    np.testing.assert_array_equal(pred["Bayes"], rb.bayes_predict(other.x, task))
    mse = rb.baseline_mse(parts, (2,), data=other, task={"noise": 0.1})
    assert mse["Bayes"] == pytest.approx(np.mean((pred["Bayes"] - other.y) ** 2))
    quiet = rb.book_task(np.random.default_rng(9), n=50, length=12, noise=0.0)
    assert "Bayes" not in rb.baseline_mse(parts, (2,), data=quiet, bayes=False)


def test_sequence_mse():
    pred = np.zeros((2, 2, 1))
    target = np.array([[1.0, 3.0], [0.0, 2.0]])[:, :, None]
    np.testing.assert_allclose(rb.sequence_mse(pred, target), [5.0, 2.0])
    assert rb.sequence_mse(pred, target).mean() == pytest.approx(np.mean(target**2))
    with pytest.raises(ValueError, match="target"):
        rb.sequence_mse(pred, target[:1])


def test_plot_band_draws_mean_and_range():
    import matplotlib.pyplot as plt

    fig, ax = rb.plots.figure()
    curves = np.array([[1.0, 2.0, 3.0], [3.0, np.nan, 5.0]])
    line = rb.plots.plot_band(ax, np.arange(3), curves, label="runs")
    np.testing.assert_allclose(line.get_ydata(), [2.0, 2.0, 4.0])
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == 1.0 and band[:, 1].max() == 5.0
    plt.close(fig)


def test_book_split_is_reproducible_and_disjoint():
    a, b = rb.book_split(0), rb.book_split(0)
    np.testing.assert_array_equal(a.test.x, b.test.x)
    assert (len(a.train), len(a.val), len(a.test)) == (420, 90, 90)
    assert not set(a.train.phase) & set(a.test.phase)
    small = rb.book_split(1, n=40, length=7, noise=0.0)
    assert small.train.x.shape == (28, 7, 1)
    with pytest.raises(ValueError, match="seed"):
        rb.book_split(-1)


def test_summary_format_with_one_survivor():
    assert rb.summarize([0.25, np.nan, np.nan]).format(2) == "0.25 (2/3 diverged)"
