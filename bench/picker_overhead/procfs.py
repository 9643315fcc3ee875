"""CPU time from ``/proc``: per process group, and for the whole machine. Linux only.

A process's ``utime + stime`` in ``/proc/<pid>/stat`` covers all of its threads (gRPC's
included) and excludes children it reaped. Every server the benchmark starts leads its
own process group (its own session), so a server with worker processes is measured as
the sum over its group. Reads of ``/proc`` are served from kernel memory; they do not
block the event loop in any meaningful way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["group_cpu_s", "group_members", "machine_busy_s"]

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
# Fields after "pid (comm) ": state is index 0, pgrp 2, utime 11, stime 12.
_PGRP, _UTIME, _STIME = 2, 11, 12


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _pids() -> Iterable[int]:
    return (int(entry.name) for entry in os.scandir("/proc") if entry.name.isdigit())


def group_members(pgid: int) -> list[int]:
    """Pids of the live processes of group ``pgid``."""
    members = []
    for pid in _pids():
        fields = _stat_fields(pid)
        if fields is not None and int(fields[_PGRP]) == pgid:
            members.append(pid)
    return members


def group_cpu_s(pgids: Iterable[int]) -> float:
    """CPU seconds (user + system) used so far by every process of the groups ``pgids``."""
    wanted = set(pgids)
    if not wanted:
        return 0.0
    ticks = 0
    for pid in _pids():
        fields = _stat_fields(pid)
        if fields is not None and int(fields[_PGRP]) in wanted:
            ticks += int(fields[_UTIME]) + int(fields[_STIME])
    return ticks * _TICK_S


def machine_busy_s() -> float:
    """Busy CPU seconds of all cores since boot (everything but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()
    # cpu user nice system idle iowait irq softirq steal (guest time is inside user)
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[1:9])
    return (user + nice + system + irq + softirq + steal) * _TICK_S
