"""The chapters' kernels talk to the build over encrypted sockets.

ipykernel 7.4 warns, once per kernel, "Kernel is running over TCP without encryption ...":
``IPKernelApp.init_sockets`` logs it whenever its transport is TCP and the connection file
brought no CurveZMQ secret key. jupyter_client 8.10 can provision such keys for every kernel it
starts (``KernelManager.transport_encryption``: ``"auto"`` provisions them when the kernelspec
declares ``supported_encryption: ["curve"]``, as ipykernel's own kernelspec does), but leaves
it ``"disabled"`` by default, and nbclient creates the kernel manager of myst-nb's executions
with an empty configuration, so no configuration file can turn it on. The warning was the
kernel's honest report: anyone on the machine who could read the loopback traffic could read
the chapters' code and outputs.

This extension makes ``"auto"`` the kernel managers' default in the build's process (before any
kernel starts). The kernels then run with CurveZMQ encryption and the warning is not printed,
so a real warning in the build log stands out (the strict build test fails on any). Where
jupyter_client is older, or pyzmq was built without CurveZMQ, nothing changes.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def encrypt_kernel_transport(app: Sphinx, config) -> None:
    import zmq
    from jupyter_client.manager import KernelManager

    trait = KernelManager.class_traits().get("transport_encryption")
    if trait is None or not zmq.has("curve"):
        logger.info("rnnbook_encryption: this jupyter_client or pyzmq has no CurveZMQ keys")
        return
    trait.default_value = "auto"


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", encrypt_kernel_transport)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
