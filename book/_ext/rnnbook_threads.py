"""Run the chapters' kernels with one BLAS thread, unless the builder chose otherwise.

The chapters' matrix products are small (a batch of sequences times an H x H matrix, with H
at most a few hundred). Measured on the 2-core machine this book is built on (appendix
"Performance", table "threads on a busy machine"): a second BLAS thread does not make them
faster, and when another program keeps one core busy it makes them slower, because the two
BLAS threads wait for each other and one of them waits for the core. One thread gives the
same speed on an idle machine and a predictable one on a busy machine.

The kernels are started by myst-nb as child processes of the build and inherit its
environment, so setting the usual variables here, before any kernel starts, is enough. A
variable that is already set (``OPENBLAS_NUM_THREADS=2 jupyter-book build .``) is left alone.
"""

from __future__ import annotations

import os

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread(app: Sphinx, config: Config) -> None:
    for name in VARIABLES:
        os.environ.setdefault(name, "1")
    chosen = ", ".join(f"{name}={os.environ[name]}" for name in VARIABLES)
    logger.info(f"rnnbook_threads: kernels run with {chosen}")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", one_thread)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
