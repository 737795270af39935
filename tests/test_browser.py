"""The built book in a real browser, offline.

Debian's Chromium (``/usr/bin/chromium``; ``.ci/run`` installs it) is driven headless by
Playwright's Python package, which brings its own driver: no browser is downloaded. Every page of
the clean build (the session fixture ``built_book``) is opened over ``file://`` with the network
unreachable (offline context, no host resolves, every non-file request aborted and recorded),
and the test asserts that

- every equation was typeset by MathJax (served from the build): no raw TeX delimiters left in
  the text, no MathJax error nodes;
- every image loaded (``naturalWidth > 0``) and has alt text; no local file failed to load;
- no request left the machine;
- headings never skip a level;
- axe-core (shipped inside the ``axe-playwright-python`` package) finds no violation of impact
  "serious" or "critical".

Without Chromium or Playwright the test skips, saying why; under CI (``CI=true``) it fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from conftest import toc_pages

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("RNNBOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no host name resolves: the network is unreachable
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
FAILING_IMPACTS = ("serious", "critical")

# Evaluated in each page once it has loaded.
WAIT_FOR_MATHJAX = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
}"""
INSPECT = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener('load', r); i.addEventListener('error', r); setTimeout(r, 5000);
  })));
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, textarea, .highlight')
       .forEach(e => e.remove());
  const text = clone.textContent;
  const article = document.querySelector('article') || main;
  return {
    mathjax: !!(window.MathJax && MathJax.version),
    math: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('.math mjx-container').length,
    untypeset: [...document.querySelectorAll('.math')]
        .filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')]
        .map(e => e.getAttribute('data-mjx-error') || e.textContent.slice(0, 80)),
    raw_tex: ['$$', '\\\\begin{', '\\\\(', '\\\\[', '\\\\frac', '\\\\tanh']
        .filter(s => text.includes(s)),
    images: imgs.map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0,
                            alt: i.getAttribute('alt'),
                            figure: !!i.closest('article figure, article .cell_output')})),
    headings: [...article.querySelectorAll('h1, h2, h3, h4, h5, h6')]
        .filter(h => h.offsetParent !== null || h.getClientRects().length)
        .map(h => [Number(h.tagName[1]), h.textContent.trim().slice(0, 60)]),
  };
}"""
RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def require(ok: bool, reason: str) -> None:
    """Skip locally when a browser tool is missing; under CI the test must run, so fail."""
    if ok:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run, not skip)")
    pytest.skip(reason)


def axe_source() -> str:
    spec = importlib.util.find_spec("axe_playwright_python")
    path = Path(spec.submodule_search_locations[0]) / "axe.min.js"
    return path.read_text(encoding="utf-8")


def audited_pages(html: Path) -> list[Path]:
    """Every HTML page of the site but the root redirect (checked separately)."""
    return sorted(
        p
        for p in html.rglob("*.html")
        if p != html / "index.html" and "_static" not in p.parts and "_sources" not in p.parts
    )


@pytest.fixture(scope="session")
def browser_report(built_book):
    src, result = built_book
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    require(
        importlib.util.find_spec("playwright") is not None,
        'Playwright not installed (pip install -e ".[test]")',
    )
    require(
        importlib.util.find_spec("axe_playwright_python") is not None,
        'axe-core not installed (axe-playwright-python; pip install -e ".[test]")',
    )
    from playwright.sync_api import sync_playwright

    html = src / "_build" / "html"
    axe = axe_source()
    report, remote, failed = {}, [], []
    started = time.perf_counter()
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            offline=True,
            viewport={"width": 1280, "height": 900},
        )

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
        loading = [True]  # axe-core's own probes (XHRs for stylesheets) are not the page's
        context.on(
            "requestfailed",
            lambda q: (
                failed.append((q.url, q.failure))
                if loading[0] and q.url.startswith("file:")
                else None
            ),
        )
        page = context.new_page()
        page.goto((html / "index.html").as_uri(), wait_until="load")
        try:
            page.wait_for_url("**/book/*.html", timeout=5000)
        except Exception:  # reported by test_pages_were_audited
            pass
        redirect = page.url
        for path in audited_pages(html):
            name = path.relative_to(html).as_posix()
            loading[0] = True
            page.goto(path.as_uri(), wait_until="load")
            page.evaluate(WAIT_FOR_MATHJAX)
            info = page.evaluate(INSPECT)
            loading[0] = False
            page.add_script_tag(content=axe)
            info["axe"] = page.evaluate(RUN_AXE)
            page.goto("about:blank")  # let axe-core's pending probes end before the next page
            report[name] = info
        context.close()
    seconds = time.perf_counter() - started
    print(f"\nbrowser audit: {len(report)} pages in {seconds:.1f} s")
    return {
        "pages": report,
        "remote": remote,
        "failed": failed,
        "redirect": redirect,
        "html": html,
        "seconds": seconds,
    }


def test_pages_were_audited(browser_report, built_book):
    src, _ = built_book
    pages = browser_report["pages"]
    for doc in toc_pages(src):
        assert f"{doc}.html" in pages, f"{doc} was not audited"
    assert browser_report["redirect"].endswith("book/intro.html"), browser_report["redirect"]


def test_no_request_leaves_the_machine(browser_report):
    assert browser_report["remote"] == [], sorted(set(browser_report["remote"]))


def test_every_local_file_loads(browser_report):
    assert browser_report["failed"] == [], browser_report["failed"][:10]


def test_every_equation_is_typeset(browser_report):
    problems = {}
    for name, info in browser_report["pages"].items():
        if info["math"] and not info["mathjax"]:
            problems[name] = "MathJax did not load"
        elif info["untypeset"] or info["errors"] or info["raw_tex"]:
            problems[name] = {k: info[k] for k in ("untypeset", "errors", "raw_tex")}
    assert not problems, problems
    # The chapters do contain maths, so this checked something.
    assert sum(info["typeset"] for info in browser_report["pages"].values()) > 10


def test_every_image_loads_and_has_alt_text(browser_report):
    broken, no_alt = [], []
    for name, info in browser_report["pages"].items():
        for img in info["images"]:
            if not img["ok"]:
                broken.append((name, img["src"]))
            # Every image has alt text; a figure's must describe it (not just name it).
            if img["alt"] is None or (img["figure"] and len(img["alt"].strip()) < 20):
                no_alt.append((name, img["src"], img["alt"]))
    assert not broken, broken
    assert not no_alt, no_alt


def test_headings_do_not_skip_levels(browser_report):
    problems = []
    for name, info in browser_report["pages"].items():
        levels = info["headings"]
        if not levels:
            continue
        if levels[0][0] != 1:
            problems.append((name, "first heading", levels[0]))
        for (a, _), (b, text) in zip(levels, levels[1:]):
            if b > a + 1:
                problems.append((name, f"h{a} -> h{b}", text))
    assert not problems, problems


def test_axe_core_finds_no_serious_violation(browser_report):
    serious = {
        name: [v for v in info["axe"] if v["impact"] in FAILING_IMPACTS]
        for name, info in browser_report["pages"].items()
    }
    serious = {name: v for name, v in serious.items() if v}
    assert not serious, serious
