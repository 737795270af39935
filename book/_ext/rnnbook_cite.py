"""Make the book citable: BibTeX for the book and every chapter, a "Cite this chapter" box.

- ``{rnnbook-how-to-cite}``: a directive for the "How to cite" page; it renders the book's
  reference and BibTeX, then one entry per numbered chapter, in book order.
- At the end of every numbered chapter, a "Cite this chapter" box with the same entry, in the
  HTML and in the PDF.
- The built site gets a complete ``CITATION.cff`` (the repository's file plus version and
  ``date-released``).

All values come from :mod:`rnnbook_meta` (CITATION.cff, pyproject.toml, the edition date).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import rnnbook_meta
import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

BOX_CLASS = "rnnbook-cite"


class cite_list(nodes.General, nodes.Element):
    """Placeholder for the citation entries, filled in once every chapter is known."""


class HowToCite(SphinxDirective):
    has_content = False

    def run(self):
        return [cite_list()]


def configure(app: Sphinx, config) -> None:
    m = rnnbook_meta.for_app(app)
    # Values that change the pages: a new version or date rewrites every page.
    config.rnnbook_edition = f"{m.version} {m.date} {m.repository} {m.baseurl} {m.edition}"
    if m.baseurl and not config.html_baseurl:
        config.html_baseurl = m.baseurl  # canonical links on every page
    # Every page says which edition it is, so a printout or a saved page can be cited.
    options = config.html_theme_options
    if isinstance(options, dict) and not options.get("extra_footer"):
        edition = ", student edition" if m.edition == "student" else ""
        options["extra_footer"] = (
            f"<p>{html.escape(m.title)}, version {html.escape(m.version)} of {m.date}{edition}.</p>"
        )


def title_tex(node: nodes.Node) -> str:
    """A title as BibTeX text: math kept as $...$, specials escaped."""
    parts = []
    for child in node.traverse(nodes.Text):
        text = str(child)
        if isinstance(child.parent, nodes.math):
            parts.append(f"${text}$")
        else:
            parts.append(re.sub(r"([&%#_$])", r"\\\1", text))
    return "".join(parts).strip()


def bibtex_field_lines(fields: dict[str, str]) -> str:
    width = max(len(k) for k in fields)
    return ",\n".join(f"  {k:<{width}} = {{{v}}}" for k, v in fields.items() if v)


def book_bibtex(m: rnnbook_meta.BookMeta) -> str:
    fields = {
        "author": rnnbook_meta.bibtex_authors(m),
        "title": m.title,
        "year": m.year,
        "version": m.version,
        "note": f"Version {m.version} of {m.date}",
        "url": m.baseurl,
    }
    return f"@book{{rnnbook,\n{bibtex_field_lines(fields)}\n}}"


def chapter_key(docname: str) -> str:
    return "rnnbook-" + docname.rsplit("/", 1)[-1]


def chapter_bibtex(m: rnnbook_meta.BookMeta, docname: str, number: str, title: str) -> str:
    fields = {
        "author": rnnbook_meta.bibtex_authors(m),
        "title": title,
        "booktitle": m.title,
        "chapter": number,
        "year": m.year,
        "version": m.version,
        "note": f"Version {m.version} of {m.date}",
        "url": m.page_url(docname),
    }
    return f"@incollection{{{chapter_key(docname)},\n{bibtex_field_lines(fields)}\n}}"


def reference_text(m: rnnbook_meta.BookMeta, chapter: tuple[str, str] | None = None) -> list:
    """A human-readable reference as inline nodes."""
    authors = ", ".join(rnnbook_meta.author_names(m))
    out = [nodes.Text(f"{authors} ({m.year}). ")]
    if chapter:
        number, title = chapter
        out += [nodes.Text(f"{title}. Chapter {number} of ")]
    out += [nodes.emphasis(text=m.title), nodes.Text(f", version {m.version} ({m.date}).")]
    return out


def bibtex_block(text: str) -> nodes.literal_block:
    block = nodes.literal_block(text, text, language="bibtex")
    block["classes"].append("rnnbook-bibtex")
    return block


def chapter_entry(app: Sphinx, docname: str, number: str) -> tuple[str, str]:
    title = app.env.titles[docname]
    return title.astext(), chapter_bibtex(
        rnnbook_meta.for_app(app), docname, number, title_tex(title)
    )


def resolve(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    m = rnnbook_meta.for_app(app)
    numbered = rnnbook_meta.chapters(app.env)
    for placeholder in list(doctree.findall(cite_list)):
        content = [
            nodes.paragraph("", "", *reference_text(m)),
            bibtex_block(book_bibtex(m)),
        ]
        if numbered:
            content.append(nodes.paragraph(text="Single chapters:"))
        for number, chapter in numbered:
            title, bib = chapter_entry(app, chapter, number)
            para = nodes.paragraph("", "", *reference_text(m, (number, title)))
            content += [para, bibtex_block(bib)]
        placeholder.replace_self(content)

    if app.builder.format == "latex":
        if docname == app.config.root_doc:
            latex_boxes(app, doctree)
        return
    number = rnnbook_meta.chapter_number(app.env, docname)
    if number is None or app.builder.format != "html":
        return
    box = cite_box(app, docname, number)
    label = app.env.domaindata["std"]["labels"].get("how-to-cite")
    if label:
        here = app.builder.get_target_uri(docname)
        uri = relative_uri(here, app.builder.get_target_uri(label[0])) + "#" + label[1]
        box += nodes.paragraph(
            "",
            "",
            nodes.Text("BibTeX for the whole book and every chapter: "),
            nodes.reference("", label[2] or "How to cite", refuri=uri, internal=True),
            nodes.Text("."),
        )
    pdf = rnnbook_meta.pdf_name(app.config)
    box += nodes.paragraph(
        "",
        "",
        nodes.Text("The whole book as one PDF, to print or to cite by page: "),
        nodes.reference(
            "",
            "",
            nodes.literal(text=pdf),
            refuri=relative_uri(app.builder.get_target_uri(docname), pdf),
            internal=True,
        ),
        nodes.Text("."),
    )
    top = next(iter(doctree.findall(nodes.section)), doctree)
    top += box


def cite_box(app: Sphinx, docname: str, number: str) -> nodes.admonition:
    title, bib = chapter_entry(app, docname, number)
    box = nodes.admonition(classes=[BOX_CLASS, "note"])
    box += nodes.title(text="Cite this chapter")
    box += nodes.paragraph("", "", *reference_text(rnnbook_meta.for_app(app), (number, title)))
    box += bibtex_block(bib)
    return box


def latex_boxes(app: Sphinx, tree: nodes.document) -> None:
    """The LaTeX builder's single tree: the box at the end of every numbered chapter."""
    for start in list(tree.findall(addnodes.start_of_file)):
        number = rnnbook_meta.chapter_number(app.env, start["docname"])
        top = next(iter(start.findall(nodes.section)), None)
        if number is not None and top is not None:
            top += cite_box(app, start["docname"], number)


def write_citation_cff(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    m = rnnbook_meta.for_app(app)
    cff = yaml.safe_load((Path(app.srcdir) / "CITATION.cff").read_text(encoding="utf-8"))
    cff["version"] = m.version
    cff["date-released"] = m.date
    if m.repository:
        cff.setdefault("repository-code", m.repository)
    if m.baseurl:
        cff.setdefault("url", m.baseurl)
    text = "# Generated by the book's build from CITATION.cff and pyproject.toml.\n"
    text += yaml.safe_dump(cff, sort_keys=False, allow_unicode=True, width=100)
    Path(app.outdir, "CITATION.cff").write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    # The list depends on every chapter's title.
    rnnbook_meta.reread_with_any_change(app, cite_list, "rnnbook-cite-list")
    app.add_config_value("rnnbook_edition", "", "html")
    app.add_node(cite_list)
    app.add_directive("rnnbook-how-to-cite", HowToCite)
    app.connect("config-inited", configure)
    app.connect("doctree-resolved", resolve, priority=510)
    app.connect("build-finished", write_citation_cff)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
