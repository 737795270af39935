"""A page for instructors that lists every exercise of the book, with its solution.

``{rnnbook-exercise-list}`` renders, for each numbered chapter in book order and then each
other page with exercises (the appendices), a section with that page's sphinx-exercise
exercises (numbered as on the page) each followed by its solution in a closed dropdown, and a
link back to where the exercise appears. It is generated from the resolved chapters at build
time, so a new chapter or exercise appears by itself.
Solutions of both forms count: the ``{solution}`` directive and the gated
``{solution-start}`` ... ``{solution-end}``, whose executed code cells and outputs come along.

In the PDF (LaTeX builder), the page holding the list becomes the solutions appendix instead:
every solution of the book moves there from after its exercise, grouped by chapter; each
exercise ends with the page of its solution, and each solution's title links back to its
exercise. The student edition (``rnnbook_editions``) has no solutions and leaves this page
out.
"""

from __future__ import annotations

import posixpath

import rnnbook_meta
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri
from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node, solution_node

#: Environment metadata key of the pages holding the list.
LIST_KEY = "rnnbook-exercise-list"


class exercise_list(nodes.General, nodes.Element):
    """Placeholder, replaced once every chapter has been read."""


class ExerciseList(SphinxDirective):
    has_content = False

    def run(self):
        return [exercise_list()]


def _is_exercise(node) -> bool:
    return isinstance(node, exercise_enumerable_node | exercise_node)


def _rebase(tree: nodes.Element, chapter_uri: str, here: str) -> None:
    """Make the references of a node copied from `chapter_uri` work on page `here`."""
    for ref in tree.findall(nodes.reference):
        if "refid" in ref:
            ref["refuri"] = relative_uri(here, chapter_uri) + "#" + ref["refid"]
            del ref["refid"]
        elif ref.get("refuri"):
            uri = ref["refuri"]
            if "://" in uri or uri.startswith(("mailto:", "#")):
                if uri.startswith("#"):
                    ref["refuri"] = relative_uri(here, chapter_uri) + uri
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(chapter_uri), uri))
            ref["refuri"] = relative_uri(here, target)


def _copy(node: nodes.Element, chapter_uri: str, here: str) -> nodes.Element:
    new = node.deepcopy()
    for child in new.findall(include_self=False):
        if isinstance(child, nodes.Element):
            child["ids"] = []
    _rebase(new, chapter_uri, here)
    return new


def _copy_exercise(app: Sphinx, ex, chapter: str, chapter_uri: str, here: str) -> nodes.Element:
    """The exercise as a plain admonition titled like in its chapter, linked to it.

    (sphinx-exercise numbers an exercise from the page it is on, so a copy would lose its
    number.)
    """
    copy = _copy(ex, chapter_uri, here)
    label = ex.get("label", "")
    number = app.env.toc_fignumbers.get(chapter, {}).get("exercise", {}).get(label)
    template = app.config.numfig_format.get("exercise", "Exercise %s")
    text = template % ".".join(map(str, number or ()))
    box = nodes.admonition(classes=list(ex["classes"]), ids=[label] if label else [])
    title = nodes.title("", text.strip())
    old_title = copy.children[0] if copy.children else None
    if isinstance(old_title, nodes.title):
        title.extend(old_title.children)
        body = copy.children[1:]
    else:
        body = copy.children
    box += title
    for child in body:
        # sphinx-exercise wraps the statement in a section; keep its content only.
        box.extend(child.children if isinstance(child, nodes.section) else [child])
    back = nodes.reference(
        "",
        f"{text.strip()} in its chapter",
        refuri=relative_uri(here, chapter_uri) + "#" + label,
        internal=True,
    )
    box += nodes.paragraph("", "", nodes.Text("See "), back, nodes.Text("."))
    return box


def pages_with_exercises(app: Sphinx, here_doc: str) -> list[tuple[str | None, str]]:
    """(number or None, docname) of the pages that may hold exercises, in book order.

    The numbered chapters first, then the other pages of the table of contents (appendices,
    such as Performance), so that every exercise of the book is listed, as the PDF's solutions
    appendix lists every solution.
    """
    numbered = rnnbook_meta.chapters(app.env)
    seen = {docname for _, docname in numbered} | {here_doc, app.config.root_doc}
    others: list[str] = []

    def walk(docname: str) -> None:
        for child in app.env.toctree_includes.get(docname, []):
            if child not in seen:
                seen.add(child)
                others.append(child)
            walk(child)

    walk(app.config.root_doc)
    return [*numbered, *((None, docname) for docname in others)]


def build_list(app: Sphinx, here_doc: str) -> list[nodes.Node]:
    here = app.builder.get_target_uri(here_doc)
    sections = []
    for number, chapter in pages_with_exercises(app, here_doc):
        if LIST_KEY in app.env.metadata.get(chapter, {}):
            continue  # another page holding the list
        tree = app.env.get_and_resolve_doctree(chapter, app.builder)
        chapter_uri = app.builder.get_target_uri(chapter)
        solutions: dict[str, list] = {}
        for sol in tree.findall(solution_node):
            solutions.setdefault(sol.get("target_label", ""), []).append(sol)
        exercises = [n for n in tree.findall(_is_exercise)]
        if not exercises:
            continue
        title = app.env.titles[chapter].astext()
        section = nodes.section(ids=[f"exercises-{chapter.rsplit('/', 1)[-1]}"])
        section += nodes.title(text=f"Chapter {number}: {title}" if number else title)
        link = nodes.reference(
            "",
            "",
            nodes.Text(f"Chapter {number}, {title}" if number else title),
            refuri=relative_uri(here, chapter_uri),
            internal=True,
        )
        section += nodes.paragraph(
            "", "", nodes.Text(f"{len(exercises)} exercises, from "), link, nodes.Text(".")
        )
        for ex in exercises:
            section += _copy_exercise(app, ex, chapter, chapter_uri, here)
            for sol in solutions.get(ex.get("label", ""), []):
                section += _copy(sol, chapter_uri, here)
        sections.append(section)
    if not sections:
        return [nodes.paragraph(text="No chapter has exercises yet.")]
    return sections


#: The LaTeX label of a solution in the appendix.
SOLUTION_LABEL = "rnnbook-solution:{}"
APPENDIX_TITLE = "Solutions to the exercises"
APPENDIX_TEXT = (
    "The solutions of the exercises, chapter by chapter. Each exercise ends with the page of "
    "its solution here, and the title of each solution links back to its exercise."
)


def _latex(text: str) -> nodes.raw:
    return nodes.raw("", text, format="latex")


def latex_appendix(app: Sphinx, tree: nodes.document) -> None:
    """The LaTeX builder's single tree: gather every solution where the list's page is."""
    placeholders = list(tree.findall(exercise_list))
    for extra in placeholders[1:]:
        extra.replace_self([])
    if not placeholders:
        return  # no list page: each solution stays after its exercise
    place = placeholders[0]
    page = next(iter(_ancestors(place, nodes.section)), None)
    if page is None:
        place.replace_self([])
        return
    exercises = {ex.get("label"): ex for ex in tree.findall(_is_exercise)}
    by_chapter: dict[str, list] = {}
    solutions = rnnbook_meta.by_document(tree, lambda n: isinstance(n, solution_node))
    for chapter, sol in solutions:
        exercise = exercises.get(sol.get("target_label"))
        if exercise is None or chapter not in app.env.all_docs:
            continue
        label = SOLUTION_LABEL.format(sol.get("label", ""))
        pointer = nodes.paragraph(
            "",
            "",
            _latex(
                f"\\hyperref[{label}]{{\\sphinxstyleemphasis{{Solution on page "
                f"\\pageref*{{{label}}}.}}}}"
            ),
        )
        exercise += pointer
        sol.parent.remove(sol)
        by_chapter.setdefault(chapter, []).append((label, sol))
    # The page becomes the appendix: its title and text say what it holds in print.
    title = page[0] if page.children and isinstance(page[0], nodes.title) else None
    page.children = []
    if title is not None:
        title.children = [nodes.Text(APPENDIX_TITLE)]
        page += title
    page += nodes.paragraph(text=APPENDIX_TEXT)
    for chapter, solutions in by_chapter.items():
        number = rnnbook_meta.chapter_number(app.env, chapter)
        name = app.env.titles[chapter].astext()
        section = nodes.section(ids=[f"solutions-{chapter.rsplit('/', 1)[-1]}"])
        section += nodes.title(text=f"Chapter {number}: {name}" if number else name)
        for label, sol in solutions:
            # Under its chapter's name, so that the references it holds still resolve there.
            scope = addnodes.start_of_file(docname=chapter)
            scope += _latex(f"\\phantomsection\\label{{{label}}}\n")
            scope += sol
            section += scope
        page += section


def _ancestors(node: nodes.Node, kind: type):
    node = node.parent
    while node is not None:
        if isinstance(node, kind):
            yield node
        node = node.parent


def resolve(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format == "latex":
        if docname == app.config.root_doc:
            latex_appendix(app, doctree)
        return
    placeholders = list(doctree.findall(exercise_list))
    if not placeholders:
        return
    if app.builder.format != "html":
        for p in placeholders:
            p.replace_self([])
        return
    for p in placeholders:
        p.replace_self(build_list(app, docname))
    # The copied statements may hold maths: make sure the page loads MathJax.
    app.env.get_domain("math").data["has_equations"][docname] = True


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_exercise")
    app.add_node(exercise_list)
    app.add_directive("rnnbook-exercise-list", ExerciseList)
    # The list depends on every chapter.
    rnnbook_meta.reread_with_any_change(app, exercise_list, LIST_KEY)
    app.connect("doctree-resolved", resolve, priority=520)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
