"""Every chapter as a notebook: download the executed .ipynb or the .md source, or launch it.

myst-nb executes each Markdown notebook into ``_build/jupyter_execute/<page>.ipynb`` but does
not publish it. This extension copies it to ``_sources/<page>.ipynb`` in the HTML output (where
sphinx-book-theme's download menu looks for it, next to the ``.md`` source), with

- a first Markdown cell that says where the notebook comes from and what it needs;
- when the repository is known (see ``rnnbook_meta``), a cell that installs ``rnnbook`` from it
  if it is missing (on Colab or Binder);
- deterministic cell ids, so two builds publish byte-identical notebooks;
- figures as PNG only: the kernels also draw each figure as a PDF for the book's LaTeX build
  (``rnnbook_figures``), which a reader's notebook does not need;
- in the student edition, no solution (``rnnbook_editions.without_solutions``).

Each numbered chapter ends with a "Run this chapter" box: plain links to both downloads and,
when the repository is on GitHub, to Binder (the ``.md`` with jupytext) and Colab (the executed
notebook on the published ``gh-pages`` branch). The same launch links go into the page's header.
The header's download menu offers the book's PDF (published next to the HTML) where the theme
would print the web page.
"""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
import rnnbook_editions
import rnnbook_figures
import rnnbook_meta
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.osutil import relative_uri

BINDER = "https://mybinder.org"
COLAB = "https://colab.research.google.com"
PAGES_BRANCH = "gh-pages"  # the branch .github/workflows/book.yml publishes the HTML to
BOX_CLASS = "rnnbook-run"


def executed_notebook(app: Sphinx, docname: str) -> Path:
    return Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"


def source_path(app: Sphinx, docname: str) -> str:
    """The page's source file relative to the book root, e.g. ``book/bptt.md``."""
    return Path(app.env.doc2path(docname)).relative_to(app.srcdir).as_posix()


def launch_links(m: rnnbook_meta.BookMeta, docname: str, source: str) -> dict[str, str]:
    """{"Binder": url, "Colab": url} for a GitHub repository, else {}."""
    if m.github is None:
        return {}
    org, repo = m.github
    return {
        "Binder": f"{BINDER}/v2/gh/{org}/{repo}/{m.branch}?urlpath=lab/tree/{source}",
        "Colab": f"{COLAB}/github/{org}/{repo}/blob/{PAGES_BRANCH}/_sources/{docname}.ipynb",
    }


def header_cells(m: rnnbook_meta.BookMeta, number: str | None, title: str, docname: str):
    where = f"chapter {number}, " if number else ""
    url = m.page_url(docname)
    text = (
        f"*{m.title}*, {where}**{title}**, version {m.version} ({m.date}).\n\n"
        "This is the notebook the book executed, with its outputs. It runs top to bottom with "
        "only the `rnnbook` package installed (`pip install -e .` in the book's repository); "
        "the values the book pastes into its text are printed by `glue(...)`."
    )
    if url:
        text += f" The chapter, and how to cite it: <{url}>."
    if m.edition == "student":
        text += " Student edition: the exercises are here, their solutions are not."
    cells = [nbformat.v4.new_markdown_cell(text)]
    if m.repository:
        cells.append(
            nbformat.v4.new_code_cell(
                "# On Colab, Binder or any fresh environment: install rnnbook if it is missing.\n"
                "import importlib.util\n\n"
                'if importlib.util.find_spec("rnnbook") is None:\n'
                f'    %pip install "rnnbook @ git+{m.repository}"'
            )
        )
    return cells


def publish_notebook(src: Path, dest: Path, cells: list, student: bool = False) -> None:
    nb = rnnbook_figures.without_print_figures(nbformat.read(src, as_version=4))
    if student:
        nb = rnnbook_editions.without_solutions(nb)
    nb.cells[:0] = cells
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    text = nbformat.writes(nb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists() or dest.read_text(encoding="utf-8") != text:
        dest.write_text(text, encoding="utf-8")


def chapter_info(app: Sphinx, docname: str) -> tuple[str | None, str]:
    title = app.env.titles[docname].astext() if docname in app.env.titles else docname
    return rnnbook_meta.chapter_number(app.env, docname), title


def page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Publish the executed notebook and offer it in the theme's download menu."""
    src = executed_notebook(app, pagename)
    if doctree is None or not src.is_file():
        return
    number, title = chapter_info(app, pagename)
    dest = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    meta = rnnbook_meta.for_app(app)
    cells = header_cells(meta, number, title, pagename)
    publish_notebook(src, dest, cells, student=meta.edition == "student")
    context["ipynb_source"] = f"{pagename}.ipynb"


def header_launch_buttons(app, pagename, templatename, context, doctree) -> None:
    if doctree is None or not executed_notebook(app, pagename).is_file():
        return
    links = launch_links(rnnbook_meta.for_app(app), pagename, source_path(app, pagename))
    if not links or "header_buttons" not in context:
        return
    icons = {"Binder": "_static/images/logo_binder.svg", "Colab": "_static/images/logo_colab.png"}
    context["header_buttons"].append(
        {
            "type": "group",
            "tooltip": "Run this chapter",
            "icon": "fas fa-rocket",
            "label": "launch-buttons",
            "buttons": [
                {
                    "type": "link",
                    "text": name,
                    "tooltip": f"Run this chapter on {name}",
                    "icon": icons[name],
                    "url": url,
                }
                for name, url in links.items()
            ],
        }
    )


def header_pdf_button(app, pagename, templatename, context, doctree) -> None:
    """The download menu offers the book's PDF instead of printing the web page."""
    pdf = rnnbook_meta.pdf_name(app.config)
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        for i, button in enumerate(group.get("buttons", [])):
            if button.get("label") == "download-pdf-button":
                group["buttons"][i] = {
                    "type": "link",
                    "text": pdf,
                    "tooltip": "Download the book as a PDF",
                    "icon": "fas fa-file-pdf",
                    "url": relative_uri(app.builder.get_target_uri(pagename), pdf),
                    "label": "download-book-pdf-button",
                }


def run_box(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    number, title = chapter_info(app, docname)
    if number is None or app.builder.format != "html":
        return
    if not executed_notebook(app, docname).is_file():
        return
    here = app.builder.get_target_uri(docname)
    source = source_path(app, docname)
    downloads = [
        (
            relative_uri(here, f"_sources/{docname}.ipynb"),
            "the executed notebook",
            f"{Path(docname).name}.ipynb",
        ),
        (
            relative_uri(here, f"_sources/{docname}{Path(source).suffix}"),
            "its MyST source",
            Path(source).name,
        ),
    ]
    parts = [
        f'<a class="reference download" href="{html.escape(href)}" download="{html.escape(fn)}">'
        f"{text} (<code>{html.escape(fn)}</code>)</a>"
        for href, text, fn in downloads
    ]
    sentence = f"Download {parts[0]} or {parts[1]}."
    links = launch_links(rnnbook_meta.for_app(app), docname, source)
    if links:
        sentence += (
            " Or run it online: "
            + ", ".join(
                f'<a class="reference external" href="{html.escape(u)}">{n}</a>'
                for n, u in links.items()
            )
            + "."
        )
    box = nodes.admonition(classes=[BOX_CLASS, "tip"])
    box += nodes.title(text="Run this chapter yourself")
    box += nodes.raw("", f"<p>{sentence}</p>", format="html")
    box += nodes.paragraph(
        "",
        "",
        nodes.Text("The notebook needs only the rnnbook package ("),
        nodes.literal(text="pip install -e ."),
        nodes.Text(" in the book's repository), NumPy and matplotlib."),
    )
    top = next(iter(doctree.findall(nodes.section)), doctree)
    top += box


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", page_context, priority=500)
    app.connect("html-page-context", header_launch_buttons, priority=502)
    app.connect("html-page-context", header_pdf_button, priority=503)
    app.connect("doctree-resolved", run_box, priority=505)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
