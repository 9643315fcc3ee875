"""The ``gie`` command line.

``gie up`` / ``status`` / ``down`` drive the local stack (:mod:`gie.devstack`);
``gie demo`` starts a throw-away stack, sends requests through the gateway and shows
where they landed. Commands live one concern per module (``stack_commands``, ``demo``)
and are registered on the Typer app in :mod:`gie.cli.app`. Async work runs under
``asyncio.run``; SIGTERM and Ctrl-C cancel it so the stack is always cleaned up.
"""

from __future__ import annotations

from gie.cli.app import app, main

__all__ = ["app", "main"]
