"""Processes the benchmark starts itself, stopped through the handle it holds.

Each is spawned in its own session (:func:`gie_cli.devstack.processes.spawn`), so it leads a
process group. Peer routers retitle themselves (``/proc/<pid>/cmdline`` becomes
``sglang::router``), so the devstack's command-line ownership check cannot recognise
them; here ownership comes from the ``Popen`` handle instead: the leader is not reaped
until its whole group is gone, so its pid, and with it the group id, cannot be reused
by another program while we signal the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time

__all__ = ["group_alive", "stop_group"]

_POLL_S = 0.05


def group_alive(pgid: int) -> bool:
    """True while a process of group ``pgid`` runs (zombies do not count)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


async def stop_group(child: subprocess.Popen[bytes], *, grace_s: float = 5.0) -> bool:
    """SIGTERM the group led by ``child``, SIGKILL after ``grace_s``; reap the leader.

    Returns True once no process of the group is left.
    """
    pgid = child.pid
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        if not group_alive(pgid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        await _wait_gone(pgid, wait_s)
    gone = not group_alive(pgid)
    if gone:
        child.poll()
    return gone


async def _wait_gone(pgid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if not group_alive(pgid) or time.monotonic() >= deadline:
            return
        await asyncio.sleep(_POLL_S)
