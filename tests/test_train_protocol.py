"""The one training loop: any model, any loss, samplers, schedules, selection on validation,
parallel seeds, and the statistics the chapters report."""

import numpy as np
import pytest

import rnnbook as rb


@pytest.fixture
def parts():
    return rb.split(rb.book_task(np.random.default_rng(0), n=80), rng=np.random.default_rng(0))


def test_model_of_finds_the_module_of_any_params():
    p = rb.init_params(1, 3, 1, rng=np.random.default_rng(0))
    assert rb.model_of(p) is rb.rnn
    with pytest.raises(ValueError, match="params"):
        rb.model_of({"W_hh": np.eye(2)})


@pytest.mark.parametrize(
    "schedule, expected",
    [
        (rb.linear_warmup(4), [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0]),
        (rb.cosine_decay(), [0.5 * (1 + np.cos(np.pi * s / 8)) for s in range(1, 9)]),
        (rb.cosine_decay(warmup=2, final=0.1), None),
    ],
)
def test_schedules(schedule, expected):
    factors = [schedule(s, 8) for s in range(1, 9)]
    if expected is not None:
        np.testing.assert_allclose(factors, expected)
    assert factors[-1] == pytest.approx(
        getattr(schedule, "final", 1.0) if schedule.decay == "cosine" else 1.0
    )
    assert max(factors) <= 1.0


def test_fit_applies_the_schedule_and_restores_the_base_rate(parts):
    p = rb.init_params(1, 4, 1, rng=np.random.default_rng(0))
    optimizer = rb.SGD(0.1)
    history = rb.fit(
        p,
        parts.train.x,
        parts.train.y,
        optimizer=optimizer,
        epochs=2,
        batch_size=14,
        schedule=rb.cosine_decay(warmup=3),
    )
    steps = 2 * history.steps_per_epoch
    expected = [0.1 * rb.cosine_decay(warmup=3)(s, steps) for s in range(1, steps + 1)]
    np.testing.assert_allclose(history.lr, expected)
    assert optimizer.lr == 0.1


def test_select_best_keeps_the_epoch_with_the_lowest_validation_loss(parts):
    val = (parts.val.x, parts.val.y)
    p = rb.init_params(1, 4, 1, rng=np.random.default_rng(1))
    history = rb.fit(
        p,
        parts.train.x,
        parts.train.y,
        optimizer=rb.SGD(0.5),
        epochs=12,
        batch_size=8,
        validation=val,
        select_best=True,
        rng=np.random.default_rng(1),
    )
    best = int(np.argmin(history.val_loss)) + 1
    assert history.best_epoch == best
    assert rb.evaluate(p, *val) == pytest.approx(min(history.val_loss), rel=1e-12)
    with pytest.raises(ValueError, match="select_best"):
        rb.fit(p, parts.train.x, parts.train.y, optimizer=rb.SGD(0.1), epochs=1, select_best=True)


def test_max_loss_counts_a_blow_up_as_divergence(parts):
    p = rb.init_params(1, 4, 1, rng=np.random.default_rng(0))
    with pytest.raises(rb.DivergenceError, match="the loss"):
        rb.fit(p, parts.train.x, parts.train.y, optimizer=rb.SGD(0.1), epochs=1, max_loss=1e-9)


def test_sampler_arguments_are_checked():
    p = rb.init_params(1, 4, 1, rng=np.random.default_rng(0))
    sample = rb.recall_batches(3, 8)
    for kwargs, name in [
        (dict(steps=5), "rng"),
        (dict(rng=np.random.default_rng(0)), "steps"),
        (dict(steps=5, epochs=6, rng=np.random.default_rng(0)), "epochs"),
    ]:
        with pytest.raises(ValueError, match=name):
            rb.fit(p, sample, optimizer=rb.SGD(0.1), loss=rb.recall_loss, **kwargs)
    history = rb.fit(
        p,
        sample,
        optimizer=rb.SGD(0.1),
        loss=rb.recall_loss,
        steps=7,
        epochs=3,
        rng=np.random.default_rng(0),
    )
    assert len(history.step_loss) == 7 and len(history.train_loss) == 3


def test_train_run_reads_the_test_split_for_the_kept_parameters(parts):
    run = rb.train_run(
        parts, 0, hidden_size=4, epochs=6, select_best=True, schedule=rb.cosine_decay()
    )
    assert run.val_mse == pytest.approx(min(run.history.val_loss), rel=1e-12)
    assert run.test_mse == pytest.approx(rb.evaluate(run.params, parts.test.x, parts.test.y))


def test_over_seeds_gives_the_same_runs_in_parallel_and_in_turn(parts):
    def run(seed):
        return rb.train_run(parts, seed, hidden_size=4, epochs=2)

    parallel = rb.over_seeds(run, [0, 1, 2], processes=2)
    serial = rb.over_seeds(run, [0, 1, 2], processes=1)
    for a, b in zip(parallel, serial):
        assert a.seed == b.seed and a.test_mse == b.test_mse
        np.testing.assert_array_equal(a.params.W_hh, b.params.W_hh)


def test_statistics():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    mean, se = rb.mean_and_se(a)
    assert mean == 2.5 and se == pytest.approx(np.std(a, ddof=1) / 2)
    b = a + np.array([0.1, -0.1, 0.1, -0.1]) + 1.0
    diff, se_diff = rb.paired_difference(b, a)
    assert diff == pytest.approx(1.0) and se_diff == pytest.approx(np.sqrt(0.04 / 3) / 2)
    assert rb.geometric_mean([1e-4, 1.0]) == pytest.approx(1e-2)
    with pytest.raises(ValueError, match="positive"):
        rb.geometric_mean([0.0, 1.0])
    s = rb.summarize([1.0, 2.0, 6.0, np.nan])
    assert s.median == 2.0 and s.n_diverged == 1 and s.sem == pytest.approx(s.std / np.sqrt(3))


def test_gradcheck_takes_a_loss():
    rng = np.random.default_rng(3)
    p = rb.init_params(2, 3, 2, rng=rng)
    task = rb.recall_task(4, 3, rng=rng)
    x = np.concatenate([task.x, task.x], axis=2)
    errors = rb.gradcheck(p, x, np.concatenate([task.y, task.y], 1), loss=rb.recall_loss)
    assert max(errors.values()) < 1e-7
