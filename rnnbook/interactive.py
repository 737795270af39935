"""Interactive figures: computed by rnnbook when the book is built, drawn in the reader's browser.

A figure the reader can move teaches dynamics better than a paragraph. An
:class:`InteractiveFigure` holds a grid of values of one or two parameters and, for every
setting on the grid, the arrays to draw, rounded to a fixed number of significant digits so
that the data the page embeds are the same bytes in every build. Displayed as the last
expression of a notebook cell it gives three outputs:

- ``text/html``: the static figure as an image, sliders (``<input type="range">``, hidden
  until a script shows them), a text description of the setting (``aria-live``) and the data of
  every setting as JSON. In the book, ``book/_ext/static/rnnbook-interactive.js`` draws the
  selected setting as SVG and redraws it when a slider moves: no kernel, no server, nothing
  loaded from another host, and it works from ``file://``.
- ``image/png`` (and whatever else the kernel draws matplotlib figures as, e.g. PDF): the
  matplotlib figure at the default setting, for the PDF edition; a notebook shows the same image
  from the HTML, whose sliders stay hidden there.

One declarative description (:class:`Panel` and the layers :func:`line`, :func:`band`,
:func:`points`, :func:`hline`, :func:`note`) is drawn by matplotlib for the static figure and
by the script for the interactive one; the script places the axes where matplotlib's layout put
them, so the two look alike. Texts use a small subset of TeX (:func:`text_runs`).

The ``*_data`` functions compute the data from the package (seeded, deterministic) and return
plain dicts of arrays; the ``*_figure`` functions turn them into figures for the chapters.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from . import plots, validate
from .analysis import geometric_rate, grad_norm_vs_lag
from .data import book_task, sine_waves
from .init import critical_gain, init_params, largest_singular_value, mean_field, spectral_radius
from .loss import recall_loss
from .rnn import RNNParams, backward, forward

#: Significant digits kept in the data a page embeds (enough for a figure a few hundred pixels
#: wide: 4 digits place a point to 1/10,000 of an axis).
DIGITS = 4
#: The resolution of the figures, as in the house style (``rb.plots.STYLE``): 100 px per inch.
DPI = 100
DASHES = ("solid", "dashed", "dotted")
MARKERS = ("o",)
LEGEND_LOCATIONS = ("upper right", "upper left", "lower left", "lower right")
#: Colours of several curves of one kind: the palette without yellow (too pale on white) and black.
TRACE_COLORS = ("blue", "orange", "green", "vermillion", "sky", "purple")
#: Grey for what is drawn for reference only (an input, a level of 1).
GREY = "#999999"
_MPL_DASH = {"solid": "-", "dashed": "--", "dotted": ":"}
_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")


# ---------------------------------------------------------------------------------------------
# Texts: a small subset of TeX, drawn by matplotlib's mathtext and by the browser script.

_SYMBOLS = {
    **{name: chr(0x3B1 + i) for i, name in enumerate(
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
        "rho varsigma sigma tau upsilon phi chi psi omega".split()
    )},  # fmt: skip
    "Delta": "Δ", "Gamma": "Γ", "Lambda": "Λ", "Sigma": "Σ", "Omega": "Ω", "Phi": "Φ",
    "partial": "∂", "infty": "∞", "|": "‖", "lVert": "‖", "rVert": "‖", "cdot": "·",
    "times": "×", "leq": "≤", "geq": "≥", "le": "≤", "ge": "≥", "approx": "≈", "top": "⊤",
    "to": "→", "odot": "⊙", "pm": "±", ",": "\u2009", ";": " ", " ": " ", "quad": "\u2003",
    "{": "{", "}": "}", "%": "%",
}  # fmt: skip
_WORDS = {"max", "min", "tanh", "log", "exp", "sin", "cos"}
_TEXT_COMMANDS = {"mathrm", "mathdefault", "text", "operatorname"}
_IGNORED = {"left", "right", "displaystyle"}


def text_runs(text: str) -> list[list[str]]:
    """Split a label into runs of text with one style each, for the browser to draw.

    Outside ``$...$`` the text is plain; inside, a subset of TeX that matplotlib's mathtext
    draws as well: Latin letters (italic), digits and punctuation, ``_`` and ``^`` with one
    character or a ``{group}`` (one level), ``\\sqrt``, Greek letters and a few symbols
    (``\\sigma``, ``\\Delta``, ``\\|``, ``\\partial``, ``\\cdot``, ``\\leq``, ...), the
    words ``\\max``, ``\\tanh``, ... and ``\\mathrm{...}`` (upright).

    Parameters
    ----------
    text : str
        E.g. ``r"$\\|\\Delta h_t\\|$ (change in $h_t$)"``.

    Returns
    -------
    list of [str, str]
        ``[text, style]`` pairs; style holds ``"i"`` for italic and ``"_"`` or ``"^"`` for a
        subscript or superscript, e.g. ``[["‖Δ", ""], ["h", "i"], ["t", "_i"], ...]``.

    Raises
    ------
    ValueError
        On unbalanced ``$`` or braces, a nested sub/superscript or a command outside the subset.
    """
    if not isinstance(text, str):
        raise ValueError(f"text: expected a str, got {type(text).__name__} {text!r}")
    parts = text.split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"text: unbalanced $ in {text!r}")
    runs: list[list[str]] = []
    for k, part in enumerate(parts):
        if k % 2 == 0:
            _append(runs, part, "")
        else:
            _math(part, runs, "", text)
    return runs


def _append(runs: list[list[str]], text: str, style: str) -> None:
    if not text:
        return
    if runs and runs[-1][1] == style:
        runs[-1][0] += text
    else:
        runs.append([text, style])


def _group(s: str, i: int, text: str) -> tuple[str, int]:
    """The content of the brace group opening at s[i], and the index after it."""
    depth = 0
    for j in range(i, len(s)):
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        if depth == 0:
            return s[i + 1 : j], j + 1
    raise ValueError(f"text: unbalanced braces in {text!r}")


def _command(s: str, i: int) -> tuple[str, int]:
    """The name of the command whose backslash is at s[i], and the index after it."""
    j = i + 1
    while j < len(s) and s[j].isalpha():
        j += 1
    if j == i + 1:  # a one-character command such as \| or \,
        j = min(i + 2, len(s))
    return s[i + 1 : j], j


def _atom(s: str, i: int, text: str) -> tuple[str, int]:
    """The argument of _ or ^ starting at s[i]: a group, a command or one character."""
    if i >= len(s):
        raise ValueError(f"text: _ or ^ without an argument in {text!r}")
    if s[i] == "{":
        return _group(s, i, text)
    if s[i] == "\\":
        name, j = _command(s, i)
        return s[i:j], j
    return s[i], i + 1


def _math(s: str, runs: list[list[str]], shift: str, text: str, upright: bool = False) -> None:
    i = 0
    while i < len(s):
        c = s[i]
        if c in "_^":
            if shift:
                raise ValueError(f"text: nested sub- or superscript in {text!r}")
            arg, i = _atom(s, i + 1, text)
            _math(arg, runs, c, text, upright)
        elif c == "{":
            inner, i = _group(s, i, text)
            _math(inner, runs, shift, text, upright)
        elif c == "}":
            raise ValueError(f"text: unbalanced braces in {text!r}")
        elif c == "\\":
            name, i = _command(s, i)
            if name in _TEXT_COMMANDS:
                if i >= len(s) or s[i] != "{":
                    raise ValueError(f"text: \\{name} needs a {{group}} in {text!r}")
                inner, i = _group(s, i, text)
                _math(inner, runs, shift, text, upright=True)
            elif name == "sqrt":
                inner, i = _atom(s, i, text)
                _append(runs, "√", shift)
                _math(inner, runs, shift, text, upright)
            elif name in _WORDS:
                _append(runs, name, shift)
            elif name in _SYMBOLS:
                _append(runs, _SYMBOLS[name], shift)
            elif name not in _IGNORED:
                raise ValueError(f"text: \\{name} is not in the supported subset of TeX ({text!r})")
        elif c == " ":
            _append(runs, " " if upright else "", shift)  # spaces count in \mathrm only
            i += 1
        else:
            char = "\u2212" if c == "-" else c
            before = s[:i].rstrip()
            if c in "+-=<>" and before and before[-1] not in "({[,":  # a binary operator
                char = f"\u2009{char}\u2009"
            _append(runs, char, shift + ("i" if c.isalpha() and not upright else ""))
            i += 1


def runs_html(runs: Sequence[Sequence[str]]) -> str:
    """The runs of :func:`text_runs` as HTML: ``<i>``, ``<sub>``, ``<sup>``."""
    out = []
    for text, style in runs:
        piece = html.escape(text)
        if "i" in style:
            piece = f"<i>{piece}</i>"
        if "_" in style:
            piece = f"<sub>{piece}</sub>"
        elif "^" in style:
            piece = f"<sup>{piece}</sup>"
        out.append(piece)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# What a figure is made of.


def _color(color: str) -> str:
    if color in plots.PALETTE:
        return plots.PALETTE[color]
    if isinstance(color, str) and re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
        return color.upper()
    raise ValueError(
        f"color: expected a name of rb.plots.PALETTE {sorted(plots.PALETTE)} or #RRGGBB, "
        f"got {color!r}"
    )


def _choice(name: str, value: object, options: Sequence[str]) -> str:
    if value not in options:
        raise ValueError(f"{name}: expected one of {list(options)}, got {value!r}")
    return value  # type: ignore[return-value]


def _fraction(name: str, value: object) -> float:
    validate.positive(name, value)
    if value > 1:  # type: ignore[operator]
        raise ValueError(f"{name}: expected a number in (0, 1], got {value!r}")
    return float(value)  # type: ignore[arg-type]


def line(
    x: str,
    y: str,
    *,
    color: str | Sequence[str] = "blue",
    width: float = 1.6,
    dash: str = "solid",
    label: str | None = None,
    alpha: float = 1.0,
) -> dict:
    """A line layer: data arrays `x` of shape (n,) and `y` of shape (n,) or (k, n) (k lines).

    `x` and `y` name arrays of the setting or of the figure's shared data; a missing value
    (None or NaN, or one <= 0 on a log axis) breaks the line. `color` is a name of
    ``rb.plots.PALETTE`` or ``#RRGGBB``, or a list of them cycled over the k lines; `width` is
    in points, `dash` one of ``"solid"``, ``"dashed"``, ``"dotted"``; `label` (TeX subset,
    :func:`text_runs`) puts the layer in the legend.
    """
    colors = [color] if isinstance(color, str) else list(color)
    return {
        "kind": "line", "x": x, "y": y, "color": [_color(c) for c in colors],
        "width": validate.positive("width", width), "dash": _choice("dash", dash, DASHES),
        "label": label, "alpha": _fraction("alpha", alpha),
    }  # fmt: skip


def band(
    x: str, low: str, high: str, *, color: str = "blue", alpha: float = 0.2, label=None
) -> dict:
    """A shaded band between the arrays `low` and `high` (shape (n,)) over `x`."""
    return {
        "kind": "band", "x": x, "low": low, "high": high, "color": _color(color),
        "alpha": _fraction("alpha", alpha), "label": label,
    }  # fmt: skip


def points(
    x: str,
    y: str,
    *,
    color: str = "blue",
    size: float = 4.0,
    marker: str = "o",
    label: str | None = None,
    alpha: float = 1.0,
) -> dict:
    """Markers at (x[i], y[i]); `size` is the marker's diameter in pixels."""
    return {
        "kind": "points", "x": x, "y": y, "color": _color(color),
        "size": validate.positive("size", size), "marker": _choice("marker", marker, MARKERS),
        "label": label, "alpha": _fraction("alpha", alpha),
    }  # fmt: skip


def hline(
    y: float, *, color: str = "black", width: float = 1.0, dash: str = "dotted", label=None
) -> dict:
    """A horizontal line across the axes at the fixed value `y`."""
    if not isinstance(y, (int, float)) or not math.isfinite(y):
        raise ValueError(f"y: expected a finite number, got {y!r}")
    return {
        "kind": "hline", "y": float(y), "color": _color(color),
        "width": validate.positive("width", width), "dash": _choice("dash", dash, DASHES),
        "label": label,
    }  # fmt: skip


def note(
    x: float,
    y: float,
    text: str | None = None,
    *,
    key: str | None = None,
    color: str = "black",
    align: str = "right",
) -> dict:
    """A text placed at (x, y) in axes coordinates (0..1): the fixed `text`, or the string the
    setting holds under `key`.

    With `key`, use it for what changes with the setting but is not a curve, e.g. "lands at
    w = 143" for a point outside the axes; an empty string draws nothing.
    """
    for name, v in (("x", x), ("y", y)):
        if not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ValueError(f"{name}: expected a number in [0, 1] (axes coordinates), got {v!r}")
    if (text is None) == (key is None):
        raise ValueError(f"note: expected either text or key, got text={text!r}, key={key!r}")
    if text is not None:
        text_runs(text)
    return {
        "kind": "note", "x": float(x), "y": float(y), "text": text, "key": key,
        "color": _color(color), "align": _choice("align", align, ("left", "center", "right")),
    }  # fmt: skip


@dataclass
class Panel:
    """One set of axes of an interactive figure.

    Attributes
    ----------
    layers : list of dict
        What to draw, in order (:func:`line`, :func:`band`, :func:`points`, :func:`hline`,
        :func:`note`).
    xlim, ylim : (float, float)
        Fixed limits, the same for every setting, so that moving a slider moves the data and
        not the axes.
    xlabel, ylabel, title : str
        Texts in the TeX subset of :func:`text_runs`.
    xscale, yscale : str
        ``"linear"`` or ``"log"``.
    legend : str or None
        Where the legend of the labelled layers goes: ``"upper right"``, ``"upper left"``,
        ``"lower left"``, ``"lower right"``, or None for no legend.
    legend_title : str
        A title above the legend's entries.
    equal : bool
        Equal scales on both axes (for the complex plane).
    """

    layers: list[dict]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    xlabel: str = ""
    ylabel: str = ""
    title: str = ""
    xscale: str = "linear"
    yscale: str = "linear"
    legend: str | None = "upper right"
    legend_title: str = ""
    equal: bool = False

    def __post_init__(self) -> None:
        for name in ("xscale", "yscale"):
            _choice(name, getattr(self, name), ("linear", "log"))
        for name, scale in (("xlim", self.xscale), ("ylim", self.yscale)):
            lim = getattr(self, name)
            ok = len(lim) == 2 and all(math.isfinite(v) for v in lim) and lim[0] < lim[1]
            if not ok or (scale == "log" and lim[0] <= 0):
                need = "0 < low < high" if scale == "log" else "low < high"
                raise ValueError(f"{name}: expected finite ({need}), got {lim!r}")
        if self.legend is not None:
            _choice("legend", self.legend, LEGEND_LOCATIONS)
        for text in (self.xlabel, self.ylabel, self.title, self.legend_title):
            text_runs(text)  # fail here, not in the browser
        for layer in self.layers:
            if layer.get("label"):
                text_runs(layer["label"])


@dataclass(frozen=True)
class Control:
    """A slider over a grid of values of one parameter.

    Attributes
    ----------
    name : str
        An identifier (lower case, digits, ``_``, ``-``), used in the page's element ids.
    label : str
        What the slider sets, in the TeX subset of :func:`text_runs`.
    values : tuple
        The grid of values, in slider order.
    texts : tuple of str
        How each value is shown next to the slider (and read out by a screen reader).
    default : int
        The index of the value the static figure and the page start from.
    spoken : str
        The parameter's name as a screen reader says it before the value (``"c"``).
    """

    name: str
    label: str
    values: tuple
    texts: tuple[str, ...]
    default: int
    spoken: str


def control(
    name: str,
    label: str,
    values: Iterable,
    *,
    default: object,
    fmt: str = "{:g}",
    texts: Sequence[str] | None = None,
    spoken: str | None = None,
) -> Control:
    """A :class:`Control` over `values`, starting at the value `default` (which must be one).

    Each value is shown as ``fmt.format(value)`` unless `texts` gives the texts.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name: expected an identifier like 'gain' or 'lr', got {name!r}")
    values = tuple(values)
    if len(values) < 2:
        raise ValueError(f"values: expected at least two values, got {values!r}")
    if default not in values:
        raise ValueError(f"default: expected one of the values {values!r}, got {default!r}")
    texts = tuple(texts) if texts is not None else tuple(fmt.format(v) for v in values)
    if len(texts) != len(values):
        raise ValueError(f"texts: expected {len(values)} texts, got {len(texts)}")
    text_runs(label)
    return Control(name, label, values, texts, values.index(default), spoken or name)


# ---------------------------------------------------------------------------------------------
# Rounding: the same bytes in every build.


def rounded(value: Any, digits: int = DIGITS) -> Any:
    """`value` (a number, an array or nested lists) as JSON-ready lists of rounded floats.

    Every float keeps `digits` significant digits; NaN and infinities become None (a gap in a
    line); ``-0.0`` becomes ``0.0``. Strings pass through.
    """
    if isinstance(value, str):
        return value
    digits = validate.size("digits", digits)
    array = np.asarray(value, dtype=float)
    flat = [_round(x, digits) for x in array.ravel().tolist()]
    if array.ndim == 0:
        return flat[0]
    for n in reversed(array.shape[1:]):
        flat = [flat[i : i + n] for i in range(0, len(flat), n)]
    return flat


def _round(x: float, digits: int) -> float | None:
    if not math.isfinite(x):
        return None
    return float(f"{x:.{digits}g}") + 0.0  # + 0.0 turns -0.0 into 0.0


# ---------------------------------------------------------------------------------------------
# The figure.


@dataclass
class InteractiveFigure:
    """A figure with sliders: the data of every setting of a grid, and how to draw it.

    Attributes
    ----------
    name : str
        An identifier, unique on its page (element ids derive from it).
    controls : list of Control
        One or two sliders; the settings are their grid's product.
    panels : list of Panel
        The axes, side by side.
    settings : dict
        For every tuple of control indices (one per control), a dict of the arrays its layers
        name and a ``"description"``: one or two sentences that say what the figure shows at
        that setting, in numbers (read out by screen readers when the setting changes).
    shared : dict
        Arrays that do not depend on the setting (the time axis, a loss curve), stored once.
    label : str
        What the figure shows, whatever the setting (plain text; the SVG's accessible name).
    alt : str
        The alt text of the static figure, which shows the default setting.
    figsize : (float, float)
        In inches, at 100 px per inch, as for the book's matplotlib figures.
    width_ratios : list of float, optional
        Relative widths of the panels.
    digits : int
        Significant digits of the embedded data.
    """

    name: str
    controls: list[Control]
    panels: list[Panel]
    settings: dict[tuple[int, ...], dict[str, Any]]
    label: str
    alt: str
    shared: dict[str, Any] = field(default_factory=dict)
    figsize: tuple[float, float] = (6.4, 3.4)
    width_ratios: list[float] | None = None
    digits: int = DIGITS

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"name: expected an identifier like 'memory', got {self.name!r}")
        if not 1 <= len(self.controls) <= 2:
            raise ValueError(f"controls: expected one or two, got {len(self.controls)}")
        if len({c.name for c in self.controls}) != len(self.controls):
            raise ValueError("controls: expected distinct names")
        grid = set(itertools.product(*(range(len(c.values)) for c in self.controls)))
        if set(self.settings) != grid:
            missing = sorted(grid - set(self.settings))[:3]
            extra = sorted(set(self.settings) - grid)[:3]
            raise ValueError(
                f"settings: expected one entry per point of the controls' grid "
                f"({len(grid)}), got {len(self.settings)} (missing {missing}, extra {extra})"
            )
        if not self.panels:
            raise ValueError("panels: expected at least one Panel")
        for key, setting in self.settings.items():
            if not isinstance(setting.get("description"), str) or not setting["description"]:
                raise ValueError(f"settings[{key}]: expected a 'description' string")
            for layer in (layer for p in self.panels for layer in p.layers):
                for role in ("x", "y", "low", "high", "key"):
                    ref = layer.get(role)
                    if layer["kind"] in ("hline", "note") and role != "key":
                        continue
                    if ref is not None and ref not in setting and ref not in self.shared:
                        raise ValueError(
                            f"settings[{key}]: the {layer['kind']} layer's {role} {ref!r} is "
                            "neither in the setting nor in the shared data"
                        )
        self._data = {
            self.key(k): {n: rounded(v, self.digits) for n, v in s.items()}
            for k, s in sorted(self.settings.items())
        }
        self._shared = {n: rounded(v, self.digits) for n, v in sorted(self.shared.items())}

    # -- settings ---------------------------------------------------------------------------

    @property
    def default(self) -> tuple[int, ...]:
        """The control indices of the default setting."""
        return tuple(c.default for c in self.controls)

    @staticmethod
    def key(indices: Sequence[int]) -> str:
        """The key of a setting in the embedded data: its indices joined by commas, "3,1"."""
        return ",".join(str(int(i)) for i in indices)

    def values(self, indices: Sequence[int] | None = None) -> dict[str, Any]:
        """The (rounded) data the page draws at a setting, shared data included."""
        indices = self.default if indices is None else tuple(indices)
        if self.key(indices) not in self._data:
            raise ValueError(f"indices: expected a point of the grid, got {indices!r}")
        return {**self._shared, **self._data[self.key(indices)]}

    # -- the static figure -----------------------------------------------------------------

    def static_figure(self, indices: Sequence[int] | None = None):
        """The figure at a setting (default: the default one), drawn by matplotlib.

        Returns
        -------
        matplotlib.figure.Figure
            Closed for pyplot (so a notebook does not show it twice); the caller owns it.
        """
        data = self.values(indices)
        fig, axes = plots.figure(
            1, len(self.panels), figsize=self.figsize,
            gridspec_kw={"width_ratios": self.width_ratios} if self.width_ratios else None,
        )  # fmt: skip
        plt.close(fig)
        for ax, panel in zip(np.atleast_1d(axes), self.panels):
            _draw_static(ax, panel, data)
        return fig

    def _layout(self, fig) -> list[dict]:
        """Where matplotlib put each panel in its last drawing of `fig`, and its ticks.

        `fig` must have been drawn (saved): the positions are those of its last drawing, so
        the script draws the axes exactly where the saved image has them.
        """
        width, height = (s * DPI for s in self.figsize)
        out = []
        for ax, panel in zip(fig.axes, self.panels):
            x0, y0, w, h = ax.get_position(original=False).bounds
            box = [x0 * width, (1 - y0 - h) * height, w * width, h * height]
            out.append(
                {
                    "box": [round(v, 2) for v in box],
                    "xticks": _ticks(ax.xaxis, panel.xlim),
                    "yticks": _ticks(ax.yaxis, panel.ylim),
                    "xminor": _minor(ax.xaxis, panel.xlim),
                    "yminor": _minor(ax.yaxis, panel.ylim),
                }
            )
        return out

    # -- what the page embeds --------------------------------------------------------------

    def spec(self, fig=None) -> dict:
        """Everything the browser script needs, as a JSON-ready dict (see :meth:`to_json`)."""
        if fig is None:
            fig = self.static_figure()
            _settle_layout(fig)
            fig.draw_without_rendering()
        layout = self._layout(fig)
        panels = []
        for panel, place in zip(self.panels, layout):
            layers = []
            for layer in panel.layers:
                layer = dict(layer)
                layer["label"] = text_runs(layer["label"]) if layer.get("label") else None
                if layer["kind"] == "note" and layer["text"] is not None:
                    layer["text"] = text_runs(layer["text"])
                layers.append(layer)
            panels.append(
                {
                    **place,
                    "xlim": rounded(panel.xlim, 6), "ylim": rounded(panel.ylim, 6),
                    "xscale": panel.xscale, "yscale": panel.yscale,
                    "xlabel": text_runs(panel.xlabel), "ylabel": text_runs(panel.ylabel),
                    "title": text_runs(panel.title), "legend": panel.legend,
                    "legend_title": text_runs(panel.legend_title), "layers": layers,
                }
            )  # fmt: skip
        width, height = (round(s * DPI) for s in self.figsize)
        return {
            "name": self.name,
            "width": width,
            "height": height,
            "label": self.label,
            "controls": [
                {"name": c.name, "texts": list(c.texts), "default": c.default, "spoken": c.spoken}
                for c in self.controls
            ],
            "panels": panels,
            "shared": self._shared,
            "settings": self._data,
        }

    def to_json(self, fig=None) -> str:
        """The spec as compact JSON with sorted keys, safe inside ``<script>``: stable bytes."""
        text = json.dumps(
            self.spec(fig), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
            allow_nan=False,
        )  # fmt: skip
        return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")

    def to_html(self, png_base64: str, fig=None) -> str:
        """The HTML the book shows: static image, hidden sliders, description, data."""
        ident = f"rnnbook-fig-{self.name}"
        description = self.settings[self.default]["description"]
        controls = []
        for i, c in enumerate(self.controls):
            cid, text = f"{ident}-{c.name}", c.texts[c.default]
            controls.append(
                f'<div class="rnnbook-interactive-control">'
                f'<label for="{cid}">{runs_html(text_runs(c.label))}</label>'
                f'<input type="range" id="{cid}" min="0" max="{len(c.values) - 1}" step="1" '
                f'value="{c.default}" aria-valuetext="{html.escape(f"{c.spoken} = {text}")}" '
                f'data-rnnbook-control="{i}">'
                f'<output for="{cid}" id="{cid}-value">{html.escape(text)}</output></div>'
            )
        return (
            f'<div class="rnnbook-interactive" id="{ident}" data-rnnbook-interactive="{self.name}">'
            f'<div class="rnnbook-interactive-static"><img src="data:image/png;base64,'
            f'{png_base64}" alt="{html.escape(self.alt)}"></div>'
            f'<div class="rnnbook-interactive-plot"></div>'
            f'<div class="rnnbook-interactive-controls" hidden>{"".join(controls)}</div>'
            f'<p class="rnnbook-interactive-description" id="{ident}-description" '
            f'aria-live="polite">{html.escape(description)}</p>'
            f'<script type="application/json" class="rnnbook-interactive-data">'
            f"{self.to_json(fig)}</script></div>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        """What a notebook cell shows: the HTML, and the static figure as a PNG.

        The page's figure is drawn once, at ``figsize`` and 100 dpi (no tight bounding box), so
        the PNG's pixels and the page's SVG share one coordinate system: the script draws the
        axes in the boxes of that drawing. myst-nb gives the HTML to the HTML pages and the PNG
        (and the vector PDF) to the PDF edition; the notebooks keep the HTML and the PNG.
        """
        fig = self.static_figure()
        _settle_layout(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        page = self.to_html(_small_png(png), fig)  # reads the PNG drawing's layout
        # the print edition's static figure, as a vector (what the kernels send for
        # every other figure: book/_ext/ipython/ipython_kernel_config.py)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="pdf", bbox_inches="tight", metadata={"CreationDate": None})
        pdf = base64.b64encode(buffer.getvalue()).decode("ascii")
        return {
            "application/pdf": pdf,
            "image/png": png,
            "text/html": page,
            "text/plain": f"<InteractiveFigure {self.name!r}: {self.label}>",
        }


def _settle_layout(fig) -> None:
    """Give matplotlib's constrained layout of `fig` the rounds it needs before the drawing
    that is saved.

    Each drawing lays the figure out again, and the page's script reads the positions of the
    last one (:meth:`InteractiveFigure._layout`), so one drawing is enough: the saved one. An
    axes with an equal aspect (the complex plane) is the exception: after one round it is a
    few pixels off, enough to push its title out of the figure; a second converges.
    """
    if any(ax.get_aspect() != "auto" for ax in fig.axes):
        fig.draw_without_rendering()


def _small_png(png_base64: str, colors: int = 64) -> str:
    """The PNG with at most `colors` colours (a palette image, about a quarter of the bytes).

    The HTML carries the static figure for readers without JavaScript and for notebooks; it
    need not be the full-colour image that the PDF edition prints.
    """
    from PIL import Image  # matplotlib's own dependency

    image = Image.open(io.BytesIO(base64.b64decode(png_base64))).convert("RGB")
    small = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _ticks(axis, lim: tuple[float, float]) -> list:
    """The major ticks matplotlib chose inside `lim`, with their labels as runs."""
    out = []
    for value, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels()):
        if lim[0] - 1e-9 * abs(lim[0]) <= value <= lim[1] + 1e-9 * abs(lim[1]):
            out.append([rounded(value, 6), text_runs(label.get_text())])
    return out


def _minor(axis, lim: tuple[float, float]) -> list:
    return [rounded(v, 6) for v in axis.get_minorticklocs() if lim[0] <= v <= lim[1]]


def _array(data: Mapping[str, Any], name: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.ravel(data[name])], dtype=float)


def _rows(data: Mapping[str, Any], name: str) -> list[np.ndarray]:
    value = data[name]
    if value and isinstance(value[0], list):
        return [_array({"v": row}, "v") for row in value]
    return [_array(data, name)]


def _draw_static(ax, panel: Panel, data: Mapping[str, Any]) -> None:
    """Draw one panel with matplotlib, as the browser script draws it."""
    for layer in panel.layers:
        kind, label = layer["kind"], layer.get("label")
        if kind == "line":
            x = _array(data, layer["x"])
            for i, y in enumerate(_rows(data, layer["y"])):
                ax.plot(
                    x, y, color=layer["color"][i % len(layer["color"])], lw=layer["width"],
                    ls=_MPL_DASH[layer["dash"]], alpha=layer["alpha"],
                    label=label if i == 0 else None,
                )  # fmt: skip
        elif kind == "band":
            ax.fill_between(
                _array(data, layer["x"]), _array(data, layer["low"]), _array(data, layer["high"]),
                color=layer["color"], alpha=layer["alpha"], lw=0, label=label,
            )  # fmt: skip
        elif kind == "points":
            ax.plot(
                _array(data, layer["x"]), _array(data, layer["y"]), ls="none",
                marker=layer["marker"], ms=layer["size"] * 72 / DPI, mew=0,
                color=layer["color"], alpha=layer["alpha"], label=label,
            )  # fmt: skip
        elif kind == "hline":
            ax.axhline(
                layer["y"], color=layer["color"], lw=layer["width"],
                ls=_MPL_DASH[layer["dash"]], label=label,
            )  # fmt: skip
        elif kind == "note":
            text = data[layer["key"]] if layer["key"] else layer["text"]
            if text:
                ax.text(
                    layer["x"], layer["y"], text, transform=ax.transAxes, ha=layer["align"],
                    va="center", color=layer["color"], fontsize=9,
                )  # fmt: skip
    ax.set_xscale(panel.xscale)
    ax.set_yscale(panel.yscale)
    ax.set_xlim(*panel.xlim)
    ax.set_ylim(*panel.ylim)
    if panel.equal:
        ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    if panel.title:
        ax.set_title(panel.title)
    if panel.legend and any(layer.get("label") for layer in panel.layers):
        ax.legend(loc=panel.legend, title=panel.legend_title or None)


# ---------------------------------------------------------------------------------------------
# Chapter 1: how far a change in x_1 travels, and the hidden units under a sine wave.


def hidden_state_data(
    scales: Sequence[float],
    *,
    length: int = 70,
    delta: float = 0.1,
    seeds: Sequence[int] = range(5),
    n_waves: int = 4,
    wave_seed: int = 1,
    hidden_size: int = 16,
    trace_seed: int = 0,
    trace_steps: int = 200,
    frequency: float = 0.05,
    units: int = 6,
) -> dict[str, np.ndarray]:
    """The memory experiment of the hidden-state chapter for every scale c of W_hh.

    For each c, the default (Xavier) parameters of every seed get ``W_hh *= c``; ``n_waves``
    sine waves of random frequency, phase and amplitude (``rb.sine_waves`` with
    ``default_rng(wave_seed)``) are run twice, once with x_1 changed by `delta`, and
    ||Δh_t|| = ||h_t(x_1 + delta, ...) - h_t(x_1, ...)|| is recorded. The network of
    ``default_rng(trace_seed)``, with the same c, is driven by a sine of `frequency` cycles per
    step for `trace_steps` steps, and its first `units` hidden units are recorded.

    Parameters
    ----------
    scales : sequence of float
        The values of c, each > 0.

    Returns
    -------
    dict of ndarray
        ``scale`` (S,); ``t`` (T,) the steps 1..T; ``delta_median``, ``delta_low``,
        ``delta_high`` (S, T): median, min and max of ||Δh_t|| over the runs (seeds times
        waves) that are not exactly zero (NaN where all are); ``zero_runs`` (S,): runs with
        Δh_T = 0 exactly; ``sigma_max``, ``rho`` (S,): the mean largest singular value and
        spectral radius of c W_hh over the seeds; ``trace_t`` (trace_steps,); ``input``
        (trace_steps,); ``traces`` (S, units, trace_steps); ``period_change`` (S,): the largest
        change max_i |h_{t+P,i} - h_{t,i}| over the last period P = 1/frequency (how far the
        units are from repeating the input's period).
    """
    scales = [validate.positive("scales", float(c)) for c in scales]
    length = validate.size("length", length, minimum=2)
    validate.positive("delta", delta)
    seeds = [validate.size("seeds", s, minimum=0) for s in seeds]
    period = round(1 / validate.positive("frequency", frequency))
    if trace_steps < 2 * period:
        raise ValueError(
            f"trace_steps: expected at least two periods ({2 * period}), got {trace_steps}"
        )
    if not 1 <= units <= hidden_size:
        raise ValueError(f"units: expected 1..hidden_size={hidden_size}, got {units}")
    waves = sine_waves(n_waves, length, rng=np.random.default_rng(wave_seed))
    nudged = waves.x.copy()
    nudged[:, 0] += delta  # change x_1 only
    base = [init_params(1, hidden_size, 1, rng=np.random.default_rng(s)) for s in seeds]
    steps = np.arange(trace_steps)
    x_sine = np.sin(2 * np.pi * frequency * steps)[None, :, None]  # (1, trace_steps, 1)
    tracer = init_params(1, hidden_size, 1, rng=np.random.default_rng(trace_seed))

    out: dict[str, list] = {k: [] for k in (
        "delta_median", "delta_low", "delta_high", "zero_runs", "sigma_max", "rho", "traces",
        "period_change")}  # fmt: skip
    for c in scales:
        runs, sig, rad = [], [], []
        for p0 in base:
            p = p0.copy()
            p.W_hh *= c
            sig.append(largest_singular_value(p.W_hh))
            rad.append(spectral_radius(p.W_hh))
            dh = forward(p, nudged).h - forward(p, waves.x).h  # (n_waves, T, H)
            runs.append(np.linalg.norm(dh, axis=2))
        d = np.concatenate(runs)  # (runs, T)
        positive = np.where(d > 0, d, np.nan)
        with warnings.catch_warnings():  # a step where every run is exactly 0: all-NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            out["delta_median"].append(np.nanmedian(positive, axis=0))
            out["delta_low"].append(np.nanmin(positive, axis=0))
            out["delta_high"].append(np.nanmax(positive, axis=0))
        out["zero_runs"].append(int(np.sum(d[:, -1] == 0)))
        out["sigma_max"].append(np.mean(sig))
        out["rho"].append(np.mean(rad))
        p = tracer.copy()
        p.W_hh *= c
        h = forward(p, x_sine).h[0]  # (trace_steps, H)
        out["traces"].append(h[:, :units].T)
        out["period_change"].append(np.abs(h[-period:] - h[-2 * period : -period]).max())
    result = {k: np.array(v) for k, v in out.items()}
    result.update(
        scale=np.array(scales), t=np.arange(1, length + 1), trace_t=steps + 1,
        input=x_sine[0, :, 0], runs=np.array(len(seeds) * n_waves),
    )  # fmt: skip
    return result


def hidden_state_figure(
    scales: Sequence[float] = tuple(np.round(np.arange(1, 21) / 10, 2)),
    *,
    default: float = 1.0,
    **options,
) -> InteractiveFigure:
    """The interactive figure of the hidden-state chapter: c -> ||Δh_t|| and the hidden units.

    `options` go to :func:`hidden_state_data`.
    """
    d = hidden_state_data(scales, **options)
    length, steps, n_runs = len(d["t"]), len(d["trace_t"]), int(d["runs"])
    settings = {}
    for i, c in enumerate(d["scale"]):
        end = d["delta_median"][i, -1]
        zeros = d["zero_runs"][i]
        lock = d["period_change"][i]
        settled = "they repeat the input's period" if lock < 1e-3 else "they have not settled"
        settings[(i,)] = {
            "delta_median": d["delta_median"][i], "delta_low": d["delta_low"][i],
            "delta_high": d["delta_high"][i], "traces": d["traces"][i],
            "description": (
                f"c = {c:.1f}: spectral radius of c W_hh {d['rho'][i]:.2f}, largest singular "
                f"value {d['sigma_max'][i]:.2f} (means over the seeds). "
                + _memory_sentence(end, zeros, n_runs, length)
                + f". After {steps} steps of the sine the hidden units change by up to "
                f"{_sci(lock)} over one period: {settled}."
            ),
        }  # fmt: skip
    panels = [
        Panel(
            [band("t", "delta_low", "delta_high", color="blue", alpha=0.2),
             line("t", "delta_median", color="blue", label="median of the runs"),
             hline(1e-16, dash="dotted"),
             note(0.98, 0.1, "float64 resolution", align="right")],
            xlim=(0, length + 1), ylim=(1e-17, 10.0), yscale="log",
            xlabel="time step $t$", ylabel=r"$\|\Delta h_t\|$ (change in $h_t$)",
            title=r"a change of $x_1$ travels", legend="upper right",
        ),
        Panel(
            [line("trace_t", "input", color=GREY, width=1.0, label="input $x_t$"),
             line("trace_t", "traces", color=TRACE_COLORS, width=1.0)],
            xlim=(0, steps + 1), ylim=(-1.35, 1.35), xlabel="time step $t$",
            ylabel="hidden unit $h_{t,i}$", title="hidden units driven by a sine",
            legend="lower right",
        ),
    ]  # fmt: skip
    here = settings[(list(d["scale"]).index(default),)]
    settled = d["period_change"][list(d["scale"]).index(default)] < 1e-3
    return InteractiveFigure(
        name="hidden-state",
        controls=[control("c", "scale $c$ of $W_{hh}$", d["scale"], default=default, fmt="{:.1f}")],
        panels=panels,
        settings=settings,
        shared={"t": d["t"], "trace_t": d["trace_t"], "input": d["input"]},
        label=(
            f"Left: the change in the hidden state caused by a change of the first input, "
            f"against the step, for W_hh scaled by the chosen c ({n_runs} runs). Right: "
            f"{d['traces'].shape[1]} hidden units of one network with the same c, driven by a "
            "sine wave (grey)."
        ),
        alt=(
            f"Two panels for W_hh scaled by c = {default:.1f}. Left, on a log axis, the change "
            f"in h_t after a change of x_1 falls from about 0.1 at step 1 to "
            f"{_sci(here['delta_median'][-1])} at step {length} (median, with the range of the "
            f"runs shaded). Right, {d['traces'].shape[1]} hidden units driven by the grey sine "
            f"input; after {steps} steps they "
            + ("oscillate with its period." if settled else "have not settled into its period.")
        ),
        figsize=(7.6, 3.4),
        digits=3,
    )


def _memory_sentence(end: float, zeros: int, runs: int, length: int) -> str:
    if zeros == runs:
        return f"The change in x_1 is gone: at step {length} all {runs} runs have exactly Δh = 0"
    median = f"{_sci(end)} at step {length} (median of the {runs} runs, zeros left out"
    exact = f"; {zeros} runs have exactly Δh = 0" if zeros else ""
    fades = "has faded" if end < 1e-2 else "has not faded"
    return f"The change in x_1 {fades}: {median}{exact})"


def _sci(x: float) -> str:
    """A number for a sentence: 3e-05 as "3e-05", 0.0123 as "0.012", NaN as "0 (exactly)"."""
    if not math.isfinite(x):
        return "0 (exactly)"
    return f"{x:.2g}" if 1e-3 <= abs(x) < 1e3 else f"{x:.0e}"


# ---------------------------------------------------------------------------------------------
# Chapter 3: the gradient against the lag, and the bound sigma_max^lag.


def _rescaled(sigma: float, seed: int, hidden_size: int) -> RNNParams:
    """Default parameters of `seed`, W_hh rescaled to largest singular value `sigma`."""
    p = init_params(1, hidden_size, 1, rng=np.random.default_rng(seed))
    p.W_hh *= sigma / largest_singular_value(p.W_hh)
    return p


def _gradient_ratios(p: RNNParams, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """||dL_T/dh_{T-lag}|| / ||dL_T/dh_T|| for lag = 0..T, one row per sequence.

    L_T is the squared error of the last step only (``rb.recall_loss``), so the gradient that
    reaches h_{T-lag} has travelled back exactly `lag` steps.
    """
    cache = forward(p, x)
    _, dy = recall_loss(cache.y, target[:, -1])  # the last step's loss only
    norms = grad_norm_vs_lag(p, cache, dy[:, -1] @ p.W_hy)
    return norms / norms[:, :1]


def gradient_lag_data(
    sigmas: Sequence[float],
    *,
    length: int = 100,
    hidden_size: int = 32,
    seeds: Sequence[int] = range(5),
    n_sequences: int = 4,
    task_seed: int = 0,
    fit_start: int = 10,
) -> dict[str, np.ndarray]:
    """The gradient of the last step's loss against the lag, for W_hh rescaled to each sigma_max.

    The experiment of the vanishing-gradients chapter: the default (Xavier) parameters of each
    seed with ``W_hh`` rescaled so that sigma_max(W_hh) = sigma, driven by `n_sequences`
    sequences of the book's task (``rb.book_task(default_rng(task_seed))``); for every lag,
    ||dL_T/dh_{T-lag}|| / ||dL_T/dh_T||, which the theorem of Pascanu et al. bounds by
    sigma^lag (tanh' <= 1).

    Returns
    -------
    dict of ndarray
        ``sigma`` (S,); ``lag`` (T + 1,); ``median``, ``low``, ``high`` (S, T + 1): median, min
        and max over the runs (seeds times sequences); ``bound`` (S, T + 1): sigma^lag;
        ``rho`` (S,): the mean spectral radius; ``linear`` (S, T + 1): rho^lag with that mean;
        ``rate`` (S,): the median over the runs of the per-step factor fitted from lag
        `fit_start` on (``rb.geometric_rate``); ``runs``: how many runs.
    """
    sigmas = [validate.positive("sigmas", float(s)) for s in sigmas]
    length = validate.size("length", length, minimum=fit_start + 2)
    seeds = [validate.size("seeds", s, minimum=0) for s in seeds]
    task = book_task(np.random.default_rng(task_seed), n=n_sequences, length=length)
    lag = np.arange(length + 1)
    out: dict[str, list] = {k: [] for k in ("median", "low", "high", "rho", "rate")}
    for s in sigmas:
        nets = [_rescaled(s, seed, hidden_size) for seed in seeds]
        ratios = np.concatenate([_gradient_ratios(p, task.x, task.y) for p in nets])
        out["median"].append(np.median(ratios, axis=0))
        out["low"].append(ratios.min(axis=0))
        out["high"].append(ratios.max(axis=0))
        out["rho"].append(np.mean([spectral_radius(p.W_hh) for p in nets]))
        out["rate"].append(np.median(geometric_rate(ratios, start=fit_start)))
    result = {k: np.array(v) for k, v in out.items()}
    sig = np.array(sigmas)
    result.update(
        sigma=sig, lag=lag, bound=sig[:, None] ** lag, linear=result["rho"][:, None] ** lag,
        runs=np.array(len(seeds) * n_sequences),
    )  # fmt: skip
    return result


def _gradient_sentence(d: Mapping[str, np.ndarray], i: int) -> str:
    s, rho, rate = d["sigma"][i], d["rho"][i], d["rate"][i]
    T, runs = len(d["lag"]) - 1, int(d["runs"])
    bound = "which rules out explosion" if s <= 1 else "which rules out nothing"
    below = "below both σ_max and ρ" if rate < min(s, rho) else f"against ρ = {rho:.2f}"
    return (
        f"σ_max = {s:.1f} (mean spectral radius ρ = {rho:.2f}). At lag {T} the gradient ratio "
        f"is {_sci(d['median'][i, -1])} (median of {runs} runs; range {_sci(d['low'][i, -1])} "
        f"to {_sci(d['high'][i, -1])}); the bound σ_max^{T} is {_sci(d['bound'][i, -1])}, "
        f"{bound}. Measured factor per step: {rate:.2f}, {below}."
    )


def gradient_lag_figure(
    sigmas: Sequence[float] = tuple(np.round(np.arange(5, 26) / 10, 2)),
    *,
    default: float = 1.0,
    **options,
) -> InteractiveFigure:
    """The interactive figure of the vanishing-gradients chapter: sigma_max -> gradient vs lag.

    `options` go to :func:`gradient_lag_data`.
    """
    d = gradient_lag_data(sigmas, **options)
    T, runs = len(d["lag"]) - 1, int(d["runs"])
    top, bottom = 1e10, 1e-60
    settings = {
        (i,): {
            "median": d["median"][i], "low": d["low"][i], "high": d["high"][i],
            "bound": d["bound"][i], "linear": d["linear"][i],
            "description": _gradient_sentence(d, i),
        }
        for i in range(len(d["sigma"]))
    }  # fmt: skip
    panel = Panel(
        [band("lag", "low", "high", color="blue", alpha=0.2),
         line("lag", "median", color="blue", label="measured (median of the runs)"),
         line("lag", "bound", color="vermillion", dash="dashed",
              label=r"bound $\sigma_{\max}^{\tau}$"),
         line("lag", "linear", color="green", dash="dotted",
              label=r"linear network, $\rho^{\tau}$"),
         hline(1.0, color=GREY, width=0.8, dash="solid")],
        xlim=(0, T), ylim=(bottom, top), yscale="log",
        xlabel=r"lag $\tau = T - j$ (steps)",
        ylabel=r"$\|\mathrm{d}L_T/\mathrm{d}h_j\| \,/\, \|\partial L_T/\partial h_T\|$",
        legend="lower left",
    )  # fmt: skip
    k = list(d["sigma"]).index(default)
    return InteractiveFigure(
        name="gradient-lag",
        controls=[
            control(
                "sigma",
                r"largest singular value $\sigma_{\max}(W_{hh})$",
                d["sigma"],
                default=default,
                fmt="{:.1f}",
                spoken="sigma max",
            )
        ],
        panels=[panel],
        settings=settings,
        shared={"lag": d["lag"]},
        label=(
            "The gradient of the last step's loss reaching back tau steps, relative to its size "
            "at the last step, against tau on a log axis, for W_hh rescaled to the chosen "
            f"largest singular value ({runs} runs), with the bound sigma_max to the tau and the "
            "decay rho to the tau of a linear network with the same W_hh."
        ),
        alt=(
            f"A log-scale plot of the gradient ratio against the lag from 0 to {T}, for "
            f"sigma_max = {default:.1f}. The measured median falls from 1 to "
            f"{_sci(d['median'][k, -1])} at lag {T}, with the range of the runs shaded; the "
            f"dashed bound ends at {_sci(d['bound'][k, -1])} and the dotted line rho to the "
            f"tau of the linear network at {_sci(d['linear'][k, -1])}."
        ),
        figsize=(6.4, 3.6),
    )


# ---------------------------------------------------------------------------------------------
# Chapter 5: one step of gradient descent on the cliff of a one-unit RNN, clipped or not.

#: The one-unit RNN of the clipping chapter: h_t = tanh(w h_{t-1} + 0.5 x_t - 0.1), y_t = h_t,
#: driven by one pulse x_1 = 1, scored on (h_T - 0.8)^2 at the last step T = 50.
CLIFF = {"u": 0.5, "b": -0.1, "length": 50, "target": 0.8}


def cliff_unit(w: float) -> RNNParams:
    """The one-unit RNN of the clipping chapter with recurrent weight `w` (see :data:`CLIFF`)."""
    return RNNParams(
        W_xh=np.array([[CLIFF["u"]]]), W_hh=np.array([[float(w)]]), b_h=np.array([CLIFF["b"]]),
        W_hy=np.array([[1.0]]), b_y=np.array([0.0]),
    )  # fmt: skip


def _pulse(length: int) -> np.ndarray:
    x = np.zeros((1, length, 1))
    x[0, 0, 0] = 1.0  # x_1 = 1, then nothing
    return x


def cliff_loss(w: float) -> tuple[float, float]:
    """The loss (h_T - 0.8)^2 of :func:`cliff_unit` and its derivative dL/dw, by the package's
    ``forward``, ``recall_loss`` and ``backward``."""
    p = cliff_unit(w)
    cache = forward(p, _pulse(CLIFF["length"]))
    loss, dy = recall_loss(cache.y, np.full((1, 1), CLIFF["target"]))
    return loss, float(backward(p, cache, dy).W_hh[0, 0])


def cliff_losses(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cliff_loss` for many recurrent weights at once: the loss and dL/dw, shape of `w`.

    The same forward pass (eq-hidden-state) and BPTT for one unit, with the weights along an
    array axis instead of one network per call; equal to :func:`cliff_loss` to rounding error.
    """
    w = np.asarray(w, dtype=float)
    T, u, b = CLIFF["length"], CLIFF["u"], CLIFF["b"]
    x = _pulse(T)[0, :, 0]
    h = np.zeros((T + 1,) + w.shape)  # h_0 = 0
    for t in range(1, T + 1):
        h[t] = np.tanh(w * h[t - 1] + u * x[t - 1] + b)  # (eq-hidden-state)
    loss = (h[T] - CLIFF["target"]) ** 2
    dh = 2 * (h[T] - CLIFF["target"])  # dL/dh_T
    dw = np.zeros_like(w)
    for t in range(T, 0, -1):
        da = dh * (1 - h[t] ** 2)  # through tanh
        dw += da * h[t - 1]
        dh = da * w  # to h_{t-1}
    return loss, dw


def cliff_wall(low: float = 1.0, high: float = 1.6, iterations: int = 60) -> float:
    """The w where h_T of :func:`cliff_unit` changes sign (the wall), by bisection.

    h_T grows with w; the interval (`low`, `high`) must contain the wall.
    """
    pulse = _pulse(CLIFF["length"])

    def h_T(w):
        return forward(cliff_unit(w), pulse).y[0, -1, 0]

    if not h_T(low) < 0 < h_T(high):
        raise ValueError(f"low, high: expected an interval around the wall, got ({low}, {high})")
    for _ in range(validate.size("iterations", iterations)):
        mid = (low + high) / 2
        low, high = (low, mid) if h_T(mid) > 0 else (mid, high)
    return high


def cliff_data(
    thresholds: Sequence[float],
    learning_rates: Sequence[float],
    *,
    steps: int = 20,
    offset: float = 1e-4,
    grid: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Gradient descent on the cliff's slice, from just past the wall, clipped at each threshold.

    From w_0 = wall + `offset` (:func:`cliff_wall`), `steps` steps
    w <- w - lr * clip(dL/dw), where clip rescales the derivative to length `threshold` if it is
    longer ((eq-clip-norm) in one dimension; ``inf``: no clipping).

    Returns
    -------
    dict of ndarray
        ``threshold`` (A,), ``lr`` (B,); ``w``, ``loss``, ``slope`` (A, B, steps + 1): the
        weight, the loss and dL/dw before each step and after the last; ``clipped``
        (A, B, steps): whether each step was clipped; ``grid``, ``grid_loss``: the loss along
        the slice (default 721 points from 0.8 to 2.6); ``wall``, ``w0``.
    """
    thresholds = [validate.positive("thresholds", float(t)) if math.isfinite(t) else math.inf
                  for t in thresholds]  # fmt: skip
    rates = [validate.positive("learning_rates", float(lr)) for lr in learning_rates]
    steps = validate.size("steps", steps)
    grid = np.linspace(0.8, 2.6, 721) if grid is None else np.asarray(grid, dtype=float)
    wall = cliff_wall()
    w0 = wall + validate.positive("offset", offset)
    shape = (len(thresholds), len(rates), steps + 1)
    w, loss, slope = np.empty(shape), np.empty(shape), np.empty(shape)
    clipped = np.zeros(shape[:2] + (steps,), dtype=bool)
    tau = np.array(thresholds)[:, None]  # (A, 1)
    eta = np.array(rates)[None, :]  # (1, B)
    w[..., 0] = w0
    for k in range(steps + 1):  # every path at once
        loss[..., k], slope[..., k] = cliff_losses(w[..., k])
        if k == steps:
            break
        g = slope[..., k]
        with np.errstate(divide="ignore"):
            scale = np.minimum(1.0, tau / np.abs(g))  # (eq-clip-norm) in one dimension
        clipped[..., k] = scale < 1
        w[..., k + 1] = w[..., k] - eta * scale * g
    grid_loss = cliff_losses(grid)[0]
    return {
        "threshold": np.array(thresholds), "lr": np.array(rates), "w": w, "loss": loss,
        "slope": slope, "clipped": clipped, "grid": grid, "grid_loss": grid_loss,
        "wall": np.array(wall), "w0": np.array(w0), "step": np.arange(steps + 1),
    }  # fmt: skip


def cliff_figure(
    thresholds: Sequence[float] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0, math.inf),
    learning_rates: Sequence[float] = (0.01, 0.03, 0.1, 0.3, 1.0),
    *,
    default: tuple[float, float] = (1.0, 0.1),
    **options,
) -> InteractiveFigure:
    """The interactive figure of the clipping chapter: threshold and learning rate -> the path.

    `options` go to :func:`cliff_data`.
    """
    d = cliff_data(thresholds, learning_rates, **options)
    lo, hi = float(d["grid"][0]), float(d["grid"][-1])
    best = float(d["grid"][np.argmin(d["grid_loss"])])
    steps = len(d["step"]) - 1
    settings = {}
    for a in range(len(d["threshold"])):
        for b in range(len(d["lr"])):
            w, loss = d["w"][a, b], d["loss"][a, b]
            off = w[1] < lo or w[1] > hi
            settings[(a, b)] = {
                "w": w, "loss": loss, "first": [w[0], w[1]], "first_loss": [loss[0], loss[1]],
                "outside": f"step 1 lands at w = {w[1]:.3g} →" if off else "",
                "description": _cliff_sentence(d, a, b, best),
            }  # fmt: skip
    texts = [("none" if not math.isfinite(t) else f"{t:g}") for t in d["threshold"]]
    start = float(d["loss"][0, 0, 0])
    panels = [
        Panel(
            [line("grid", "grid_loss", color="black", width=1.2, label="loss along $w$"),
             line("w", "loss", color="green", width=0.8, alpha=0.7),
             points("w", "loss", color="green", size=5, label=f"{steps} steps"),
             line("first", "first_loss", color="vermillion", width=1.6, label="step 1"),
             points("w0", "loss0", color="vermillion", size=7),
             note(0.98, 0.55, key="outside", color="vermillion")],
            xlim=(lo, hi), ylim=(-0.1, 2.8), xlabel="recurrent weight $w$",
            ylabel=r"loss $(h_{50} - 0.8)^2$", legend="upper right",
        ),
        Panel(
            [line("step", "loss", color="green", label="loss after step $k$"),
             points("step", "loss", color="green", size=4)],
            xlim=(-0.5, steps + 0.5), ylim=(1e-10, 10.0), yscale="log",
            xlabel="step $k$", ylabel="loss", legend="upper right",
        ),
    ]  # fmt: skip
    a0, b0 = (list(d["threshold"]).index(default[0]), list(d["lr"]).index(default[1]))
    return InteractiveFigure(
        name="cliff",
        controls=[
            control(
                "threshold", "clipping threshold", d["threshold"], default=default[0], texts=texts
            ),
            control(
                "lr", r"learning rate $\eta$", d["lr"], default=default[1], spoken="learning rate"
            ),
        ],  # fmt: skip
        panels=panels,
        settings=settings,
        shared={
            "grid": d["grid"],
            "grid_loss": d["grid_loss"],
            "step": d["step"],
            "w0": [float(d["w0"])],
            "loss0": [start],
        },  # fmt: skip
        label=(
            "Left: the loss of a one-unit RNN along its recurrent weight w, a cliff, with the "
            f"path of {steps} steps of gradient descent from just past the wall, for the chosen "
            "clipping threshold and learning rate. Right: the loss after each step, log scale."
        ),
        alt=(
            f"Left, the loss against w from {lo:g} to {hi:g}: it rises to a wall near "
            f"w = {float(d['wall']):.2f}, drops to almost zero, has its minimum near w = "
            f"{best:.2f} and creeps up afterwards. From a red dot at the foot of the wall the "
            f"first step (threshold {texts[a0]}, learning rate {d['lr'][b0]:g}) goes to "
            f"w = {d['w'][a0, b0, 1]:.3g}; right, the loss falls from {start:.2g} to "
            f"{_sci(d['loss'][a0, b0, -1])} after {steps} steps."
        ),
        figsize=(7.6, 3.4),
        width_ratios=[1.4, 1.0],
    )


def _cliff_sentence(d: Mapping[str, np.ndarray], a: int, b: int, best: float) -> str:
    threshold, lr = d["threshold"][a], d["lr"][b]
    w, loss, clipped = d["w"][a, b], d["loss"][a, b], d["clipped"][a, b]
    steps = len(w) - 1
    how = "without clipping" if not math.isfinite(threshold) else f"clipped at {threshold:g}"
    first = (
        f"The first step ({'clipped' if clipped[0] else 'not clipped'}) moves w from "
        f"{w[0]:.4f} to {w[1]:.4g}, loss {loss[0]:.2g} to {_sci(loss[1])}"
    )
    end = f"after {steps} steps w = {w[-1]:.4g}, loss {_sci(loss[-1])}"
    verdict = (
        "in the valley" if abs(w[-1] - best) < 0.1 and loss[-1] < 1e-2
        else "stuck on the plateau" if w[-1] > 5
        else "back on the high side of the wall" if w[-1] < d["wall"]
        else "not yet in the valley"
    )  # fmt: skip
    return (
        f"Learning rate {lr:g}, {how}. {first}; {end}: {verdict} (best w on the slice "
        f"{best:.2f}). {int(clipped.sum())} of {steps} steps were clipped."
    )


# ---------------------------------------------------------------------------------------------
# Chapter 6: the gain of W_hh, its eigenvalues, and how far gradients reach back.


def gain_data(
    gains: Sequence[float],
    *,
    hidden_size: int = 32,
    seeds: Sequence[int] = range(5),
    length: int = 100,
    n_sequences: int = 4,
    task_seed: int = 0,
    fit_start: int = 10,
) -> dict[str, np.ndarray]:
    """Eigenvalues and gradient decay of g W_hh for the default (Xavier) W_hh of each seed.

    For every gain g: the eigenvalues of g W_hh of every seed (the circular law puts them in
    the disc of radius g for large H), their spectral radius and largest singular value, and
    the per-step factor of the gradient of the last step's loss against the lag, with the
    sequences of :func:`gradient_lag_data`.

    Returns
    -------
    dict of ndarray
        ``gain`` (G,); ``real``, ``imag`` (G, seeds * H): the eigenvalues; ``rho``,
        ``sigma_max`` (G,): means over the seeds; ``rho_seeds`` (G, seeds); ``rate`` (G,): the
        median over the runs of the fitted per-step factor; ``lag100`` (G,): the median ratio
        at the last lag; ``mean_field`` (G,): the mean-field factor sqrt(chi) of
        ``rb.mean_field`` for these inputs' variance ``input_variance``, and
        ``critical_gain``, where it is 1 (``rb.critical_gain``); ``runs``.
    """
    gains = [validate.positive("gains", float(g)) for g in gains]
    seeds = [validate.size("seeds", s, minimum=0) for s in seeds]
    length = validate.size("length", length, minimum=fit_start + 2)
    task = book_task(np.random.default_rng(task_seed), n=n_sequences, length=length)
    base = [init_params(1, hidden_size, 1, rng=np.random.default_rng(s)) for s in seeds]
    out: dict[str, list] = {k: [] for k in (
        "real", "imag", "rho", "sigma_max", "rho_seeds", "rate", "lag100")}  # fmt: skip
    for g in gains:
        nets = []
        for p0 in base:
            p = p0.copy()
            p.W_hh *= g
            nets.append(p)
        eig = np.concatenate([np.linalg.eigvals(p.W_hh) for p in nets])
        out["real"].append(eig.real)
        out["imag"].append(eig.imag)
        radii = [spectral_radius(p.W_hh) for p in nets]
        out["rho_seeds"].append(radii)
        out["rho"].append(np.mean(radii))
        out["sigma_max"].append(np.mean([largest_singular_value(p.W_hh) for p in nets]))
        ratios = np.concatenate([_gradient_ratios(p, task.x, task.y) for p in nets])
        out["rate"].append(np.median(geometric_rate(ratios, start=fit_start)))
        out["lag100"].append(np.median(ratios[:, -1]))
    result = {k: np.array(v) for k, v in out.items()}
    # Mean field for a wide network with these inputs: Var(W_xh) E[x^2] per unit, Xavier's
    # Var(W_xh) = 2 / (H + 1) for one input.
    c = 2 / (hidden_size + 1) * float(np.mean(task.x**2))
    result.update(
        gain=np.array(gains), runs=np.array(len(seeds) * n_sequences),
        mean_field=np.array([np.sqrt(mean_field(g, c)[1]) for g in gains]),  # sqrt(chi)
        critical_gain=np.array(critical_gain(c)), input_variance=np.array(c),
    )  # fmt: skip
    return result


def gain_figure(
    gains: Sequence[float] = tuple(np.round(np.arange(10, 41) / 20, 2)),
    *,
    default: float = 1.0,
    **options,
) -> InteractiveFigure:
    """The interactive figure of the initialization chapter: gain g -> eigenvalues, factor.

    `options` go to :func:`gain_data`.
    """
    d = gain_data(gains, **options)
    angle = np.linspace(0, 2 * np.pi, 181)
    G = len(d["gain"])
    seeds = d["rho_seeds"].shape[1]
    H = d["real"].shape[1] // seeds
    settings = {}
    for i, g in enumerate(d["gain"]):
        settings[(i,)] = {
            "real": d["real"][i], "imag": d["imag"][i],
            "disc_x": g * np.cos(angle), "disc_y": g * np.sin(angle),
            "now_gain": [g], "now_rate": [d["rate"][i]], "now_rho": [d["rho"][i]],
            "description": (
                f"Gain g = {g:.2f}: the {seeds * H} eigenvalues of the {seeds} matrices spread "
                "over about the disc of radius g (the circular law's limit); spectral radius "
                f"{d['rho'][i]:.2f} on "
                f"average ({_range(d['rho_seeds'][i])} over the seeds), largest singular value "
                f"{d['sigma_max'][i]:.2f}. The tanh network's gradient changes by a factor "
                f"{d['rate'][i]:.2f} per step "
                + ("(it shrinks)" if d["rate"][i] < 0.99 else "(it grows)" if d["rate"][i] > 1.01
                   else "(about constant)")
                + f", mean field predicts {d['mean_field'][i]:.2f} (edge of chaos at g* = "
                f"{float(d['critical_gain']):.2f})"
                + f"; at lag {options.get('length', 100)} it is {_sci(d['lag100'][i])} of its "
                "size at the last step (median of the runs)."
            ),
        }  # fmt: skip
    lim = 1.15 * max(d["gain"].max(), np.abs(d["real"]).max(), np.abs(d["imag"]).max())
    top = float(max(d["rho"].max(), d["rate"].max())) * 1.08
    panels = [
        Panel(
            [line("circle_x", "circle_y", color="black", width=1.0, label="unit circle"),
             line("disc_x", "disc_y", color="blue", width=1.0, dash="dashed",
                  label="radius $g$"),
             points("real", "imag", color="blue", size=3.5, alpha=0.8)],
            xlim=(-lim, lim), ylim=(-lim, lim), xlabel=r"Re $\lambda$",
            ylabel=r"Im $\lambda$", title=f"eigenvalues of $g W_{{hh}}$, $H = {H}$",
            legend="upper right", equal=True,
        ),
        Panel(
            [line("gain", "rho", color="blue", label=r"$\rho(g W_{hh})$ (linear network)"),
             line("gain", "rate", color="orange", label=r"$\tanh$ network, measured"),
             line("gain", "mean_field", color="green", dash="dashed",
                  label=r"mean field $\sqrt{\chi}$"),
             hline(1.0, color=GREY, width=1.0, dash="dashed"),
             points("now_gain", "now_rho", color="blue", size=8),
             points("now_gain", "now_rate", color="orange", size=8)],
            xlim=(float(d["gain"][0]) - 0.05, float(d["gain"][-1]) + 0.05), ylim=(0.0, top),
            xlabel="gain $g$", ylabel="gradient factor per step", legend="upper left",
        ),
    ]  # fmt: skip
    k = list(d["gain"]).index(default)
    crossing = d["gain"][np.argmax(d["rate"] >= 1)] if (d["rate"] >= 1).any() else None
    return InteractiveFigure(
        name="gain",
        controls=[
            control("gain", "gain $g$ of $W_{hh}$", d["gain"], default=default, fmt="{:.2f}")
        ],  # fmt: skip
        panels=panels,
        settings=settings,
        shared={
            "circle_x": np.cos(angle),
            "circle_y": np.sin(angle),
            "gain": d["gain"],
            "rho": d["rho"],
            "rate": d["rate"],
            "mean_field": d["mean_field"],
        },
        label=(
            f"Left: the eigenvalues of the default W_hh of {seeds} seeds (H = {H}) multiplied by "
            "the chosen gain g, in the complex plane, with the unit circle and the circle of "
            "radius g. Right: against the gain, the spectral radius, which is the per-step "
            "factor of a linear network, and the measured per-step factor of the gradient of "
            "the tanh network and the mean-field factor sqrt(chi), with dots at the chosen gain "
            f"({G} gains)."
        ),
        alt=(
            f"Left, {seeds * H} eigenvalues of g W_hh for g = {default:g}, spread over a disc "
            f"that about fills the dashed circle of radius g. Right, against the gain from "
            f"{d['gain'][0]:g} to {d['gain'][-1]:g}, the spectral radius rises along a straight "
            f"line through {d['rho'][k]:.2f} at g = {default:g}; the measured factor of the tanh "
            f"network lies below it, {d['rate'][k]:.2f} at g = {default:g}, close to the dashed "
            f"mean-field factor ({d['mean_field'][k]:.2f}; 1 at g* = "
            f"{float(d['critical_gain']):.2f}),"
            + (
                f" and reaches 1 only at g = {crossing:.2f}."
                if crossing is not None
                else " and stays below 1."
            )
        ),  # fmt: skip
        figsize=(7.6, 3.6),
        width_ratios=[1.0, 1.2],
    )


def _range(values: np.ndarray) -> str:
    return f"{np.min(values):.2f} to {np.max(values):.2f}"
