"""The ``gie`` command line (also ``python -m gie_cli``) and the local stack.

``gie up`` / ``status`` / ``down`` drive the local stack (:mod:`gie_cli.devstack`);
``gie demo`` starts a throw-away stack, sends requests through the gateway and shows
where they landed; ``gie config validate`` checks a picker config; ``gie bench`` runs
the benchmarks (the ``bench`` package, dependencies from the ``bench`` extra); ``gie kube
serve`` runs the Kubernetes API stand-in (:mod:`gie_cli.kube`). Commands
live one concern per module (``stack_commands``, ``demo``, ...) and are registered on
the Typer app in :mod:`gie_cli.app`. Async work runs under ``asyncio.run``; SIGTERM and
Ctrl-C cancel it so the stack is always cleaned up.

This package sits beside the kernel (``gie``), not in it: it may use every package of
the project (services, ``gie_sim``, ``bench``), while the kernel uses none of them.
"""

from __future__ import annotations

from gie_cli.app import app, main

__all__ = ["app", "main"]
