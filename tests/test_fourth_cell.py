"""One training loop for every cell: a model defined outside rnnbook needs no change to it.

``tests/diagonal_cell.py`` is a fourth cell in one module; rb.fit, rb.gradcheck, clipping,
SGD and Adam must serve it exactly as they serve the vanilla RNN, the GRU and the LSTM.
"""

import diagonal_cell as cell
import numpy as np
import pytest

import rnnbook as rb


def test_model_of_finds_the_fourth_cell_and_the_gated_ones(rng):
    assert rb.model_of(cell.init_params(2, 3, 1, rng)) is cell
    assert rb.model_of(rb.gru.init_params(1, 3, 1, rng=rng)) is rb.gru
    assert rb.model_of(rb.lstm.init_params(1, 3, 1, rng=rng)) is rb.lstm


def test_gradcheck_serves_the_fourth_cell_and_catches_a_wrong_gradient(rng, monkeypatch):
    params = cell.init_params(2, 4, 3, rng)
    x, target = rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 6, 3))
    assert max(rb.gradcheck(params, x, target).values()) < 1e-8
    right = cell.backward
    monkeypatch.setattr(cell, "backward", lambda *a: right(*a).map(lambda g: 1.01 * g))
    assert max(rb.gradcheck(params, x, target).values()) > 1e-3


def test_clipping_serves_any_parameter_dataclass(rng):
    grads = cell.init_params(2, 4, 3, rng)
    clipped, norm = rb.clip_grad_norm(grads, 0.5 * rb.global_norm(grads))
    assert isinstance(clipped, cell.DiagonalParams)
    assert rb.global_norm(clipped) == pytest.approx(0.5 * norm)


@pytest.mark.parametrize("optimizer", [rb.SGD(0.05, momentum=0.9), rb.Adam(0.02)])
def test_fit_trains_the_fourth_cell_on_arrays_with_validation(rng, optimizer):
    x = rng.normal(size=(64, 10, 1))
    target = np.cumsum(0.5 * x, axis=1)  # a leaky sum: learnable by the diagonal recurrence
    params = cell.init_params(1, 4, 1, rng)
    before = rb.evaluate(params, x, target)
    history = rb.fit(params, x, target, optimizer=optimizer, epochs=30, batch_size=16,
                     clip_norm=1.0, validation=(x, target), select_best=True, rng=rng)  # fmt: skip
    assert history.val_loss[history.best_epoch - 1] < 0.1 * before
    assert rb.evaluate(params, x, target) == pytest.approx(min(history.val_loss))


def test_fit_with_a_sampler_and_the_recall_loss_serves_the_fourth_cell(rng):
    params = cell.init_params(1, 4, 1, rng)
    test = rb.recall_task(500, 3, rng=np.random.default_rng(1))
    before = rb.recall_score(params, test)
    rb.fit(params, rb.recall_batches(3, 32), loss=rb.recall_loss, optimizer=rb.Adam(0.02),
           steps=300, clip_norm=1.0, rng=rng)  # fmt: skip
    assert rb.recall_score(params, test) > max(before, 0.0) + 0.3


def test_fit_gives_the_gated_cells_the_same_numbers_as_their_own_functions(rng):
    """fit on a gated cell (through its workspace if the module has one, else its forward and
    backward) is, step by step, a hand-written loop of forward, loss, BPTT, clipping, Adam."""
    for module in (rb.gru, rb.lstm):
        start = module.init_params(1, 5, 1, rng=np.random.default_rng(0))
        sample = rb.recall_batches(4, 8)
        fitted = start.copy()
        rb.fit(fitted, sample, loss=rb.recall_loss, optimizer=rb.Adam(0.01), steps=5,
               clip_norm=0.5, rng=np.random.default_rng(1))  # fmt: skip
        by_hand, adam, draw = start.copy(), rb.Adam(0.01), np.random.default_rng(1)
        for _ in range(5):
            x, target = sample(draw)
            cache = module.forward(by_hand, x)
            _, dy = rb.recall_loss(cache.y, target)
            grads, _ = rb.clip_grad_norm(module.backward(by_hand, cache, dy), 0.5)
            adam.step(by_hand, grads)
        for (name, a), (_, b) in zip(fitted.items(), by_hand.items()):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=name)
