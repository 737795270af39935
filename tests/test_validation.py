"""Every bad input raises ValueError naming the argument, what it got and what it expected."""

import numpy as np
import pytest
from conftest import make_problem

import rnnbook as rb


@pytest.fixture
def problem(rng):
    return make_problem(rng, B=3, T=5, D=2, H=4, O=2)


@pytest.mark.parametrize(
    "make_x, pattern",
    [
        (lambda x: x[0], r"x: expected a 3-d array of shape \(\?, \?, 2\), got shape \(5, 2\)"),
        (lambda x: x[..., :1], r"x: expected shape \(\?, \?, 2\), got shape \(3, 5, 1\)"),
        (lambda x: x.astype(np.int64), r"x: expected dtype float32 or float64, got int64"),
        (
            lambda x: x.astype(np.complex128),
            r"x: expected dtype float32 or float64, got complex128",
        ),
        (lambda x: np.where(x > 1, np.nan, x), r"x: expected finite values, got NaN or inf"),
        (lambda x: np.where(x > 1, np.inf, x), r"x: expected finite values, got NaN or inf"),
        (lambda x: x.astype(np.float32), r"x: expected dtype float64 .*got float32"),
        (lambda x: x.tolist(), r"x: expected a numpy array, got list"),
    ],
)
def test_bad_x(problem, make_x, pattern):
    p, x, _, _ = problem
    with pytest.raises(ValueError, match=pattern):
        rb.forward(p, make_x(x))


def test_bad_h0(problem):
    p, x, _, h0 = problem
    with pytest.raises(ValueError, match=r"h0: expected shape \(3, 4\), got shape \(3, 5\)"):
        rb.forward(p, x, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"h0: expected finite"):
        rb.forward(p, x, np.full_like(h0, np.nan))


def test_bad_params(problem, rng):
    p, x, _, _ = problem
    with pytest.raises(ValueError, match=r"W_hh: expected shape \(4, 4\), got shape \(4, 3\)"):
        rb.RNNParams(p.W_xh, p.W_hh[:, :3], p.b_h, p.W_hy, p.b_y)
    with pytest.raises(ValueError, match=r"b_y: expected shape \(2,\), got shape \(3,\)"):
        rb.RNNParams(p.W_xh, p.W_hh, p.b_h, p.W_hy, np.zeros(3))
    with pytest.raises(ValueError, match=r"W_hy: expected shape \(\?, 4\), got shape \(2, 5\)"):
        rb.RNNParams(p.W_xh, p.W_hh, p.b_h, np.zeros((2, 5)), p.b_y)
    with pytest.raises(ValueError, match=r"b_h: expected dtype float64"):
        rb.RNNParams(p.W_xh, p.W_hh, p.b_h.astype(np.float32), p.W_hy, p.b_y)
    with pytest.raises(ValueError, match=r"W_xh: expected dtype float32 or float64, got int64"):
        rb.RNNParams(np.zeros((4, 2), dtype=np.int64), p.W_hh, p.b_h, p.W_hy, p.b_y)
    bad = p.copy()
    bad.W_hh[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"params.W_hh: expected finite values"):
        rb.forward(bad, x)
    with pytest.raises(ValueError, match=r"params: expected rnnbook.RNNParams, got dict"):
        rb.forward(dict(p.items()), x)


def test_bad_dy_and_loss(problem):
    p, x, target, _ = problem
    cache = rb.forward(p, x)
    with pytest.raises(ValueError, match=r"dy: expected shape \(3, 5, 2\), got shape \(3, 5, 1\)"):
        rb.backward(p, cache, target[..., :1])
    with pytest.raises(
        ValueError, match=r"target: expected shape \(3, 5, 2\), got shape \(3, 4, 2\)"
    ):
        rb.mse_loss(cache.y, target[:, :4])
    with pytest.raises(ValueError, match=r"truncate: expected an integer >= 1, got 0"):
        rb.backward(p, cache, target, truncate=0)


@pytest.mark.parametrize(
    "sizes, name",
    [((0, 4, 1), "input_size"), ((1, -3, 1), "hidden_size"), ((1, 4, 2.5), "output_size")],
)
def test_bad_sizes(rng, sizes, name):
    with pytest.raises(ValueError, match=rf"{name}: expected an integer >= 1, got"):
        rb.init_params(*sizes, rng=rng)


def test_bad_init_arguments(rng):
    with pytest.raises(ValueError, match=r"scheme: expected one of .* got 'he'"):
        rb.init_params(1, 4, 1, scheme="he", rng=rng)
    with pytest.raises(ValueError, match=r"rng: expected a numpy.random.Generator .* got NoneType"):
        rb.init_params(1, 4, 1)
    with pytest.raises(ValueError, match=r"rng: expected a numpy.random.Generator .* got int 0"):
        rb.init_params(1, 4, 1, rng=0)
    with pytest.raises(ValueError, match=r"std: expected a finite number > 0, got -0.1"):
        rb.init_params(1, 4, 1, scheme="normal", std=-0.1, rng=rng)
    with pytest.raises(ValueError, match=r"dtype: expected float32 or float64, got int32"):
        rb.init_params(1, 4, 1, rng=rng, dtype=np.int32)


@pytest.mark.parametrize("bad", [-1.0, 0.0, np.nan, np.inf, "1"])
def test_bad_clip_thresholds(rng, bad):
    grads = rb.init_params(1, 3, 1, rng=rng)
    with pytest.raises(ValueError, match=r"max_norm: expected a finite number > 0"):
        rb.clip_grad_norm(grads, bad)
    with pytest.raises(ValueError, match=r"limit: expected a finite number > 0"):
        rb.clip_grad_value(grads, bad)


def test_bad_optimizer_and_training_arguments(rng):
    with pytest.raises(ValueError, match=r"lr: expected a finite number > 0, got -0.1"):
        rb.SGD(lr=-0.1)
    with pytest.raises(ValueError, match=r"momentum: expected a number in \[0, 1\), got 1.0"):
        rb.SGD(lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match=r"beta2: expected a number in \[0, 1\), got 1.5"):
        rb.Adam(beta2=1.5)
    data = rb.sine_waves(4, 5, rng=rng)
    params = rb.init_params(1, 3, 1, rng=rng)
    opt = rb.SGD(0.1)
    with pytest.raises(ValueError, match=r"epochs: expected an integer >= 1, got 0"):
        rb.fit(params, data.x, data.y, optimizer=opt, epochs=0)
    with pytest.raises(ValueError, match=r"batch_size: expected an integer >= 1, got -2"):
        rb.fit(params, data.x, data.y, optimizer=opt, epochs=1, batch_size=-2)
    with pytest.raises(ValueError, match=r"clip_norm: expected a finite number > 0, got -1"):
        rb.fit(params, data.x, data.y, optimizer=opt, epochs=1, clip_norm=-1)
    with pytest.raises(
        ValueError, match=r"target: expected shape \(4, 5, 1\), got shape \(4, 4, 1\)"
    ):
        rb.fit(params, data.x, data.y[:, :4], optimizer=opt, epochs=1)


def test_bad_data_arguments(rng):
    with pytest.raises(ValueError, match=r"n: expected an integer >= 1, got 0"):
        rb.sine_waves(0, 5, rng=rng)
    with pytest.raises(ValueError, match=r"freq: expected values in \(0, 0.5\)"):
        rb.sine_waves(3, 5, freq=0.7, rng=rng)
    with pytest.raises(ValueError, match=r"amplitude: expected a \(low, high\) interval"):
        rb.sine_waves(3, 5, amplitude=(2.0, 1.0), rng=rng)
    with pytest.raises(ValueError, match=r"noise: expected a finite number >= 0, got -0.1"):
        rb.sine_waves(3, 5, noise=-0.1, rng=rng)
    with pytest.raises(ValueError, match=r"fractions: expected three numbers"):
        rb.split(rb.sine_waves(10, 5, rng=rng), (0.5, 0.6, 0.1), rng=rng)
    with pytest.raises(ValueError, match=r"k: expected at most the sequence length 5, got 6"):
        data = rb.sine_waves(3, 5, rng=rng)
        rb.fit_ar(data.x, data.y, 6)
