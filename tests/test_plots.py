"""rnnbook.plots: the statistic plot_band draws as its line."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import rnnbook as rb

CURVES = np.array([[1.0, 2.0, 100.0], [4.0, np.nan, 1.0], [16.0, 8.0, 10.0]])


@pytest.mark.parametrize(
    "stat, expected",
    [
        ("mean", [7.0, 5.0, 37.0]),
        ("median", [4.0, 5.0, 10.0]),
        ("geomean", [4.0, 4.0, 10.0]),
    ],
)
def test_plot_band_draws_the_chosen_statistic(stat, expected):
    fig, ax = rb.plots.figure()
    line = rb.plots.plot_band(ax, np.arange(3), CURVES, "runs", stat=stat)
    np.testing.assert_allclose(line.get_ydata(), expected)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == 1.0 and band.max() == 100.0  # the range, whatever the line
    plt.close(fig)


def test_plot_band_default_is_the_mean():
    fig, ax = rb.plots.figure()
    line = rb.plots.plot_band(ax, np.arange(3), CURVES)
    np.testing.assert_allclose(line.get_ydata(), np.nanmean(CURVES, axis=0))
    plt.close(fig)


def test_plot_band_rejects_unknown_statistics_and_non_positive_geomeans():
    fig, ax = rb.plots.figure()
    with pytest.raises(ValueError, match="stat"):
        rb.plots.plot_band(ax, np.arange(3), CURVES, stat="mode")
    with pytest.raises(ValueError, match="curves"):
        rb.plots.plot_band(ax, np.arange(3), CURVES - 2.0, stat="geomean")
    plt.close(fig)
