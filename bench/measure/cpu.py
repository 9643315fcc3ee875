"""CPU seconds from ``/proc``: per process group, for this process, and the whole machine.

A router's own CPU is the user + system time of every process in its process groups
(each part is started as a session leader, so its group holds its workers too), plus
the time of children they have already reaped. Only deltas between two snapshots mean
anything. Linux only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuSnapshot", "machine_busy_seconds", "process_group_seconds", "take_snapshot"]

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: str) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return stat[stat.rindex(")") + 2 :].split()  # fields from "state" on


def process_group_seconds(pgids: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds (user + system, reaped children included) used so far by each group."""
    wanted = {pgid: name for name, pgid in pgids.items()}
    ticks = dict.fromkeys(pgids, 0)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry.name)
        if fields is None:
            continue
        name = wanted.get(int(fields[2]))
        if name is not None:
            # utime, stime, cutime, cstime (stat fields 14-17)
            ticks[name] += sum(int(value) for value in fields[11:15])
    return {name: count / _TICKS for name, count in ticks.items()}


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot, from ``/proc/stat``."""
    first = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()
    values = [int(value) for value in first[1:9]]  # user nice system idle iowait irq softirq steal
    idle = values[3] + values[4]
    total = sum(values)
    return (total - idle) / _TICKS, total / _TICKS


@dataclass(frozen=True, kw_only=True)
class CpuSnapshot:
    groups: dict[str, float]  # name -> CPU seconds so far
    own: float  # this process (the load generator)
    machine_busy: float
    machine_total: float
    wall: float

    def since(self, earlier: CpuSnapshot) -> CpuSnapshot:
        return CpuSnapshot(
            groups={
                name: seconds - earlier.groups.get(name, 0.0)
                for name, seconds in self.groups.items()
            },
            own=self.own - earlier.own,
            machine_busy=self.machine_busy - earlier.machine_busy,
            machine_total=self.machine_total - earlier.machine_total,
            wall=self.wall - earlier.wall,
        )

    @property
    def machine_utilisation(self) -> float:
        """Busy fraction of all cores (0..1) over a delta. On a fully busy machine the
        busy and total seconds are the same ticks summed in different orders, so their
        ratio may round above 1: it is capped."""
        if self.machine_total <= 0:
            return 0.0
        return min(1.0, self.machine_busy / self.machine_total)


def take_snapshot(pgids: Mapping[str, int]) -> CpuSnapshot:
    busy, total = machine_busy_seconds()
    return CpuSnapshot(
        groups=process_group_seconds(pgids),
        own=time.process_time(),
        machine_busy=busy,
        machine_total=total,
        wall=time.monotonic(),
    )
