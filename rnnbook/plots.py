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


def plot_band(
    ax,
    x: np.ndarray,
    curves: np.ndarray,
    label: str | None = None,
    *,
    stat: str = "mean",
    **kwargs,
):
    """One statistic of several runs' curves as a line, their full range shaded.

    Parameters
    ----------
    ax : matplotlib Axes
    x : ndarray, shape (n,)
        Positions along the horizontal axis (epochs, steps, lags).
    curves : ndarray, shape (runs, n)
        One row per run (seed). NaN entries (e.g. after a divergence) are ignored.
    label : str, optional
    stat : {"mean", "median", "geomean"}
        The line: the arithmetic mean, the median, or the geometric mean
        (for positive quantities on a log scale, such as losses or gradient
        norms, the median or the geometric mean is the typical run; the
        arithmetic mean follows the largest runs).
    **kwargs
        Passed to ``ax.plot`` (e.g. ``color``).

    Returns
    -------
    The line of the statistic.
    """
    if stat not in STATS:
        raise ValueError(f"stat: expected one of {sorted(STATS)}, got {stat!r}")
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    if stat == "geomean" and (curves <= 0).any():
        raise ValueError("curves: the geometric mean needs positive values (or NaN)")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        line_values = STATS[stat](curves)
        low, high = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
    (line,) = ax.plot(x, line_values, label=label, **kwargs)
    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, lw=0)
    return line


#: What :func:`plot_band` can draw as its line, over the runs (rows), NaN ignored.
STATS = {
    "mean": lambda c: np.nanmean(c, axis=0),
    "median": lambda c: np.nanmedian(c, axis=0),
    "geomean": lambda c: np.exp(np.nanmean(np.log(c), axis=0)),
}


def _node(ax, xy: tuple[float, float], text: str, color: str) -> None:
    """A rounded box with a LaTeX label, centred at `xy` (used by :func:`draw_unrolled`)."""
    box = mpl.patches.FancyBboxPatch(
        (xy[0] - 0.32, xy[1] - 0.26), 0.64, 0.52, boxstyle="round,pad=0.04",
        facecolor=color, edgecolor="black", lw=1.0, alpha=0.9, zorder=2,
    )  # fmt: skip
    ax.add_patch(box)
    ax.text(*xy, text, ha="center", va="center", fontsize=11, zorder=3)


def _edge(ax, start, end, label: str = "", rad: float = 0.0, offset=(0.0, 0.0)) -> None:
    """An arrow between two node centres, stopping at the boxes, with an optional label."""
    ax.annotate(
        "", xy=end, xytext=start, zorder=1,
        arrowprops=dict(arrowstyle="-|>", lw=1.3, color="black", shrinkA=17, shrinkB=17,
                        connectionstyle=f"arc3,rad={rad}"),
    )  # fmt: skip
    if label:
        mid = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
        ax.text(*mid, label, ha="center", va="center", fontsize=9, zorder=3,
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5))  # fmt: skip


def draw_unrolled(ax, steps: int = 3) -> None:
    """Draw the RNN as a loop (left) and unrolled over `steps` time steps (right).

    Inputs x_t are drawn in sky blue, hidden states h_t in orange, outputs y_t in
    green; every arrow is labelled with the matrix it applies, so the figure shows
    that the same W_xh, W_hh, W_hy serve every step.
    """
    c_in, c_h, c_out = PALETTE["sky"], PALETTE["orange"], PALETTE["green"]
    rows = {"x": 0.0, "h": 1.5, "y": 3.0}
    # the folded network, with its recurrent self-loop
    _node(ax, (0, rows["x"]), "$x_t$", c_in)
    _node(ax, (0, rows["h"]), "$h_t$", c_h)
    _node(ax, (0, rows["y"]), "$y_t$", c_out)
    _edge(ax, (0, rows["x"]), (0, rows["h"]), "$W_{xh}$")
    _edge(ax, (0, rows["h"]), (0, rows["y"]), "$W_{hy}$")
    loop = mpl.patches.FancyArrowPatch(
        (-0.36, rows["h"] + 0.14), (-0.36, rows["h"] - 0.14),
        connectionstyle="arc,angleA=180,angleB=180,armA=22,armB=22,rad=6",
        arrowstyle="-|>", mutation_scale=12, lw=1.3, color="black", zorder=1,
    )  # fmt: skip
    ax.add_patch(loop)
    ax.text(-1.05, rows["h"], "$W_{hh}$", ha="center", va="center", fontsize=9)
    ax.text(1.05, rows["h"], "unroll\n$\\Longrightarrow$", ha="center", va="center", fontsize=10)
    # the unrolled graph
    x0, dx = 2.1, 1.55
    _node(ax, (x0, rows["h"]), "$h_0$", "white")
    for t in range(1, steps + 1):
        col = x0 + t * dx
        _node(ax, (col, rows["x"]), f"$x_{t}$", c_in)
        _node(ax, (col, rows["h"]), f"$h_{t}$", c_h)
        _node(ax, (col, rows["y"]), f"$y_{t}$", c_out)
        _edge(ax, (col, rows["x"]), (col, rows["h"]), "$W_{xh}$")
        _edge(ax, (col, rows["h"]), (col, rows["y"]), "$W_{hy}$")
        _edge(ax, (col - dx, rows["h"]), (col, rows["h"]), "$W_{hh}$", offset=(0, 0.22))
    end = x0 + steps * dx
    ax.annotate(
        "", xy=(end + 0.85, rows["h"]), xytext=(end, rows["h"]),
        arrowprops=dict(arrowstyle="-|>", lw=1.3, color="black", shrinkA=17, linestyle=":"),
    )  # fmt: skip
    ax.text(end + 1.05, rows["h"], "$\\cdots$", ha="left", va="center", fontsize=12)
    ax.set_xlim(-1.6, end + 1.55)
    ax.set_ylim(-0.45, rows["y"] + 0.45)
    ax.set_aspect("equal")
    ax.axis("off")


def _sum_box(ax, x0: float, x1: float, y: float, text: str) -> None:
    """A wide box from x0 to x1 at height y: a gradient summed over the steps."""
    box = mpl.patches.FancyBboxPatch(
        (x0, y - 0.26), x1 - x0, 0.52, boxstyle="round,pad=0.04",
        facecolor=PALETTE["yellow"], edgecolor="black", lw=1.0, alpha=0.9, zorder=2,
    )  # fmt: skip
    ax.add_patch(box)
    ax.text((x0 + x1) / 2, y, text, ha="center", va="center", fontsize=11, zorder=3)


def draw_backward(ax, steps: int = 3) -> None:
    """Draw the backward pass of BPTT over `steps` time steps, the mirror of :func:`draw_unrolled`.

    Each arrow carries a gradient backwards and is labelled with what multiplies it. In the
    middle row, the total derivative h̄_t (orange) collects two contributions, from its own
    output (ȳ_t, green, through W_hy^T) and from the next step (ā_{t+1}, vermillion, through
    W_hh^T), marked with a "+"; ā_t = (1 - h_t^2) ⊙ h̄_t passes on to h̄_{t-1}. The yellow
    boxes are the shared parameters' gradients: every step adds one contribution to each
    (ȳ_t h_t^T to ∇W_hy at the top, ā_t h_{t-1}^T to ∇W_hh at the bottom).
    """
    c_y, c_h, c_a = PALETTE["green"], PALETTE["orange"], PALETTE["vermillion"]
    rows = {"top": 4.1, "y": 2.75, "h": 1.35, "bottom": 0.0}
    pitch, gap = 2.7, 1.35  # from one step to the next; from a_t to h_t
    x0 = 0.0
    _node(ax, (x0, rows["h"]), r"$\bar h_0$", "white")
    h_x = {t: x0 + t * pitch for t in range(1, steps + 1)}
    for t, xh in h_x.items():
        xa = xh - gap
        _node(ax, (xh, rows["y"]), rf"$\bar y_{t}$", c_y)
        _node(ax, (xh, rows["h"]), rf"$\bar h_{t}$", c_h)
        _node(ax, (xa, rows["h"]), rf"$\bar a_{t}$", c_a)
        _edge(ax, (xh, rows["y"]), (xh, rows["h"]), r"$W_{hy}^\top$")
        _edge(ax, (xh, rows["h"]), (xa, rows["h"]), rf"$\odot(1-h_{t}^2)$", offset=(0, 0.44))
        prev = x0 if t == 1 else h_x[t - 1]
        _edge(ax, (xa, rows["h"]), (prev, rows["h"]), r"$W_{hh}^\top$", offset=(0, -0.34))
        # per-step contributions into the shared gradients
        _edge(ax, (xh, rows["y"]), (xh, rows["top"]), rf"$\bar y_{t} h_{t}^\top$",
              offset=(0.55, 0))  # fmt: skip
        _edge(ax, (xa, rows["h"]), (xa, rows["bottom"]), rf"$\bar a_{t} h_{{{t - 1}}}^\top$",
              offset=(0.6, 0))  # fmt: skip
        if t < steps:  # two gradients meet here: the sum of (eq-bptt-recurrence)
            ax.text(xh + 0.34, rows["h"] + 0.38, "$+$", ha="center", va="center",
                    fontsize=13, fontweight="bold", zorder=4)  # fmt: skip
    right = h_x[steps] + 0.45
    _sum_box(ax, h_x[1] - 0.45, right, rows["top"],
             r"$\nabla_{W_{hy}} L = \sum_t \bar y_t h_t^\top$")  # fmt: skip
    _sum_box(ax, h_x[1] - gap - 0.45, right - gap, rows["bottom"],
             r"$\nabla_{W_{hh}} L = \sum_t \bar a_t h_{t-1}^\top$")  # fmt: skip
    ax.set_xlim(x0 - 0.6, right + 0.3)
    ax.set_ylim(rows["bottom"] - 0.45, rows["top"] + 0.45)
    ax.set_aspect("equal")
    ax.axis("off")
