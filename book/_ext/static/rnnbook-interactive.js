/* rnnbook's interactive figures (book/_ext/rnnbook_interactive.py, rnnbook/interactive.py).
 *
 * Each figure is a <div class="rnnbook-interactive"> written by the build. It holds the static
 * matplotlib figure at the default setting (an <img>), range inputs (hidden until this script
 * runs), a text description of the setting (aria-live) and, as JSON, the data of every setting
 * that rnnbook computed. This script draws the selected setting as SVG and redraws it when a
 * slider moves. It loads nothing, and draws only what the JSON holds: a value v is placed at
 * box.left + (v - low) / (high - low) * box.width (log10 of each on a log axis), in the axes box
 * that matplotlib laid out for the static figure, so the two figures match.
 */
(function () {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";
  var PT = 100 / 72; // pixels per point: the figures are laid out at 100 dpi
  var DASH = { solid: null, dashed: [3.7, 1.6], dotted: [1, 1.65] }; // x line width (matplotlib)
  var SIZE = { tick: 9 * PT, label: 10 * PT, title: 11 * PT, legend: 9 * PT, note: 9 * PT };
  var TICK = 3.5 * PT; // tick length and pad
  var GRID = "#b0b0b0";

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    });
    if (parent) parent.appendChild(e);
    return e;
  }

  function num(v) {
    return v.toFixed(2);
  }

  // The map from data to pixels along one axis; NaN for a missing value or a log of v <= 0.
  function scale(lim, kind, start, end) {
    var log = kind === "log";
    var f = log ? Math.log10 : function (v) { return v; };
    var a = f(lim[0]), b = f(lim[1]);
    return function (v) {
      if (v === null || v === undefined || !isFinite(v) || (log && v <= 0)) return NaN;
      return start + ((f(v) - a) / (b - a)) * (end - start);
    };
  }

  // A text from runs [text, style]: style "i" italic, "_" subscript, "^" superscript.
  function text(parent, runs, x, y, size, attrs) {
    var t = el("text", Object.assign({ x: num(x), y: num(y), "font-size": num(size) }, attrs), parent);
    var level = 0;
    runs.forEach(function (run) {
      var style = run[1], want = style.indexOf("_") >= 0 ? -1 : style.indexOf("^") >= 0 ? 1 : 0;
      var span = el("tspan", {}, t);
      if (want !== level) span.setAttribute("dy", num((level - want) * 0.35 * size));
      if (want) span.setAttribute("font-size", num(0.7 * size));
      if (style.indexOf("i") >= 0) span.setAttribute("font-style", "italic");
      span.textContent = run[0];
      level = want;
    });
    return t;
  }

  function width(t) {
    try {
      return t.getComputedTextLength();
    } catch (e) {
      return 0.6 * t.textContent.length * parseFloat(t.getAttribute("font-size"));
    }
  }

  function dashes(layer, w) {
    var d = DASH[layer.dash];
    return d ? d.map(function (v) { return num(v * w); }).join(" ") : null;
  }

  // Polyline segments of the finite points, as an SVG path.
  function path(xs, ys) {
    var d = [], pen = false;
    for (var i = 0; i < xs.length; i++) {
      if (isNaN(xs[i]) || isNaN(ys[i])) { pen = false; continue; }
      d.push((pen ? "L" : "M") + num(xs[i]) + "," + num(ys[i]));
      pen = true;
    }
    return d.join("");
  }

  function lookup(fig, setting, name) {
    if (name in setting) return setting[name];
    if (name in fig.shared) return fig.shared[name];
    throw new Error("rnnbook-interactive: no data named " + name);
  }

  var LAYERS = {
    line: function (g, layer, get, X, Y, k) {
      var xs = get(layer.x).map(X), y = get(layer.y);
      var rows = y.length && Array.isArray(y[0]) ? y : [y];
      var w = layer.width * PT;
      rows.forEach(function (row, r) {
        el("path", {
          d: path(xs, row.map(Y)), fill: "none", stroke: layer.color[r % layer.color.length],
          "stroke-width": num(w), "stroke-dasharray": dashes(layer, w),
          "stroke-opacity": layer.alpha < 1 ? layer.alpha : null, "stroke-linejoin": "round",
          "class": "rnnbook-line", "data-layer": k, "data-row": r,
        }, g);
      });
    },
    band: function (g, layer, get, X, Y, k) {
      var xs = get(layer.x).map(X), lo = get(layer.low).map(Y), hi = get(layer.high).map(Y);
      var d = "", run = [];
      function flush() {
        if (run.length > 1) {
          d += "M" + run.map(function (i) { return num(xs[i]) + "," + num(hi[i]); }).join("L");
          d += "L" + run.slice().reverse().map(function (i) {
            return num(xs[i]) + "," + num(lo[i]);
          }).join("L") + "Z";
        }
        run = [];
      }
      for (var i = 0; i < xs.length; i++) {
        if (isNaN(xs[i]) || isNaN(lo[i]) || isNaN(hi[i])) flush(); else run.push(i);
      }
      flush();
      el("path", { d: d, fill: layer.color, "fill-opacity": layer.alpha, stroke: "none",
                   "class": "rnnbook-band", "data-layer": k }, g);
    },
    points: function (g, layer, get, X, Y, k) {
      var xs = get(layer.x).map(X), ys = get(layer.y).map(Y);
      var group = el("g", { fill: layer.color, "fill-opacity": layer.alpha < 1 ? layer.alpha : null,
                            "class": "rnnbook-points", "data-layer": k }, g);
      for (var i = 0; i < xs.length; i++) {
        if (isNaN(xs[i]) || isNaN(ys[i])) continue;
        el("circle", { cx: num(xs[i]), cy: num(ys[i]), r: num(layer.size / 2) }, group);
      }
    },
    hline: function (g, layer, get, X, Y, k, box) {
      var y = Y(layer.y), w = layer.width * PT;
      if (isNaN(y)) return;
      el("path", { d: "M" + num(box[0]) + "," + num(y) + "L" + num(box[0] + box[2]) + "," + num(y),
                   stroke: layer.color, "stroke-width": num(w),
                   "stroke-dasharray": dashes(layer, w), "class": "rnnbook-hline",
                   "data-layer": k }, g);
    },
    note: function (g, layer, get, X, Y, k, box, setting) {
      var runs = layer.key ? [[setting[layer.key], ""]] : layer.text;
      if (!runs.length || !runs[0][0]) return;
      var anchor = { left: "start", center: "middle", right: "end" }[layer.align];
      text(g, runs, box[0] + layer.x * box[2], box[1] + (1 - layer.y) * box[3] + 0.35 * SIZE.note,
           SIZE.note, { fill: layer.color, "text-anchor": anchor, "class": "rnnbook-note",
                        "data-layer": k });
    },
  };

  function legendSample(g, layer, x, y) {
    var len = 2 * SIZE.legend;
    if (layer.kind === "band") {
      el("rect", { x: num(x), y: num(y - 0.35 * SIZE.legend), width: num(len),
                   height: num(0.7 * SIZE.legend), fill: layer.color,
                   "fill-opacity": layer.alpha }, g);
    } else if (layer.kind === "points") {
      el("circle", { cx: num(x + len / 2), cy: num(y), r: num(layer.size / 2),
                     fill: layer.color }, g);
    } else {
      var w = layer.width * PT, color = Array.isArray(layer.color) ? layer.color[0] : layer.color;
      el("path", { d: "M" + num(x) + "," + num(y) + "h" + num(len), stroke: color,
                   "stroke-width": num(w), "stroke-dasharray": dashes(layer, w) }, g);
    }
  }

  function legend(g, panel) {
    var entries = panel.layers.filter(function (l) { return l.label; });
    if (!panel.legend || !entries.length) return;
    var s = SIZE.legend, pad = 0.5 * s, row = 1.5 * s, len = 2 * s, gap = 0.8 * s;
    var box = panel.box, group = el("g", { "class": "rnnbook-legend" }, g);
    var lines = [], widest = 0, top = 0;
    if (panel.legend_title.length) {
      var title = text(group, panel.legend_title, 0, 0.35 * s, s, { "text-anchor": "middle" });
      lines.push(title);
      widest = width(title);
      top = row;
    }
    entries.forEach(function (layer, i) {
      var y = top + i * row;
      legendSample(group, layer, 0, y);
      var t = text(group, layer.label, len + gap, y + 0.35 * s, s, {});
      widest = Math.max(widest, len + gap + width(t));
    });
    if (lines.length) lines[0].setAttribute("x", num(widest / 2));
    var height = top + (entries.length - 1) * row;
    var right = panel.legend.indexOf("right") >= 0, upper = panel.legend.indexOf("upper") >= 0;
    var x = right ? box[0] + box[2] - pad - widest : box[0] + pad;
    var y = upper ? box[1] + pad + 0.5 * row : box[1] + box[3] - pad - 0.5 * row - height;
    group.setAttribute("transform", "translate(" + num(x) + "," + num(y) + ")");
  }

  function axes(g, panel, X, Y) {
    var b = panel.box, left = b[0], bottom = b[1] + b[3];
    var frame = el("g", { stroke: "#000000", "stroke-width": num(0.8 * PT), fill: "none" }, g);
    var labels = el("g", { fill: "#000000", "font-size": num(SIZE.tick) }, g);
    var widest = 0;
    panel.xticks.forEach(function (t) {
      var x = X(t[0]);
      el("path", { d: "M" + num(x) + "," + num(bottom) + "v" + num(TICK) }, frame);
      text(labels, t[1], x, bottom + 2 * TICK + 0.8 * SIZE.tick, SIZE.tick, { "text-anchor": "middle" });
    });
    panel.yticks.forEach(function (t) {
      var y = Y(t[0]);
      el("path", { d: "M" + num(left) + "," + num(y) + "h" + num(-TICK) }, frame);
      var label = text(labels, t[1], left - 2 * TICK, y + 0.35 * SIZE.tick, SIZE.tick,
                       { "text-anchor": "end" });
      widest = Math.max(widest, width(label));
    });
    var minor = el("g", { stroke: "#000000", "stroke-width": num(0.6 * PT) }, g);
    panel.xminor.forEach(function (v) {
      el("path", { d: "M" + num(X(v)) + "," + num(bottom) + "v" + num(2 * PT) }, minor);
    });
    panel.yminor.forEach(function (v) {
      el("path", { d: "M" + num(left) + "," + num(Y(v)) + "h" + num(-2 * PT) }, minor);
    });
    el("path", { d: "M" + num(left) + "," + num(b[1]) + "V" + num(bottom) + "H" + num(left + b[2]) },
       frame);
    if (panel.xlabel.length) {
      text(g, panel.xlabel, left + b[2] / 2, bottom + 2 * TICK + SIZE.tick + 4 * PT + 0.8 * SIZE.label,
           SIZE.label, { "text-anchor": "middle", "class": "rnnbook-xlabel" });
    }
    if (panel.ylabel.length) {
      var x = left - 2 * TICK - widest - 4 * PT - 0.25 * SIZE.label, y = b[1] + b[3] / 2;
      text(g, panel.ylabel, x, y, SIZE.label, { "text-anchor": "middle",
           transform: "rotate(-90 " + num(x) + " " + num(y) + ")", "class": "rnnbook-ylabel" });
    }
    if (panel.title.length) {
      text(g, panel.title, left + b[2] / 2, b[1] - 6 * PT, SIZE.title, { "text-anchor": "middle" });
    }
  }

  function grid(g, panel, X, Y) {
    var b = panel.box, lines = el("g", { stroke: GRID, "stroke-opacity": 0.3,
                                         "stroke-width": num(0.8 * PT) }, g);
    panel.xticks.forEach(function (t) {
      el("path", { d: "M" + num(X(t[0])) + "," + num(b[1]) + "v" + num(b[3]) }, lines);
    });
    panel.yticks.forEach(function (t) {
      el("path", { d: "M" + num(b[0]) + "," + num(Y(t[0])) + "h" + num(b[2]) }, lines);
    });
  }

  function draw(svg, fig, key) {
    var setting = fig.settings[key], defs = el("defs", {}, svg);
    el("rect", { width: fig.width, height: fig.height, fill: "#ffffff" }, svg);
    function get(name) { return lookup(fig, setting, name); }
    fig.panels.forEach(function (panel, p) {
      var b = panel.box;
      var X = scale(panel.xlim, panel.xscale, b[0], b[0] + b[2]);
      var Y = scale(panel.ylim, panel.yscale, b[1] + b[3], b[1]);
      var g = el("g", { "class": "rnnbook-panel", "data-panel": p }, svg);
      var clip = "rnnbook-fig-" + fig.name + "-clip-" + p;
      el("rect", { x: num(b[0]), y: num(b[1]), width: num(b[2]), height: num(b[3]) },
         el("clipPath", { id: clip }, defs));
      grid(g, panel, X, Y);
      var data = el("g", { "clip-path": "url(#" + clip + ")", "class": "rnnbook-data" }, g);
      panel.layers.forEach(function (layer, k) {
        LAYERS[layer.kind](data, layer, get, X, Y, k, b, setting);
      });
      axes(g, panel, X, Y);
      legend(g, panel);
    });
  }

  function start(root) {
    var fig = JSON.parse(root.querySelector("script.rnnbook-interactive-data").textContent);
    var inputs = Array.prototype.slice.call(root.querySelectorAll("input[data-rnnbook-control]"));
    var description = root.querySelector(".rnnbook-interactive-description");
    var plot = root.querySelector(".rnnbook-interactive-plot");
    var id = root.id;

    function update() {
      var key = inputs.map(function (input) { return String(Number(input.value)); }).join(",");
      inputs.forEach(function (input, i) {
        var control = fig.controls[i], shown = control.texts[Number(input.value)];
        input.setAttribute("aria-valuetext", control.spoken + " = " + shown);
        root.querySelector("#" + input.id + "-value").textContent = shown;
      });
      var svg = el("svg", {
        viewBox: "0 0 " + fig.width + " " + fig.height, width: fig.width, height: fig.height,
        role: "img", "aria-labelledby": id + "-label", "aria-describedby": id + "-description",
        "font-family": "DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif",
        "class": "rnnbook-interactive-svg", "data-setting": key,
      });
      el("title", { id: id + "-label" }, svg).textContent = fig.label;
      plot.replaceChildren(svg); // in the document first, so that text can be measured
      draw(svg, fig, key);
      description.textContent = fig.settings[key].description;
      root.setAttribute("data-rnnbook-setting", key);
    }

    inputs.forEach(function (input) { input.addEventListener("input", update); });
    update();
    root.querySelector(".rnnbook-interactive-controls").hidden = false;
    root.querySelector(".rnnbook-interactive-static").hidden = true;
    root.classList.add("rnnbook-interactive-ready");
  }

  function startAll() {
    document.querySelectorAll(".rnnbook-interactive").forEach(function (root) {
      try {
        start(root);
      } catch (e) { // keep the static figure
        root.setAttribute("data-rnnbook-error", String(e));
        if (window.console) console.error(e);
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
