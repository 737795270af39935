"""Re-execute the chapters whenever the rnnbook package changes.

myst-nb caches executed notebooks with jupyter-cache, which keys a notebook on
its cells' source only. The chapters run ``rnnbook``, so an edit to the package
alone would leave every cached figure and glued number stale, silently.

This extension hashes the source of the ``rnnbook`` package that the chapters'
kernel imports (found the way Python finds it, so an editable install or a
``PYTHONPATH`` both work) and keeps one jupyter-cache per hash, in
``<build>/.jupyter_cache/rnnbook-<hash>``. When the package changes:

- the cache path changes, so every notebook misses the cache and runs again;
- the path is a Sphinx config value that affects reading, so Sphinx marks every
  page outdated, even those whose Markdown did not change;
- the caches of other package versions (``rnnbook-*`` beside it) are deleted,
  so ``_build`` does not grow.

The cache lives in the book's own ``_build/.jupyter_cache`` whatever the output folder, so a
build into another folder (the student edition's ``--path-output _build/student``, see
``rnnbook_editions``) reuses the notebooks any other build executed, under the same key.

Files that chapters read at run time (say ``benchmarks/results.json``) go stale the same way;
list them, relative to the book's root, in the config value ``rnnbook_freshness_files`` and
they join the hash.

Register it in ``_config.yml`` under ``sphinx: local_extensions:``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

PACKAGE = "rnnbook"
PREFIX = f"{PACKAGE}-"


def package_dir(name: str = PACKAGE) -> Path:
    """The directory of the package `name` as an import would find it (not imported)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"rnnbook_freshness: cannot find the package {name!r}")
    return Path(next(iter(spec.submodule_search_locations)))


def namespace_cache(app: Sphinx, config: Config) -> None:
    """Point myst-nb's jupyter-cache at a folder named by the package's source hash.

    The hash is ``rnnbook.notebook.source_sha256`` of the package folder, the one stored
    benchmark timings carry.
    """
    from rnnbook.notebook import source_sha256  # the API page imports rnnbook here anyway

    directory = package_dir()
    digest = hashlib.sha256(source_sha256(directory).encode())
    for name in config.rnnbook_freshness_files:
        path = Path(app.srcdir) / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-"))
    key = digest.hexdigest()[:16]
    root = Path(config.nb_execution_cache_path or Path(app.srcdir) / "_build" / ".jupyter_cache")
    cache = root.resolve() / f"{PREFIX}{key}"
    config.nb_execution_cache_path = str(cache)
    logger.info(f"rnnbook_freshness: {PACKAGE} source {key} ({directory}); cache {cache}")
    for old in root.glob(f"{PREFIX}*"):
        if old != cache and old.is_dir():  # the cache of another version of the package
            logger.info(f"rnnbook_freshness: removing stale cache {old}")
            shutil.rmtree(old)


def setup(app: Sphinx) -> dict:
    # After myst-nb registered nb_execution_cache_path, before the environment is loaded.
    app.add_config_value("rnnbook_freshness_files", [], "env", [list])
    app.connect("config-inited", namespace_cache, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
