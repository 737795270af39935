"""The interactive figures of the built book, in a real browser, offline (issue 16).

The chapters display :class:`rnnbook.interactive.InteractiveFigure` objects; the clean build
(the session fixture ``built_book``) turns each into HTML with the static figure, hidden sliders,
a description and the JSON data of every setting, and ``book/_ext/rnnbook_interactive.py`` adds
the book's script that draws them as SVG. Chromium, launched as in ``tests/test_browser.py``
(headless, no host resolves, every non-file request aborted and recorded), opens every page that
has such a figure from ``file://`` and, for every slider, moves it with the keyboard (Home,
ArrowRight, End) and checks that

- the drawn figure changes, the slider's shown value, ``aria-valuetext`` and the ``aria-live``
  description follow the setting;
- every line, band, marker and level drawn for a setting sits exactly where the setting's
  embedded data put it: each value is mapped to pixels here, independently of the script,
  from the axes box and limits in the JSON (log10 on log axes), and compared with the SVG's
  coordinates (to 0.011 px: the script writes two decimals);
- no request leaves the machine, and axe-core finds no serious or critical violation with the
  figures drawn.

Without a browser (or JavaScript) a reader, the PDF edition and the notebooks get the static
figure: the build tests below check that it is there, in the page and in the notebooks, and
how much each figure adds to its page.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import math
import os
import re
import tempfile
from pathlib import Path

import pytest
from test_browser import (
    CHROMIUM,
    FAILING_IMPACTS,
    FLAGS,
    LOCAL_SCHEMES,
    RUN_AXE,
    axe_source,
    require,
)

import rnnbook as rb

pytestmark = pytest.mark.slow

FIGURE = re.compile(
    r'<div class="rnnbook-interactive" id="(?P<id>[^"]+)" '
    r'data-rnnbook-interactive="(?P<name>[^"]+)">(?P<body>.*?)</script></div>',
    re.S,
)
DATA = re.compile(r'<script type="application/json" class="rnnbook-interactive-data">(.*)', re.S)
#: The chapters that have an interactive figure, and its name (rnnbook.interactive).
EXPECTED = {
    "book/hidden-state": "hidden-state",
    "book/vanishing-gradients": "gradient-lag",
    "book/clipping": "cliff",
    "book/initialization": "gain",
}
#: The function of rnnbook.interactive that each chapter calls (with its defaults).
MAKERS = {
    "hidden-state": rb.interactive.hidden_state_figure,
    "gradient-lag": rb.interactive.gradient_lag_figure,
    "cliff": rb.interactive.cliff_figure,
    "gain": rb.interactive.gain_figure,
}
#: A source tree whose ``_build/html`` is already built (e.g. a small book of these chapters,
#: ``jupyter-book build . --toc /tmp/toc.yml``) instead of the session's clean strict build.
BUILT = os.environ.get("RNNBOOK_INTERACTIVE_BUILT")
MAX_BYTES = 1_000_000  # what one figure may add to its page
TOLERANCE = 0.011  # px: the script writes coordinates with two decimals


def figures_in(html: Path) -> dict[str, list[dict]]:
    """{docname: [{"id", "name", "html", "spec"}, ...]} for every page with a figure."""
    found = {}
    for path in sorted((html / "book").glob("*.html")):
        text = path.read_text(encoding="utf-8")
        figs = []
        for m in FIGURE.finditer(text):
            spec = json.loads(DATA.search(m.group("body")).group(1))
            figs.append({"id": m.group("id"), "name": m.group("name"), "html": m.group(0),
                         "spec": spec})  # fmt: skip
        if figs:
            found[f"book/{path.stem}"] = figs
    return found


@pytest.fixture(scope="session")
def interactive(request):
    if BUILT:
        src = Path(BUILT)
    else:
        src, result = request.getfixturevalue("built_book")
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    html = src / "_build" / "html"
    return src, html, figures_in(html)


# ---------------------------------------------------------------------------------------------
# The build: figures, fallbacks, weight.


def test_the_chapters_have_their_interactive_figures(interactive):
    _, _, pages = interactive
    names = {doc: [f["name"] for f in figs] for doc, figs in pages.items()}
    for doc, name in EXPECTED.items():
        assert name in names.get(doc, []), f"{doc} has no interactive figure {name!r}: {names}"
    assert sum(len(v) for v in names.values()) >= 4


def test_the_embedded_data_are_what_the_package_computes(interactive):
    """Every setting's data on the page equal rnnbook's, recomputed here (same rounding)."""
    _, _, pages = interactive
    for doc, figs in pages.items():
        for fig in figs:
            made = MAKERS[fig["name"]]()
            spec = fig["spec"]
            assert set(spec["settings"]) == {made.key(k) for k in made.settings}, doc
            for key, data in spec["settings"].items():
                expected = made.values([int(i) for i in key.split(",")])
                assert {**spec["shared"], **data} == expected, f"{doc}: setting {key} differs"
            assert [c["texts"] for c in spec["controls"]] == [list(c.texts) for c in made.controls]


def test_static_fallbacks_exist(interactive):
    """The page carries the static figure (for readers without JavaScript), and both the
    executed and the published notebooks carry it as an image output."""
    src, html, pages = interactive
    for doc, figs in pages.items():
        for fig in figs:
            img = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]*)"', fig["html"])
            assert img, f"{doc}: {fig['name']} has no static image"
            assert base64.b64decode(img.group(1))[:8] == b"\x89PNG\r\n\x1a\n"
            assert len(img.group(2)) >= 60, f"{doc}: the static figure's alt text is too short"
            assert 'class="rnnbook-interactive-controls" hidden' in fig["html"]
        for notebook in (
            src / "_build" / "jupyter_execute" / f"{doc}.ipynb",
            html / "_sources" / f"{doc}.ipynb",
        ):
            outputs = [
                out
                for cell in json.loads(notebook.read_text())["cells"]
                for out in cell.get("outputs", [])
                if "rnnbook-interactive" in "".join(out.get("data", {}).get("text/html", ""))
            ]
            assert len(outputs) == len(figs), f"{notebook}: {len(outputs)} interactive outputs"
            for out in outputs:
                png = base64.b64decode("".join(out["data"]["image/png"]))
                assert png[:4] == b"\x89PNG", f"{notebook}: no static image for the PDF"


def test_each_figure_adds_at_most_a_megabyte(interactive):
    _, html, pages = interactive
    script = (html / "_static" / "rnnbook-interactive.js").stat().st_size
    style = (html / "_static" / "rnnbook-interactive.css").stat().st_size
    rows = []
    for doc, figs in pages.items():
        for fig in figs:
            size = len(fig["html"].encode("utf-8"))
            rows.append(f"{doc}: {fig['name']} {size / 1e3:.0f} kB")
            assert size + script + style <= MAX_BYTES, rows[-1]
    print(f"\nscript {script / 1e3:.1f} kB, style {style / 1e3:.1f} kB; " + "; ".join(rows))


def test_the_script_is_served_only_where_it_is_used(interactive):
    _, html, pages = interactive
    for path in sorted((html / "book").glob("*.html")):
        doc = f"book/{path.stem}"
        has = "_static/rnnbook-interactive.js" in path.read_text(encoding="utf-8")
        assert has == (doc in pages), f"{doc}: script {'present' if has else 'missing'}"


# ---------------------------------------------------------------------------------------------
# The browser.

STATE = """root => {
  const svg = root.querySelector('svg.rnnbook-interactive-svg');
  return {
    ready: root.classList.contains('rnnbook-interactive-ready'),
    error: root.getAttribute('data-rnnbook-error'),
    static_hidden: root.querySelector('.rnnbook-interactive-static').hidden,
    controls_hidden: root.querySelector('.rnnbook-interactive-controls').hidden,
    setting: root.getAttribute('data-rnnbook-setting'),
    svg: svg ? svg.outerHTML : null,
    description: root.querySelector('.rnnbook-interactive-description').textContent,
    live: root.querySelector('.rnnbook-interactive-description').getAttribute('aria-live'),
    outputs: [...root.querySelectorAll('output')].map(o => o.textContent),
    valuetexts: [...root.querySelectorAll('input')].map(i => i.getAttribute('aria-valuetext')),
    labels: [...root.querySelectorAll('input')].map(i => i.labels.length),
    drawn: svg ? [...svg.querySelectorAll('[data-layer]')].map(e => ({
      panel: Number(e.closest('[data-panel]').getAttribute('data-panel')),
      layer: Number(e.getAttribute('data-layer')),
      row: e.hasAttribute('data-row') ? Number(e.getAttribute('data-row')) : null,
      d: e.getAttribute('d'),
      circles: [...e.querySelectorAll('circle')].map(c =>
          [Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))]),
    })) : [],
  };
}"""


@pytest.fixture(scope="session")
def browser(interactive):
    """Every page with an interactive figure, each slider moved with the keyboard."""
    _, html, pages = interactive
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    require(importlib.util.find_spec("playwright") is not None, "Playwright not installed")
    require(importlib.util.find_spec("axe_playwright_python") is not None, "axe-core missing")
    from playwright.sync_api import sync_playwright

    axe = axe_source()
    report, remote, errors = {}, [], []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, offline=True,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip

        def route(r):
            if r.request.url.startswith(LOCAL_SCHEMES):
                r.continue_()
            else:
                remote.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        context.on(
            "request", lambda q: None if q.url.startswith(LOCAL_SCHEMES) else remote.append(q.url)
        )
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        for doc, figs in pages.items():
            page.goto((html / f"{doc}.html").as_uri(), wait_until="load")
            page.wait_for_function(
                f"document.querySelectorAll('.rnnbook-interactive-ready').length == {len(figs)}",
                timeout=15000,
            )
            for fig in figs:
                root = page.locator(f"#{fig['id']}")
                states = [("load", None, root.evaluate(STATE))]
                for i, c in enumerate(fig["spec"]["controls"]):
                    slider = root.locator(f"input[data-rnnbook-control='{i}']")
                    slider.focus()
                    for key in ("Home", "ArrowRight", "End"):
                        slider.press(key)
                        states.append((key, i, root.evaluate(STATE)))
                    slider.press("Home")
                    for _ in range(c["default"]):
                        slider.press("ArrowRight")  # back to the default
                    states.append(("default", i, root.evaluate(STATE)))
                report[(doc, fig["name"])] = states
            page.add_script_tag(content=axe)
            report[(doc, "axe")] = page.evaluate(RUN_AXE)
            report[(doc, "axe-figures")] = page.evaluate(RUN_AXE_ON_FIGURES)
            page.goto("about:blank")
        context.close()
    return {"report": report, "remote": remote, "errors": errors, "pages": pages}


RUN_AXE_ON_FIGURES = """async () => {
  const r = await axe.run({include: [...document.querySelectorAll('.rnnbook-interactive')]},
                          {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def _figures(browser):
    for doc, figs in browser["pages"].items():
        for fig in figs:
            yield doc, fig, browser["report"][(doc, fig["name"])]


def test_the_script_draws_every_figure(browser):
    assert browser["errors"] == [], browser["errors"]
    for doc, fig, states in _figures(browser):
        first = states[0][2]
        assert first["ready"] and first["error"] is None, (doc, fig["name"], first["error"])
        assert first["static_hidden"] and not first["controls_hidden"] and first["svg"]
        default = ",".join(str(c["default"]) for c in fig["spec"]["controls"])
        assert first["setting"] == default, "the page starts at the static figure's setting"


def test_sliders_move_with_the_keyboard(browser):
    for doc, fig, states in _figures(browser):
        controls = fig["spec"]["controls"]
        default = [c["default"] for c in controls]
        by_key = {}
        for key, i, state in states[1:]:
            index = {"Home": 0, "ArrowRight": 1, "End": len(controls[i]["texts"]) - 1}.get(
                key, controls[i]["default"]
            )
            expected = default.copy()
            expected[i] = index
            setting = ",".join(map(str, expected))
            where = f"{doc} {fig['name']}: {key} on slider {i}"
            assert state["setting"] == setting, where
            assert state["description"] == fig["spec"]["settings"][setting]["description"], where
            text = controls[i]["texts"][index]
            assert state["outputs"][i] == text, where
            assert state["valuetexts"][i] == f"{controls[i]['spoken']} = {text}", where
            assert state["live"] == "polite" and all(n == 1 for n in state["labels"]), where
            by_key[setting] = state["svg"]
            if key == "default":
                default = [int(v) for v in setting.split(",")]
        drawn = {k: v for k, v in by_key.items()}
        assert len(set(drawn.values())) == len(drawn) >= 3, f"{doc}: the figure does not change"


def _px(value, lim, scale, start, end):
    if value is None or not math.isfinite(value) or (scale == "log" and value <= 0):
        return None
    f = math.log10 if scale == "log" else (lambda v: v)
    return start + (f(value) - f(lim[0])) / (f(lim[1]) - f(lim[0])) * (end - start)


def _segments(xs, ys):
    """The polylines through the points with both coordinates, split at a missing one."""
    out, run = [], []
    for x, y in zip(xs, ys):
        if x is None or y is None:
            if run:
                out.append(run)
            run = []
        else:
            run.append((x, y))
    return out + ([run] if run else [])


def _parse(d: str) -> list[list[tuple[float, float]]]:
    out = []
    for command, x, y in re.findall(r"([MLZ])(?:(-?[\d.]+),(-?[\d.]+))?", d or ""):
        if command == "M":
            out.append([(float(x), float(y))])
        elif command == "L":
            out[-1].append((float(x), float(y)))
    return out


def _close(drawn, expected, where):
    assert len(drawn) == len(expected), f"{where}: {len(drawn)} pieces drawn, {len(expected)} due"
    for a, b in zip(drawn, expected):
        assert len(a) == len(b), f"{where}: {len(a)} points drawn, {len(b)} due"
        worst = max((max(abs(p[0] - q[0]), abs(p[1] - q[1])) for p, q in zip(a, b)), default=0)
        assert worst <= TOLERANCE, f"{where}: off by {worst:.3f} px"


def check_drawing(spec: dict, setting: str, drawn: list[dict], where: str) -> int:
    """Compare what the SVG drew at `setting` with the embedded data; the checks made."""
    data = {**spec["shared"], **spec["settings"][setting]}
    checked = 0
    for p, panel in enumerate(spec["panels"]):
        left, top, width, height = panel["box"]

        def X(v, panel=panel, left=left, width=width):
            return _px(v, panel["xlim"], panel["xscale"], left, left + width)

        def Y(v, panel=panel, top=top, height=height):
            return _px(v, panel["ylim"], panel["yscale"], top + height, top)

        for k, layer in enumerate(panel["layers"]):
            mine = [e for e in drawn if e["panel"] == p and e["layer"] == k]
            at = f"{where}, panel {p} layer {k} ({layer['kind']})"
            if layer["kind"] == "line":
                y = data[layer["y"]]
                rows = y if y and isinstance(y[0], list) else [y]
                assert len(mine) == len(rows), at
                xs = [X(v) for v in data[layer["x"]]]
                for e in mine:
                    due = _segments(xs, [Y(v) for v in rows[e["row"]]])
                    _close(_parse(e["d"]), due, at)
                    checked += 1
            elif layer["kind"] == "band":
                xs = [X(v) for v in data[layer["x"]]]
                lo, hi = [Y(v) for v in data[layer["low"]]], [Y(v) for v in data[layer["high"]]]
                ok = [x is not None and a is not None and b is not None
                      for x, a, b in zip(xs, lo, hi)]  # fmt: skip
                due, run = [], []
                for i, good in enumerate(ok + [False]):
                    if good:
                        run.append(i)
                        continue
                    if len(run) > 1:
                        due.append([(xs[j], hi[j]) for j in run]
                                   + [(xs[j], lo[j]) for j in reversed(run)])  # fmt: skip
                    run = []
                _close(_parse(mine[0]["d"]), due, at)
                checked += 1
            elif layer["kind"] == "points":
                due = [(X(a), Y(b)) for a, b in zip(data[layer["x"]], data[layer["y"]])]
                due = [q for q in due if None not in q]
                _close([[tuple(c) for c in mine[0]["circles"]]] if due else [], [due] if due
                       else [], at)  # fmt: skip
                checked += 1
            elif layer["kind"] == "hline":
                _close(_parse(mine[0]["d"]), [[(left, Y(layer["y"])), (left + width,
                       Y(layer["y"]))]], at)  # fmt: skip
                checked += 1
    return checked


def test_drawn_values_equal_the_embedded_data(browser):
    total = 0
    for doc, fig, states in _figures(browser):
        for key, _, state in states:
            where = f"{doc} {fig['name']} at {state['setting']} ({key})"
            total += check_drawing(fig["spec"], state["setting"], state["drawn"], where)
    assert total > 50, f"only {total} layers were checked"


def test_no_request_leaves_the_machine(browser):
    assert browser["remote"] == [], sorted(set(browser["remote"]))


def test_axe_core_finds_no_serious_violation_with_the_figures_drawn(browser):
    serious = {
        doc: [v for v in violations if v["impact"] in FAILING_IMPACTS]
        for (doc, what), violations in browser["report"].items()
        if what == "axe"
    }
    serious = {doc: v for doc, v in serious.items() if v}
    assert not serious, serious


def test_axe_core_finds_no_violation_at_all_in_the_figures(browser):
    """Inside the figures (sliders, labels, outputs, SVG, description) not even a minor one."""
    found = {
        doc: violations
        for (doc, what), violations in browser["report"].items()
        if what == "axe-figures" and violations
    }
    assert not found, found
