"""Two editions from one source: the full edition, and a student edition without solutions.

The full edition is the default. ``RNNBOOK_EDITION=student jupyter-book build ...`` (or
``rnnbook_edition_name: student`` under ``sphinx: config:`` in ``_config.yml``) builds the
student edition, in HTML and in LaTeX alike:

- every solution is left out: sphinx-exercise's ``{solution}`` directive and its gated form
  (``{solution-start}`` ... code cells ... ``{solution-end}``), with the code cells, outputs and
  figures inside it. They are removed right after sphinx-exercise has merged the gated form
  (transform priority 10), before Sphinx collects labels, images or search terms, so nothing
  else sees them. Exercises stay, numbered as in the full edition (solutions are not numbered);
- the instructors' pages are left out: a page holding the exercise list
  (``{rnnbook-exercise-list}``, ``rnnbook_exercises``) is removed from the table of contents
  and not built;
- a reference to something left out (a solution's label, the exercise list's label or page)
  becomes plain text, so nothing links to it. Prose that only makes sense with solutions goes
  in an ``{only} not student`` block: the student edition adds the Sphinx tag ``student``;
- the downloads carry no solution either: the MyST sources under ``_sources/`` are rewritten
  without solution blocks, and the published notebooks (``rnnbook_notebooks``) lose the
  solutions' Markdown and code cells (``without_solutions``).

Both editions share the executed notebooks (one jupyter-cache, ``rnnbook_freshness``): the
student edition executes nothing an earlier build of either edition has executed. Build it
into its own folder (``--path-output _build/student``) so that the two editions' Sphinx
environments do not replace each other.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import rnnbook_meta
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import docname_join, logging
from sphinx_exercise.nodes import solution_end_node, solution_node, solution_start_node

logger = logging.getLogger(__name__)

#: The Sphinx tag the student edition adds (``{only} not student`` blocks).
TAG = "student"
#: Environment metadata key: {label inside a dropped solution: the exercise it solves}.
DROPPED = "rnnbook-dropped-labels"
#: A page holding this directive is for instructors (rnnbook_exercises).
INSTRUCTORS_DIRECTIVE = "rnnbook-exercise-list"

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}")
_TARGET = re.compile(r"^\((?P<label>[^()\s]+)\)=\s*$", re.MULTILINE)


# --- text: MyST sources and notebook cells without their solutions ----------------------------


class _SolutionStripper:
    """Remove solution blocks from MyST text given line by line, across notebook cells.

    ``{solution}`` blocks go whole; a ``{solution-start}`` block starts a region that ends with
    the closing fence of the next ``{solution-end}`` block, and everything in between goes,
    notebook cells included (``inside`` tells whether a code cell falls in such a region).
    """

    def __init__(self) -> None:
        self.fence: str | None = None  # closing fence of the directive being skipped
        self.region = False  # inside solution-start ... solution-end
        self.ending = False  # the fence being skipped is a solution-end's

    @property
    def inside(self) -> bool:
        return self.region or self.fence is not None

    def keep(self, line: str) -> bool:
        if self.fence is not None:
            stripped = line.strip()
            fence_char = self.fence[0]
            if stripped and set(stripped) == {fence_char} and len(stripped) >= len(self.fence):
                self.fence = None
                if self.ending:
                    self.region = self.ending = False
            return False
        match = _FENCE.match(line)
        name = match.group("name") if match else None
        if name in ("solution", "solution-start", "solution-end"):
            self.fence = match.group("fence")
            if name == "solution-start":
                self.region = True
            elif name == "solution-end":
                self.ending = True
            return False
        return not self.region

    def text(self, text: str) -> str:
        kept = [line for line in text.splitlines(keepends=True) if self.keep(line)]
        return "".join(kept)


def strip_solutions(text: str) -> str:
    """MyST text without its solutions (both forms); the rest unchanged."""
    return _SolutionStripper().text(text)


def without_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A notebook (as myst-nb reads a MyST chapter) without its solutions' cells.

    Markdown cells lose their solution blocks (and are dropped if nothing is left); code cells
    inside a gated solution (``solution-start`` ... ``solution-end``) are dropped.
    """
    stripper = _SolutionStripper()
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text = stripper.text(cell.source)
            if text.strip():
                cell.source = text.rstrip("\n") if not cell.source.endswith("\n") else text
                cells.append(cell)
        elif not stripper.inside:
            cells.append(cell)
    nb.cells = cells
    return nb


# --- Sphinx: the student edition ------------------------------------------------------------


def _source(app: Sphinx, docname: str) -> Path | None:
    for suffix in app.config.source_suffix:
        path = Path(app.srcdir) / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


def instructors_pages(app: Sphinx, site_map) -> dict[str, Path]:
    """{docname: source} of the table of contents' pages that hold the exercise list."""
    pattern = re.compile(rf"^\s*(`{{3,}}|:{{3,}})\{{{INSTRUCTORS_DIRECTIVE}\}}", re.MULTILINE)
    found = {}
    for docname in site_map:
        path = _source(app, docname)
        if path is not None and pattern.search(path.read_text(encoding="utf-8")):
            found[docname] = path
    return found


def leave_out_instructors_pages(app: Sphinx, config) -> None:
    """Student edition: remove the instructors' pages from the toc and from the build."""
    config.rnnbook_left_out = {}
    if config.rnnbook_edition_name not in rnnbook_meta.EDITIONS:
        raise ValueError(
            f"rnnbook_edition_name must be one of {', '.join(rnnbook_meta.EDITIONS)}; "
            f"got {config.rnnbook_edition_name!r}"
        )
    if config.rnnbook_edition_name != "student":
        return
    app.tags.add(TAG)
    site_map = getattr(config, "external_site_map", None)
    if site_map is None:
        return
    pages = instructors_pages(app, site_map)
    for docname, path in pages.items():
        for doc in site_map.values():
            for tree in list(doc.subtrees):
                tree.items = [item for item in tree.items if str(item) != docname]
                if not tree.items:
                    doc.subtrees.remove(tree)
        del site_map[docname]
        relative = path.relative_to(app.srcdir).as_posix()
        config.exclude_patterns = [*config.exclude_patterns, relative]
        source = path.read_text(encoding="utf-8")
        labels = [label.lower() for label in _TARGET.findall(source)]
        heading = re.search(r"^#\s+(.+)$", source, re.MULTILINE)
        config.rnnbook_left_out[docname] = (heading.group(1) if heading else docname, labels)
    if pages:
        logger.info(f"rnnbook_editions: student edition, leaving out {', '.join(pages)}")


def _forget(document: nodes.document, node: nodes.Element) -> list[str]:
    """Unregister the ids and names of `node` and its descendants; return its names."""
    names = []
    for element in node.findall(nodes.Element):
        for id_ in element.get("ids", []):
            document.ids.pop(id_, None)
        for name in element.get("names", []):
            document.nameids.pop(name, None)
            document.nametypes.pop(name, None)
            names.append(name)
    return names


class DropSolutions(SphinxTransform):
    """Student edition: remove every solution, right after the gated ones were merged."""

    default_priority = 11  # sphinx-exercise's MergeGatedSolutions is 10

    def apply(self, **kwargs) -> None:
        if self.config.rnnbook_edition_name != "student":
            return
        registry = getattr(self.env, "sphinx_exercise_registry", {})
        dropped = {}  # label of anything inside a solution -> the exercise it solves
        for node in list(self.document.findall(solution_node)):
            for name in _forget(self.document, node):
                dropped[name] = node.get("target_label", "")
            registry.pop(node.get("label", ""), None)
            node.parent.remove(node)
        gates = (solution_start_node, solution_end_node)
        for node in list(self.document.findall(lambda n: isinstance(n, gates))):
            node.parent.remove(node)  # only left if sphinx-exercise reported a broken pair
        if dropped:
            self.env.metadata[self.env.docname][DROPPED] = dropped


def _exercise_number(env, label: str) -> str:
    for numbers in env.toc_fignumbers.values():
        number = numbers.get("exercise", {}).get(label)
        if number:
            return ".".join(map(str, number))
    return ""


def left_out_text(app: Sphinx, env, target: str) -> str | None:
    """What a reference to `target` reads as when it was left out, or None if it was not."""
    for docname, (title, labels) in app.config.rnnbook_left_out.items():
        if target == docname or target in labels:
            return title
    for meta in env.metadata.values():
        exercise = meta.get(DROPPED, {}).get(target)
        if exercise is not None:
            number = _exercise_number(env, exercise)
            return f"the solution to Exercise {number}" if number else "its solution"
    return None


def unlink_left_out(app: Sphinx, env, node, contnode):
    """A reference to a left-out solution or page: text, without a link."""
    if app.config.rnnbook_edition_name != "student":
        return None
    target = node.get("reftarget", "")
    if node.get("reftype") == "doc":
        target = docname_join(node.get("refdoc", ""), target)
    text = left_out_text(app, env, target.lower() if node.get("reftype") != "doc" else target)
    if text is None:
        return None
    if node.get("refexplicit"):
        return contnode
    return nodes.inline(text, text)


def strip_published_sources(app: Sphinx, exception: Exception | None) -> None:
    """Student edition: the MyST sources offered for download lose their solutions."""
    if exception is not None or app.builder.format != "html":
        return
    if app.config.rnnbook_edition_name != "student":
        return
    for path in sorted((Path(app.outdir) / "_sources").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        stripped = strip_solutions(text)
        if stripped != text:
            path.write_text(stripped, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_exercise")
    default = rnnbook_meta.edition_from_environment()
    app.add_config_value("rnnbook_edition_name", default, "env", [str])
    app.add_config_value("rnnbook_left_out", {}, "", [dict])
    # After sphinx-external-toc has read _toc.yml (priority 900).
    app.connect("config-inited", leave_out_instructors_pages, priority=910)
    app.add_transform(DropSolutions)
    app.connect("missing-reference", unlink_left_out, priority=850)
    app.connect("build-finished", strip_published_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
