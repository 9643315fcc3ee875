"""The arms of the benchmark and how each one's ext_proc side is started.

==============  =========================================================================
``envoy-direct``  Envoy without ext_proc; the client names the endpoint (latency baseline)
``bare-1/4``      Envoy + 1 / 4 bare ext_proc servers answering one fixed endpoint
``gie-1/4``       Envoy + the picker with 1 / 4 workers, 100 endpoints in view
``gie-1-tls``     ``gie-1`` over mutual TLS: Envoy verifies the picker's certificate (CA
                  and name) and presents its own, as ``gie up --secure`` configures them
``gie-1-tls-bus`` ``gie-1-tls``, and the picker reaches NATS over TLS as its own user
                  (``gie up --secure``'s nats-server: TLS required, a user per service)
==============  =========================================================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bench.picker_overhead.bare_arm import start_bare
from bench.picker_overhead.picker_arm import start_picker
from bench.picker_overhead.processes import ProcessSet
from bench.picker_overhead.shared_servers import SharedServers

__all__ = [
    "ARMS",
    "ARM_NAMES",
    "DIRECT_ARM",
    "ArmKind",
    "ArmSpec",
    "ExtProcServers",
    "start_ext_proc",
]


class ArmKind(StrEnum):
    DIRECT = "direct"
    BARE = "bare"
    PICKER = "gie"


@dataclass(frozen=True, slots=True)
class ArmSpec:
    name: str
    kind: ArmKind
    workers: int  # ext_proc processes (0: no ext_proc)
    tls: bool = False  # ext_proc over mutual TLS (picker arms only)
    bus_tls: bool = False  # NATS over TLS with a user per service (with tls only)


ARMS = (
    ArmSpec("envoy-direct", ArmKind.DIRECT, 0),
    ArmSpec("bare-1", ArmKind.BARE, 1),
    ArmSpec("gie-1", ArmKind.PICKER, 1),
    ArmSpec("gie-1-tls", ArmKind.PICKER, 1, tls=True),
    ArmSpec("gie-1-tls-bus", ArmKind.PICKER, 1, tls=True, bus_tls=True),
    ArmSpec("bare-4", ArmKind.BARE, 4),
    ArmSpec("gie-4", ArmKind.PICKER, 4),
)
ARM_NAMES = tuple(arm.name for arm in ARMS)
DIRECT_ARM = "envoy-direct"


class ExtProcServers(Protocol):
    """An arm's ext_proc side, started and serving.

    ``ports`` are the hosts Envoy's ext_proc cluster lists (empty: no ext_proc filter);
    ``pgids`` the process groups whose CPU is the arm's ext_proc cost; ``stream_counts``
    the streams each worker has served so far (empty without ext_proc).
    """

    @property
    def ports(self) -> tuple[int, ...]: ...

    @property
    def pgids(self) -> tuple[int, ...]: ...

    async def stream_counts(self) -> tuple[int, ...]: ...


@dataclass(frozen=True, slots=True)
class NoExtProc:
    ports: tuple[int, ...] = ()
    pgids: tuple[int, ...] = ()

    async def stream_counts(self) -> tuple[int, ...]:
        return ()


async def _start_none(procs: ProcessSet, *, workers: int, shared: SharedServers) -> NoExtProc:
    return NoExtProc()


class Starter(Protocol):
    def __call__(
        self, procs: ProcessSet, *, workers: int, shared: SharedServers
    ) -> Awaitable[ExtProcServers]: ...


_STARTERS: dict[ArmKind, Starter] = {
    ArmKind.DIRECT: _start_none,
    ArmKind.BARE: start_bare,
    ArmKind.PICKER: start_picker,
}


async def start_ext_proc(
    spec: ArmSpec,
    procs: ProcessSet,
    shared: SharedServers,
    *,
    env: Mapping[str, str] | None = None,
) -> ExtProcServers:
    """Start ``spec``'s ext_proc servers (owned by ``procs``) and wait until they serve;
    ``env``: extra ``GIE_*`` settings of the picker (its TLS files)."""
    if spec.kind is ArmKind.PICKER:
        return await start_picker(procs, workers=spec.workers, shared=shared, env=env or {})
    if env:
        raise ValueError(f"{spec.name}: only the picker arms take extra settings")
    return await _STARTERS[spec.kind](procs, workers=spec.workers, shared=shared)
