"""The API reference of ``rnnbook``, and links to it from the code the chapters show.

- ``{rnnbook-api}`` (in a MyST page): one section per public module of ``rnnbook``, in the
  order of the book's module map, each with ``automodule`` and its members. A module added to
  the package appears by itself.
- ``literalinclude`` of ``rnnbook/<module>.py`` with ``:pyobject: name`` gets a caption that
  links to ``rnnbook.<module>.<name>`` in the reference (unless it has a caption already). A
  name the reference does not document (a private helper) stays plain text, without warning.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.directives.code import LiteralInclude
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode, nested_parse_with_titles

PACKAGE = "rnnbook"
#: The book's module map (BOOK.md), in reading order; other modules follow alphabetically.
ORDER = (
    "rnn",
    "loss",
    "gradcheck",
    "init",
    "clip",
    "optim",
    "train",
    "data",
    "analysis",
    "experiment",
    "plots",
    "notebook",
    "validate",
)


def public_modules() -> list[str]:
    package = importlib.import_module(PACKAGE)
    names = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(ORDER)), n))


class ApiReference(SphinxDirective):
    has_content = False

    def run(self):
        # The package itself first (its docstring), so that :mod:`rnnbook` resolves.
        lines = ["```{eval-rst}", f".. automodule:: {PACKAGE}", "```", ""]
        for name in public_modules():
            lines += [
                f"## `{PACKAGE}.{name}`",
                "",
                "```{eval-rst}",
                f".. automodule:: {PACKAGE}.{name}",
                "   :members:",
                "```",
                "",
            ]
        container = nodes.section()
        nested_parse_with_titles(self.state, StringList(lines, source="rnnbook-api"), container)
        return container.children


class LinkedLiteralInclude(LiteralInclude):
    """``literalinclude`` that captions package code with a link to its API entry."""

    def run(self):
        target = self.api_target()
        result = super().run()
        if not target or "caption" in self.options or len(result) != 1:
            return result
        block = result[0]
        if not isinstance(block, nodes.literal_block):
            return result
        ref = addnodes.pending_xref(
            "",
            nodes.literal(target, target, classes=["xref", "py", "py-obj"]),
            refdomain="py",
            reftype="obj",
            reftarget=target,
            refexplicit=True,
            refwarn=False,
            refdoc=self.env.docname,
        )
        ref["rnnbook_optional"] = True
        caption = nodes.caption("", "", ref, nodes.Text(" (from the rnnbook package)"))
        self.set_source_info(caption)
        container = nodes.container("", literal_block=True, classes=["literal-block-wrapper"])
        container += caption
        container += block
        # Keep the block's :name: on the wrapper, as Sphinx's own captions do.
        container["ids"], block["ids"] = block["ids"], []
        container["names"], block["names"] = block["names"], []
        return [container]

    def api_target(self) -> str:
        obj = self.options.get("pyobject")
        path = Path(self.arguments[0])
        if not obj or path.suffix != ".py" or path.parent.name != PACKAGE:
            return ""
        return f"{PACKAGE}.{path.stem}.{obj}"


def resolve_reexport(app, env, node, contnode):
    """Resolve ``rnnbook.forward`` (a re-export) or a bare ``RNNParams`` to where it is documented.

    The reference documents each object once, under its module (``rnnbook.rnn.forward``);
    docstrings and chapters may name it as the package exports it.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].removeprefix("~")
    domain = env.get_domain("py")
    short = target.removeprefix(f"{PACKAGE}.")
    candidates = [
        name
        for name in domain.objects
        if name.startswith(f"{PACKAGE}.")
        and name.endswith(f".{short}")
        and name.count(".") == short.count(".") + 2
    ]
    if target.startswith(f"{PACKAGE}.") or "." not in target:
        try:
            obj = getattr(importlib.import_module(PACKAGE), short.split(".")[0])
            home = f"{obj.__module__}.{short}"
            candidates = [home] if home in domain.objects else candidates
        except (AttributeError, ImportError):
            pass
    if len(candidates) != 1:
        return None
    name = candidates[0]
    obj_entry = domain.objects[name]
    return make_refnode(
        app.builder, node["refdoc"], obj_entry.docname, obj_entry.node_id, contnode, name
    )


def optional_reference(app, env, node, contnode):
    """Leave unresolvable captions (private helpers) as plain text instead of warning."""
    if node.get("rnnbook_optional"):
        return contnode
    return None


# ``literal``, :role:`content` and `interpreted text`: left as they are.
_PROTECTED = re.compile(r"(``.+?``|:[\w:.-]+:`[^`]*`|`[^`]*`_{0,2})")


def escape_bars(app, what, name, obj, options, lines) -> None:
    """Read ``|x|`` in a docstring as bars, not as a reST substitution reference.

    The package's docstrings write norms and absolute values in plain text (``max_i |a_i|``);
    reST would take ``|a_i|`` for an undefined substitution and fail the strict build.
    """
    for i, line in enumerate(lines):
        if "|" in line:
            parts = _PROTECTED.split(line)
            lines[i] = "".join(p if j % 2 else p.replace("|", "\\|") for j, p in enumerate(parts))


def skip_napoleon_for_attributes(app: Sphinx) -> None:
    """Napoleon reads "text: more text" in a data or attribute docstring as "type: text".

    Module constants here are documented with sentences (``#: The book's task: ...``), so
    those docstrings bypass napoleon and stay plain reST.
    """
    from sphinx.ext import napoleon

    listeners = app.events.listeners["autodoc-process-docstring"]
    for listener in list(listeners):
        if listener.handler is napoleon._process_docstring:
            listeners.remove(listener)

            def process(app, what, name, obj, options, lines, _h=listener.handler):
                if what not in ("data", "attribute"):
                    _h(app, what, name, obj, options, lines)

            app.connect("autodoc-process-docstring", process, priority=listener.priority)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.autodoc")
    app.setup_extension("sphinx.ext.napoleon")
    app.add_directive("rnnbook-api", ApiReference)
    app.add_directive("literalinclude", LinkedLiteralInclude, override=True)
    app.connect("missing-reference", resolve_reexport, priority=800)
    app.connect("missing-reference", optional_reference, priority=900)
    app.connect("builder-inited", skip_napoleon_for_attributes)
    app.connect("autodoc-process-docstring", escape_bars, priority=400)  # before napoleon
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
