"""rnnbook.interactive: the data behind the interactive figures, and what a cell outputs.

The browser half (the built book in Chromium, offline) is ``tests/test_interactive.py``.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import rnnbook as rb
from rnnbook import interactive as ri

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# Texts and rounding.


@pytest.mark.parametrize(
    "text, runs",
    [
        ("plain", [["plain", ""]]),
        ("$h_t$", [["h", "i"], ["t", "_i"]]),
        (r"$\|\Delta h_t\|$", [["‖Δ", ""], ["h", "i"], ["t", "_i"], ["‖", ""]]),
        (r"$\sigma_{\max}^{\tau}$", [["σ", ""], ["max", "_"], ["τ", "^"]]),
        (r"$\mathdefault{10^{-16}}$", [["10", ""], ["−16", "^"]]),
        (r"$\mathrm{d}L$", [["d", ""], ["L", "i"]]),
        ("$a - b$", [["a", "i"], ["\u2009−\u2009", ""], ["b", "i"]]),
        ("$W_{hh}$ x", [["W", "i"], ["hh", "_i"], [" x", ""]]),
    ],
)
def test_text_runs(text, runs):
    assert ri.text_runs(text) == runs


@pytest.mark.parametrize("bad", ["$x", "${x$", "$x}$", r"$\frac{a}{b}$", "$a_{b_c}$", "$x_$"])
def test_text_runs_rejects_what_it_cannot_draw(bad):
    with pytest.raises(ValueError, match="text"):
        ri.text_runs(bad)


def test_runs_html():
    assert ri.runs_html(ri.text_runs("$W_{hh}$ <")) == "<sub><i>hh</i></sub>".join(
        ["<i>W</i>", " &lt;"]
    )


def test_rounded_keeps_significant_digits_and_stable_bytes():
    values = np.array([[1.23456789e-45, -0.0, np.nan], [np.inf, 123456.0, -2.5e-3]])
    out = ri.rounded(values, 4)
    assert out == [[1.235e-45, 0.0, None], [None, 123500.0, -0.0025]]
    assert json.dumps(out) == "[[1.235e-45, 0.0, null], [null, 123500.0, -0.0025]]"
    assert ri.rounded(3, 2) == 3.0 and ri.rounded("text") == "text"
    with pytest.raises(ValueError, match="digits"):
        ri.rounded(1.0, 0)


# ---------------------------------------------------------------------------------------------
# The figure object.


def tiny_figure(**changes) -> ri.InteractiveFigure:
    x = np.arange(5.0)
    settings = {
        (i,): {"y": x * a, "description": f"slope {a}"} for i, a in enumerate((1.0, 2.0, 3.0))
    }
    options = dict(
        name="tiny",
        controls=[ri.control("a", "slope $a$", (1.0, 2.0, 3.0), default=2.0)],
        panels=[ri.Panel([ri.line("x", "y", label="$y = a x$")], xlim=(0, 4), ylim=(0, 12))],
        settings=settings,
        shared={"x": x},
        label="a line of chosen slope",
        alt="A straight line through the origin with slope 2.",
    )
    options.update(changes)
    return ri.InteractiveFigure(**options)


def test_figure_validates_its_parts():
    with pytest.raises(ValueError, match="settings"):
        tiny_figure(settings={(0,): {"y": [0], "description": "d"}})
    with pytest.raises(ValueError, match="neither in the setting nor"):
        tiny_figure(
            panels=[ri.Panel([ri.line("x", "z")], xlim=(0, 4), ylim=(0, 1))],
        )
    with pytest.raises(ValueError, match="default"):
        ri.control("a", "a", (1, 2), default=3)
    with pytest.raises(ValueError, match="name"):
        ri.control("A b", "a", (1, 2), default=1)
    with pytest.raises(ValueError, match="ylim"):
        ri.Panel([], xlim=(0, 1), ylim=(0, 1), yscale="log")
    with pytest.raises(ValueError, match="color"):
        ri.line("x", "y", color="red")
    with pytest.raises(ValueError, match="dash"):
        ri.line("x", "y", dash="dashdot")


def test_figure_json_is_stable_and_complete():
    fig = tiny_figure()
    text = fig.to_json()
    assert text == tiny_figure().to_json(), "two builds embed the same bytes"
    spec = json.loads(text)
    assert set(spec["settings"]) == {"0", "1", "2"}
    assert spec["settings"]["2"]["y"] == [0.0, 3.0, 6.0, 9.0, 12.0]
    assert spec["controls"][0]["default"] == 1
    (panel,) = spec["panels"]
    left, top, width, height = panel["box"]
    assert 0 < left < left + width <= spec["width"] and 0 < top < top + height <= spec["height"]
    assert [t[0] for t in panel["xticks"]] == [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]  # matplotlib's
    assert "<" not in text and ">" not in text, "safe inside <script>"


def test_mimebundle_html_carries_the_static_figure_and_the_data():
    bundle = tiny_figure()._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    page = bundle["text/html"]
    img = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)">', page)
    assert img and base64.b64decode(img.group(1))[:4] == b"\x89PNG"
    assert img.group(2) == "A straight line through the origin with slope 2."
    assert 'class="rnnbook-interactive-controls" hidden' in page, "no dead slider without JS"
    assert 'type="range"' in page and 'aria-valuetext="a = 2"' in page
    assert re.search(r'<label for="rnnbook-fig-tiny-a">slope <i>a</i></label>', page)
    assert 'aria-live="polite">slope 2.0</p>' in page
    data = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page).group(1)
    assert json.loads(data)["name"] == "tiny"


def test_the_png_and_the_page_share_one_drawing():
    """The PNG is figsize x 100 dpi, not cropped, so the boxes the page draws the axes in are
    the axes of the image; and a second build gives the same bytes."""
    from PIL import Image

    fig = tiny_figure()
    bundle = fig._repr_mimebundle_()
    image = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    assert image.size == (round(fig.figsize[0] * 100), round(fig.figsize[1] * 100))
    spec = json.loads(re.search(r"application/json[^>]*>(.*?)</script>", bundle["text/html"])[1])
    left, top, width, height = spec["panels"][0]["box"]
    pixels = np.asarray(image.convert("L"))
    dark = pixels < 128
    box_rows = dark[round(top) + 2 : round(top + height) - 2]
    box_cols = dark[:, round(left) + 2 : round(left + width) - 2]
    left_spine = np.flatnonzero(box_rows.mean(axis=0) > 0.9)  # dark from top to bottom
    bottom_spine = np.flatnonzero(box_cols.mean(axis=1) > 0.9)  # dark from left to right
    assert abs(left_spine[0] - left) <= 1.5, (left_spine, left)
    assert abs(bottom_spine[-1] - (top + height)) <= 1.5, (bottom_spine, top + height)
    assert tiny_figure()._repr_mimebundle_() == bundle, "byte-identical outputs"


def test_mime_priorities_show_html_on_the_web_and_the_image_in_print():
    """myst-nb's priorities (with the book's overrides, if any): HTML takes the interactive
    figure, LaTeX the static one, so the PDF edition prints the image."""
    from myst_nb.core.render import get_mime_priority

    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    overrides = config.get("nb_mime_priority_overrides", [])
    bundle = {"text/html", "image/png", "application/pdf", "text/plain"}
    chosen = {
        builder: next(m for m in get_mime_priority(builder, overrides) if m in bundle)
        for builder in ("html", "singlehtml", "latex")
    }
    assert chosen == {"html": "text/html", "singlehtml": "text/html", "latex": "application/pdf"}
    without_pdf = next(
        m for m in get_mime_priority("latex", overrides) if m in bundle - {"application/pdf"}
    )
    assert without_pdf == "image/png"


# ---------------------------------------------------------------------------------------------
# The chapters' data: what the package computes, checked against the package's primitives.


def test_hidden_state_data_is_the_chapter_experiment():
    d = ri.hidden_state_data((0.5, 1.5), seeds=range(2), n_waves=2, length=30, trace_steps=60)
    waves = rb.sine_waves(2, 30, rng=np.random.default_rng(1))
    nudged = waves.x.copy()
    nudged[:, 0] += 0.1
    runs = []
    for seed in range(2):
        p = rb.init_params(1, 16, 1, scheme="xavier", rng=np.random.default_rng(seed))
        p.W_hh *= 1.5
        runs.append(np.linalg.norm(rb.forward(p, nudged).h - rb.forward(p, waves.x).h, axis=2))
    runs = np.concatenate(runs)
    np.testing.assert_allclose(d["delta_median"][1], np.median(runs, axis=0), rtol=1e-12)
    np.testing.assert_allclose(d["delta_high"][1], runs.max(axis=0), rtol=1e-12)
    assert np.allclose(d["delta_median"][:, 0], d["delta_median"][0, 0]), "same at t = 1"
    assert d["delta_median"][0, -1] < d["delta_median"][1, -1], "a small W_hh forgets faster"
    assert d["traces"].shape == (2, 6, 60) and np.all(np.abs(d["traces"]) < 1)
    p = rb.init_params(1, 16, 1, scheme="xavier", rng=np.random.default_rng(0))
    p.W_hh *= 0.5
    x = np.sin(2 * np.pi * 0.05 * np.arange(60))[None, :, None]
    np.testing.assert_array_equal(d["traces"][0], rb.forward(p, x).h[0, :, :6].T)
    with pytest.raises(ValueError, match="scales"):
        ri.hidden_state_data((0.0,))


def test_gradient_lag_data_obeys_the_bound():
    d = ri.gradient_lag_data((0.9, 2.0), seeds=range(2), n_sequences=2, length=40)
    assert np.all(d["high"] <= d["bound"] * (1 + 1e-9)), "the bound sigma^lag holds"
    assert np.all(d["median"][:, 0] == 1) and d["rate"][0] < d["rate"][1]
    p = rb.init_params(1, 32, 1, scheme="xavier", rng=np.random.default_rng(1))
    p.W_hh *= 0.9 / rb.largest_singular_value(p.W_hh)
    task = rb.book_task(np.random.default_rng(0), n=2, length=40)
    cache = rb.forward(p, task.x)
    _, dy = rb.recall_loss(cache.y, task.y[:, -1])
    norms = rb.grad_norm_vs_lag(p, cache, dy[:, -1] @ p.W_hy)
    ratios = norms / norms[:, :1]
    assert d["low"][0, -1] <= ratios[:, -1].min() and ratios[:, -1].max() <= d["high"][0, -1]
    np.testing.assert_allclose(d["bound"][1], 2.0 ** np.arange(41))


def test_cliff_losses_equal_the_package_forward_and_backward():
    ws = np.array([0.9, 1.2, ri.cliff_wall() + 1e-4, 1.5, 2.5, 20.0])
    loss, slope = ri.cliff_losses(ws)
    for w, l_w, g_w in zip(ws, loss, slope):
        l_ref, g_ref = ri.cliff_loss(w)
        assert l_w == pytest.approx(l_ref, rel=1e-12, abs=1e-15)
        assert g_w == pytest.approx(g_ref, rel=1e-10, abs=1e-12)
    assert abs(ri.cliff_loss(ri.cliff_wall() + 1e-4)[1]) > 1000, "the wall is a cliff"


def test_cliff_data_clips_the_step_length():
    d = ri.cliff_data((0.5, math.inf), (0.1, 0.3), steps=3)
    step = np.abs(np.diff(d["w"], axis=-1))
    assert np.all(step[0] <= np.array([0.1, 0.3])[:, None] * 0.5 + 1e-12), "at most eta * tau"
    assert np.all(d["clipped"][0, :, 0]) and not d["clipped"][1].any()
    assert np.all(d["w"][1, :, 1] > 50), "unclipped, the first step leaves for the plateau"
    assert d["loss"][0, 0, -1] < d["loss"][0, 0, 0] / 10, "clipped, it goes down the wall"


def test_gain_data_scales_the_spectrum():
    d = ri.gain_data((0.5, 1.0, 1.5), seeds=range(2), length=30, n_sequences=2)
    W = [rb.init_params(1, 32, 1, rng=np.random.default_rng(s)).W_hh for s in range(2)]
    rho = np.mean([rb.spectral_radius(w) for w in W])
    np.testing.assert_allclose(d["rho"], np.array([0.5, 1.0, 1.5]) * rho, rtol=1e-10)
    radius = np.hypot(d["real"], d["imag"]).max(axis=1)
    np.testing.assert_allclose(radius, d["rho_seeds"].max(axis=1), rtol=1e-10)
    assert d["rate"][0] < d["rate"][1] < d["rate"][2]


@pytest.mark.parametrize(
    "make, options",
    [
        (ri.hidden_state_figure, dict(scales=(0.5, 1.0), seeds=range(2), trace_steps=60)),
        (ri.gradient_lag_figure, dict(sigmas=(1.0, 2.0), seeds=range(2), length=30)),
        (ri.cliff_figure, dict(thresholds=(1.0, math.inf), learning_rates=(0.1, 0.3), steps=3)),
        (ri.gain_figure, dict(gains=(1.0, 1.5), seeds=range(2), length=30)),
    ],
)
def test_chapter_figures_describe_every_setting(make, options):
    fig = make(**options)
    spec = json.loads(fig.to_json())
    descriptions = [s["description"] for s in spec["settings"].values()]
    assert len(set(descriptions)) == len(descriptions), "each setting is described in numbers"
    for panel in spec["panels"]:
        assert panel["xlabel"] and panel["ylabel"], "labelled axes"
    assert len(fig.alt) > 60 and len(fig.label) > 60
