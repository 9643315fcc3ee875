"""Which process groups play which role in an arm, and their CPU time right now."""

from __future__ import annotations

from dataclasses import dataclass

from bench.picker_overhead.procfs import group_cpu_s, machine_busy_s
from bench.picker_overhead.results import CpuSeconds

__all__ = ["CpuGroups", "cpu_delta"]


@dataclass(frozen=True, kw_only=True, slots=True)
class CpuGroups:
    ext_proc: tuple[int, ...]
    envoy: int
    nats: int
    upstreams: int
    loadgen: int

    def sample(self) -> CpuSeconds:
        """CPU seconds used so far by each role, and the machine's busy seconds."""
        return CpuSeconds(
            ext_proc=group_cpu_s(self.ext_proc),
            envoy=group_cpu_s((self.envoy,)),
            nats=group_cpu_s((self.nats,)),
            upstreams=group_cpu_s((self.upstreams,)),
            loadgen=group_cpu_s((self.loadgen,)),
            machine=machine_busy_s(),
        )


def cpu_delta(after: CpuSeconds, before: CpuSeconds) -> CpuSeconds:
    """CPU spent between two samples."""
    return CpuSeconds(
        ext_proc=after.ext_proc - before.ext_proc,
        envoy=after.envoy - before.envoy,
        nats=after.nats - before.nats,
        upstreams=after.upstreams - before.upstreams,
        loadgen=after.loadgen - before.loadgen,
        machine=after.machine - before.machine,
    )
