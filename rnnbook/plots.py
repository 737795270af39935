"""The house style of every figure in the book, and small plotting helpers.

One palette for all figures: Okabe & Ito's eight colours, distinguishable with
every common form of colour blindness. Sequential data use ``viridis``.
"""

from __future__ import annotations

import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

#: Okabe-Ito colours, in the order figures use them (black comes last).
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS = list(PALETTE.values())
SEQUENTIAL_CMAP = "viridis"

STYLE = {
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "lines.linewidth": 1.6,
    "figure.figsize": (6.4, 3.4),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "image.cmap": SEQUENTIAL_CMAP,
    "savefig.dpi": 100,
    "svg.hashsalt": "rnnbook",  # deterministic SVG ids
}


def use_style() -> None:
    """Apply the house style to matplotlib's global settings."""
    mpl.rcParams.update(STYLE)


def figure(nrows: int = 1, ncols: int = 1, **kwargs):
    """A new figure in the house style: ``fig, axes = figure(1, 2)``."""
    use_style()
    return plt.subplots(nrows, ncols, **kwargs)


def plot_series(ax, series: np.ndarray, label: str | None = None, **kwargs):
    """Plot one sequence of shape (T,) or (T, 1) against the step index 1..T."""
    series = np.asarray(series).reshape(len(series), -1)
    steps = np.arange(1, len(series) + 1)
    return ax.plot(steps, series, label=label, **kwargs)


def plot_band(ax, x: np.ndarray, curves: np.ndarray, label: str | None = None, **kwargs):
    """The mean of several runs' curves as a line, their full range (min to max) shaded.

    Parameters
    ----------
    ax : matplotlib Axes
    x : ndarray, shape (n,)
        Positions along the horizontal axis (epochs, steps, lags).
    curves : ndarray, shape (runs, n)
        One row per run (seed). NaN entries (e.g. after a divergence) are ignored.
    label : str, optional
    **kwargs
        Passed to ``ax.plot`` (e.g. ``color``).

    Returns
    -------
    The line of the mean.
    """
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        mean = np.nanmean(curves, axis=0)
        low, high = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
    (line,) = ax.plot(x, mean, label=label, **kwargs)
    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, lw=0)
    return line
