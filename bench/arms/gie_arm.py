"""The ``gie`` arm: Envoy + the gie picker (and the services it needs), via the devstack.

Started with :func:`gie_cli.devstack.start_stack` in front of the benchmark's own servers
(``StackOptions.endpoints``: the stack starts no simulators of its own), with the
servers' labels (where they publish KV events, when they do) in its pool file. An
EndpointPickerConfig file, when given, reaches the services as ``GIE_CONFIG_FILE``;
each config is its own arm (``gie-<file stem>``). The router's CPU is the picker's
process group (all its workers) plus Envoy's; NATS, Redis, ingest, metrics-collector
and flow-controller are charged as support.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.arms.contracts import RunningArm
from bench.errors import ArmStartError
from gie_cli.devstack import (
    DevstackError,
    PartStartError,
    RunningStack,
    StackOptions,
    find_envoy,
    find_nats_server,
    find_redis_server,
    start_stack,
)

__all__ = ["GieArm"]

_ROUTER = ("picker", "envoy")


class _RunningGie:
    def __init__(self, stack: RunningStack) -> None:
        self._stack = stack
        pids = {record.name: record.pid for record in stack.state.processes}
        self._router = {name: pid for name, pid in pids.items() if name in _ROUTER}
        self._support = {name: pid for name, pid in pids.items() if name not in _ROUTER}

    @property
    def url(self) -> str:
        return self._stack.gateway

    @property
    def router_groups(self) -> Mapping[str, int]:
        return self._router

    @property
    def support_groups(self) -> Mapping[str, int]:
        return self._support

    async def stop(self) -> None:
        await self._stack.stop()


class GieArm:
    """gie with an optional EndpointPickerConfig file."""

    kind = "gie"
    router_cpu_covers = "picker (every worker) + envoy"

    def __init__(self, *, config: Path | None = None, picker_workers: int = 1) -> None:
        self.config = config.absolute() if config is not None else None
        self.picker_workers = picker_workers

    @property
    def name(self) -> str:
        base = "gie" if self.config is None else f"gie-{self.config.stem}"
        # Several workers are several picker replicas (own view, own prefix index,
        # fed by the same stream) that Envoy alternates between.
        return base if self.picker_workers == 1 else f"{base}-x{self.picker_workers}"

    @property
    def description(self) -> str:
        config = f"config {self.config.name}" if self.config is not None else "default config"
        return f"Envoy + gie picker ({config}, {self.picker_workers} worker(s))"

    async def prepare(self) -> str | None:
        find_nats_server(), find_redis_server(), find_envoy()  # raise with install hints
        if self.config is not None and not self.config.is_file():
            return f"config file {self.config} does not exist"
        return None

    def version(self) -> str | None:
        return None

    async def start(
        self,
        *,
        servers: Sequence[str],
        work_dir: Path,
        model: str,
        endpoint_labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> RunningArm:
        env = {"GIE_CONFIG_FILE": str(self.config)} if self.config is not None else {}
        options = StackOptions(
            state_dir=work_dir / "stack",
            endpoints=tuple(servers),
            endpoint_labels={s: labels for s, labels in (endpoint_labels or {}).items()},
            model=model,
            picker_workers=self.picker_workers,
            env=env,
            stop_grace_s=5.0,
        )
        try:
            stack = await start_stack(options)
        except PartStartError as exc:
            raise ArmStartError(
                self.name, str(exc), log_path=exc.log_path, tail=exc.log_tail
            ) from exc
        except DevstackError as exc:
            raise ArmStartError(self.name, str(exc)) from exc
        return _RunningGie(stack)
