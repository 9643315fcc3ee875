"""nats-py loaded without aiohttp until a WebSocket connection needs it.

nats-py's transport module imports aiohttp (and multidict) as it loads, for its
WebSocket transport only. gie's services reach NATS over TCP (``nats://``, ``tls://``)
unless their URL says ``ws://``/``wss://``, and importing aiohttp, which also builds
two TLS contexts at import, was about a sixth of a second of every service's start-up
CPU: a tenth of what a new picker spends before it answers ready.

:func:`load_nats` (run when this module is imported, which :mod:`gie.bus` does before
anything of it imports nats) loads
nats-py's transport with aiohttp hidden, then hands it stand-ins that import the real
aiohttp and multidict at their first use, so a WebSocket connection works as before
by any path. When nats-py was already loaded (or aiohttp was), nothing changes.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

_HIDDEN = ("aiohttp", "multidict")


class OnFirstUse:
    """Stands for a module, imported when one of its attributes is first read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> object:
        module: ModuleType = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<{self._name}, imported at first use>"


def load_nats() -> None:
    """Load nats-py's transport with aiohttp and multidict imported on first use."""
    if "nats.aio.transport" in sys.modules or any(name in sys.modules for name in _HIDDEN):
        return
    for name in _HIDDEN:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` fails
    try:
        transport = importlib.import_module("nats.aio.transport")
    finally:
        for name in _HIDDEN:
            del sys.modules[name]
    for name in _HIDDEN:
        if getattr(transport, name, False) is None:  # the import failed, as meant
            setattr(transport, name, OnFirstUse(name))


load_nats()
