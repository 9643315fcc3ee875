"""Start and stop the stack's OS processes, and tell whether a pid is still ours.

Every process starts in its own session (``start_new_session=True``), so it is the
leader of a process group whose id is its pid: stopping it signals the whole group
(a service's worker processes included), and a terminal's Ctrl-C never reaches it.

A recorded pid is only signalled while it still *is* the process we started: the
kernel start time in ``/proc/<pid>/stat`` must equal the recorded one and
``/proc/<pid>/cmdline`` must match the recorded argv (or, for servers that rewrite
their process title such as ``valkey-server``, begin with the same program). A pid
that the kernel has recycled for another program is left alone. Linux only (``/proc``).

Stopping is async: it polls with ``asyncio.sleep`` and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gie_cli.devstack.state import ProcessRecord

__all__ = [
    "ProcInfo",
    "StopOutcome",
    "cmdline_matches",
    "is_ours",
    "read_proc",
    "spawn",
    "stop_process",
]

_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class ProcInfo:
    """What ``/proc/<pid>`` says about a process."""

    pid: int
    state: str  # R, S, D, Z (zombie), X (dead), ...
    pgrp: int
    start_ticks: int
    cmdline: list[str]

    @property
    def exited(self) -> bool:
        return self.state in ("Z", "X")


def _read_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name, from the state on."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    return stat[stat.rindex(")") + 2 :].split()


def read_proc(pid: int) -> ProcInfo | None:
    """Read ``/proc/<pid>``; None when there is no such process."""
    fields = _read_stat(pid)
    try:
        raw_cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    if fields is None:
        return None
    cmdline = [part.decode(errors="replace") for part in raw_cmdline.split(b"\0")]
    while cmdline and not cmdline[-1]:
        cmdline.pop()
    return ProcInfo(
        pid=pid, state=fields[0], pgrp=int(fields[2]), start_ticks=int(fields[19]), cmdline=cmdline
    )


def cmdline_matches(actual: Sequence[str], argv: Sequence[str]) -> bool:
    """True when ``actual`` (from /proc) is the command line ``argv`` we started.

    Servers that retitle themselves (redis/valkey: one string ``"<argv0> 127.0.0.1:6379"``)
    keep the program as its first word; that is accepted too.
    """
    if not argv or not actual:
        return False
    if list(actual) == list(argv):
        return True
    words = actual[0].split()
    retitled = len(actual) == 1 and len(words) > 1
    return retitled and os.path.basename(words[0]) == os.path.basename(argv[0])


def is_ours(record: ProcessRecord) -> bool:
    """True while ``record.pid`` runs (not a zombie) and is the process we started.

    Identity is the pid plus its start time; the command line must match too,
    except while it is still empty (a child caught in the middle of exec).
    """
    info = read_proc(record.pid)
    return (
        info is not None
        and not info.exited
        and info.start_ticks == record.start_ticks
        and (not info.cmdline or cmdline_matches(info.cmdline, record.argv))
    )


def still_running(record: ProcessRecord) -> bool:
    """:func:`is_ours`, or its leader has exited and left processes in its group."""
    if is_ours(record):
        return True
    info = read_proc(record.pid)
    return (info is None or info.exited) and _group_alive(record.pid)


def spawn(
    name: str, argv: Sequence[str], *, env: Mapping[str, str], log_path: Path
) -> tuple[subprocess.Popen[bytes], ProcessRecord]:
    """Start ``argv`` in a new session, stdout and stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )
    info = read_proc(child.pid)
    record = ProcessRecord(
        name=name,
        pid=child.pid,
        argv=list(argv),
        start_ticks=info.start_ticks if info is not None else -1,
        log=log_path,
    )
    return child, record


class StopOutcome(StrEnum):
    """What :func:`stop_process` found and did."""

    NOT_RUNNING = "not-running"  # gone already, or the pid now belongs to another program
    STOPPED = "stopped"  # exited after SIGTERM
    KILLED = "killed"  # needed SIGKILL
    STUCK = "stuck"  # still present after SIGKILL (should not happen)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _group_alive(pgid: int) -> bool:
    """True while a process of group ``pgid`` runs (zombies awaiting their reaper do not)."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _read_stat(int(entry.name))
            if fields is not None and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


def _reap(child: subprocess.Popen[bytes] | None) -> None:
    if child is not None:
        child.poll()


async def _wait_gone(
    record: ProcessRecord, *, group: bool, child: subprocess.Popen[bytes] | None, timeout_s: float
) -> bool:
    deadline = time.monotonic() + timeout_s
    members_signalled = False
    while True:
        _reap(child)
        leader_gone = not is_ours(record)
        if leader_gone and not (group and _group_alive(record.pid)):
            _reap(child)  # it may have turned into a zombie since the poll above
            return True
        if leader_gone and group and not members_signalled:
            # The leader exited first. A group id is not reused while members remain, so
            # they are still ours: make sure they got the signal too.
            _signal_group(record.pid, signal.SIGTERM)
            members_signalled = True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL_S)


async def stop_process(
    record: ProcessRecord,
    *,
    grace_s: float = 10.0,
    child: subprocess.Popen[bytes] | None = None,
) -> StopOutcome:
    """SIGTERM the process (its whole group when it leads one), SIGKILL after ``grace_s``.

    Does nothing unless ``record`` still names the process we started. ``child`` is the
    ``Popen`` handle when this process started it, so the exit is reaped.
    """
    _reap(child)
    info = read_proc(record.pid)
    if info is None or info.exited:
        # The leader is gone; what it started may still run in its group (a picker
        # supervisor killed, its workers left holding the ports). A group id is not
        # reused while members remain, so they are what we started.
        return await _stop_orphans(record, grace_s=grace_s, child=child)
    if not is_ours(record):
        return StopOutcome.NOT_RUNNING
    group = info.pgrp == record.pid
    if group:
        _signal_group(record.pid, signal.SIGTERM)
    else:
        os.kill(record.pid, signal.SIGTERM)
    if await _wait_gone(record, group=group, child=child, timeout_s=grace_s):
        return StopOutcome.STOPPED
    if group:
        _signal_group(record.pid, signal.SIGKILL)
    elif is_ours(record):
        os.kill(record.pid, signal.SIGKILL)
    if await _wait_gone(record, group=group, child=child, timeout_s=5.0):
        return StopOutcome.KILLED
    return StopOutcome.STUCK


async def _stop_orphans(
    record: ProcessRecord, *, grace_s: float, child: subprocess.Popen[bytes] | None
) -> StopOutcome:
    """The members left in the group of ``record``'s exited leader, stopped."""
    if not _group_alive(record.pid):
        return StopOutcome.NOT_RUNNING
    _signal_group(record.pid, signal.SIGTERM)
    if await _wait_gone(record, group=True, child=child, timeout_s=grace_s):
        return StopOutcome.STOPPED
    _signal_group(record.pid, signal.SIGKILL)
    if await _wait_gone(record, group=True, child=child, timeout_s=5.0):
        return StopOutcome.KILLED
    return StopOutcome.STUCK
