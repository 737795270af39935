"""The book as a PDF: Jupyter Book's LaTeX build (sphinx-jupyterbook-latex, xelatex), as a book.

``jupyter-book build . --builder pdflatex`` writes ``_build/latex/rnnbook.tex`` and runs
latexmk on it. This extension makes that PDF a book rather than a print of the website:

- the title page gives the version and the edition date (``rnnbook_meta``), and says so when
  it is the student edition; the PDF's own dates are the edition's too: the LaTeX step gets
  ``SOURCE_DATE_EPOCH`` (and ``FORCE_SOURCE_DATE=1``), so the same sources give the same bytes;
- equations, figures and exercises keep the numbers they have in the HTML: (2.5), Fig. 2.1 and
  Exercise 2.3, not 2.8.3 (``keep_numbering``);
- the root page opens with its title, as an unnumbered chapter listed in the contents;
- the first part after the numbered ones whose chapters are all unnumbered starts the
  appendices (``\\appendix``): "Appendix A", ...;
- every exercise carries a LaTeX label under its Sphinx name, so that links to it (the
  solutions' titles, ``{ref}``) land on it;
- ``bbm.sty``, which ``jupyterBook.cls`` requires and Debian ships only in the 1.4 GB
  texlive-fonts-extra, is a three-line stand-in (``_latex/bbm.sty``; the book never uses
  ``\\mathbbm``).

The solutions appendix is ``rnnbook_exercises``'s, the chapters' citations ``rnnbook_cite``'s,
the vector figures ``rnnbook_figures``'s.
"""

from __future__ import annotations

import os
from pathlib import Path

import rnnbook_meta
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.latex import LaTeXBuilder
from sphinx.util import logging
from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node

logger = logging.getLogger(__name__)

LATEX_DIR = Path(__file__).parent.parent / "_latex"
ADDITIONAL_FILES = ("bbm.sty",)


def is_latex(app: Sphinx) -> bool:
    return isinstance(app.builder, LaTeXBuilder)


def tex(text: str) -> str:
    """Plain text as LaTeX."""
    specials = {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "$": r"\$",
        "&": r"\&",
        "#": r"\#",
        "%": r"\%",
        "_": r"\_",
        "^": r"\textasciicircum{}",
        "~": r"\textasciitilde{}",
    }
    return "".join(specials.get(c, c) for c in text)


def raw(text: str) -> nodes.raw:
    return nodes.raw("", text, format="latex")


def title_page(m: rnnbook_meta.BookMeta) -> str:
    """LaTeX for the title page: Sphinx's, with the version and the edition date."""
    release = m.version
    if m.edition == "student":
        release += ", student edition"
    return rf"\date{{{tex(m.date)}}}\release{{{release}}}\sphinxmaketitle"


def configure(app: Sphinx, config) -> None:
    m = rnnbook_meta.for_app(app)
    elements = config.latex_elements
    elements.setdefault("releasename", "Version")
    elements.setdefault("maketitle", title_page(m))
    root = Path(app.srcdir).resolve()
    extra = [(LATEX_DIR / name).resolve().relative_to(root).as_posix() for name in ADDITIONAL_FILES]
    config.latex_additional_files = [*config.latex_additional_files, *extra]
    app._rnnbook_secnum_depth = config.numfig_secnum_depth


def keep_numbering(app: Sphinx) -> None:
    """Sphinx numbers figures and exercises as in the HTML (after sphinx-jupyterbook-latex).

    sphinx-jupyterbook-latex raises ``numfig_secnum_depth`` by one when the toc has parts: in
    LaTeX the parts are the top level, and LaTeX must reset its counters at each chapter. But
    Sphinx also numbers exercises (their titles are text) from the same value. So Sphinx
    numbers with the book's value, and the raised one reaches only the LaTeX writer
    (``latex_numbering``).
    """
    if is_latex(app):
        app._rnnbook_latex_secnum_depth = app.config.numfig_secnum_depth
        app.config.numfig_secnum_depth = app._rnnbook_secnum_depth


def latex_numbering(app: Sphinx) -> None:
    """The LaTeX writer resets equation and figure counters at each chapter."""
    app.config.numfig_secnum_depth = app._rnnbook_latex_secnum_depth


def start_appendices(app: Sphinx, tree: nodes.document) -> None:
    """``\\appendix`` before the first part after numbered chapters whose chapters are not."""
    seen_numbered = False
    for part in tree.findall(addnodes.start_of_file):
        if part["docname"] in app.env.all_docs:
            continue  # a page, not a part made from a toc caption
        chapters = [
            f
            for f in part.findall(addnodes.start_of_file)
            if f is not part and f["docname"] in app.env.all_docs
        ]
        numbered = [rnnbook_meta.chapter_number(app.env, f["docname"]) for f in chapters]
        if any(numbered):
            seen_numbered = True
        elif chapters and seen_numbered:
            wrapper = part.parent
            wrapper.parent.insert(wrapper.parent.index(wrapper), raw("\\appendix\n"))
            return


def root_heading(app: Sphinx, tree: nodes.document) -> None:
    """The root page's text opens with its title, as an unnumbered chapter in the contents."""
    root = app.config.root_doc
    section = next(iter(tree.findall(nodes.section)), None)
    if section is None or root not in app.env.titles:
        return
    title = tex(app.env.titles[root].astext())
    heading = (
        f"\\chapter*{{{title}}}\\addcontentsline{{toc}}{{chapter}}{{{title}}}"
        f"\\markboth{{{title}}}{{{title}}}\n"
    )
    index = 1 if section.children and isinstance(section[0], nodes.title) else 0
    section.insert(index, raw(heading))


def label_exercises(app: Sphinx, tree: nodes.document) -> None:
    """A LaTeX label ``docname:label`` at every exercise, where Sphinx's links point."""
    exercises = rnnbook_meta.by_document(
        tree, lambda n: isinstance(n, exercise_node | exercise_enumerable_node)
    )
    for docname, ex in exercises:
        label = ex.get("label")
        if docname and label:
            target = f"\\phantomsection\\label{{\\detokenize{{{docname}:{label}}}}}\n"
            ex.parent.insert(ex.parent.index(ex), raw(target))


def arrange(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if not is_latex(app) or docname != app.config.root_doc:
        return
    start_appendices(app, doctree)
    root_heading(app, doctree)
    label_exercises(app, doctree)
    latex_numbering(app)  # the tree is numbered: from here on only the writer reads it


def edition_dates_for_latex(app: Sphinx, exception: Exception | None) -> None:
    """The LaTeX step (run after Sphinx, in this process's environment) dates the PDF."""
    if exception is not None or not is_latex(app):
        return
    epoch = rnnbook_meta.edition_epoch(Path(app.srcdir))
    os.environ.setdefault("SOURCE_DATE_EPOCH", str(epoch))
    os.environ.setdefault("FORCE_SOURCE_DATE", "1")


def setup(app: Sphinx) -> dict:
    app.setup_extension("rnnbook_editions")  # the edition, for the title page
    app.connect("config-inited", configure, priority=920)
    app.connect("builder-inited", keep_numbering, priority=600)  # sphinx-jupyterbook-latex: 500
    app.connect("doctree-resolved", arrange, priority=530)
    app.connect("build-finished", edition_dates_for_latex)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
