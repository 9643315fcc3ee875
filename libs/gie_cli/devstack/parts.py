"""How each part of the local stack is launched: argv, environment, addresses, health.

Pure functions: each returns a :class:`Launch` (what to run, what it serves) and starts
nothing. :mod:`gie_cli.devstack.stack` spawns them in order and waits for readiness.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gie_cli.devstack.ports import LOOPBACK
from gie_cli.devstack.state import PartRecord

__all__ = [
    "SERVICES",
    "SIM_PROCESS",
    "Launch",
    "envoy_launch",
    "kube_launch",
    "nats_launch",
    "picker_worker_parts",
    "redis_launch",
    "replica_name",
    "service_launch",
    "sim_launch",
    "sim_parts",
    "sim_process_name",
]

# The four gie services, in start order: service name -> Python module.
SERVICES: dict[str, str] = {
    "ingest": "gie_ingest",
    "metrics-collector": "gie_metrics_collector",
    "flow-controller": "gie_flow_controller",
    "picker": "gie_picker",
}

SIM_PROCESS = "sims"
KUBE_PROCESS = "kube-api"


@dataclass(frozen=True, kw_only=True)
class Launch:
    """One process to start and the parts it serves."""

    process: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    parts: list[PartRecord] = field(default_factory=list)


def _http(port: int) -> str:
    return f"http://{LOOPBACK}:{port}"


def nats_launch(
    *,
    binary: Path,
    port: int,
    monitor_port: int,
    store_dir: Path,
    config: Path | None = None,
    tls: bool = False,
) -> Launch:
    """nats-server with JetStream, its store under ``store_dir``; with ``config``, that
    configuration file too (users, permissions, TLS: ``gie up --secure``), and ``tls``
    when it requires TLS of clients."""
    argv = [str(binary), "-js", "-sd", str(store_dir), "-a", LOOPBACK, "-p", str(port)]
    argv += ["-m", str(monitor_port), "-n", f"gie-local-{port}"]
    if config is not None:
        argv += ["-c", str(config)]
    scheme = "tls" if tls else "nats"
    part = PartRecord(
        name="nats",
        kind="nats",
        process="nats",
        addresses={"client": f"{scheme}://{LOOPBACK}:{port}", "monitor": _http(monitor_port)},
        health_url=f"{_http(monitor_port)}/healthz",
    )
    return Launch(process="nats", argv=argv, parts=[part])


def redis_launch(*, binary: Path, port: int, data_dir: Path) -> Launch:
    """A Redis-protocol server keeping an append-only file in ``data_dir`` (fsync every
    second, as the chart's valkey), so a restart keeps the flow state; no snapshots."""
    argv = [str(binary), "--port", str(port), "--bind", LOOPBACK, "--save", ""]
    argv += ["--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(data_dir)]
    part = PartRecord(
        name="redis",
        kind="redis",
        process="redis",
        addresses={"url": f"redis://{LOOPBACK}:{port}/0"},
        health_url=f"redis://{LOOPBACK}:{port}",
    )
    return Launch(process="redis", argv=argv, parts=[part])


def sim_launch(
    *,
    count: int,
    time_scale: float,
    model: str,
    ready_file: Path,
    listen: Sequence[str] = (),
    served_names: Sequence[str] = (),
    process: str = SIM_PROCESS,
    extra_args: Sequence[str] = (),
) -> Launch:
    """One ``gie_sim`` process serving ``count`` model servers (parts known once ready).

    With ``listen`` (``HOST:PORT`` each, ``count`` of them) every server binds its own
    address; otherwise they bind 127.0.0.1 on ephemeral ports. Every server answers to
    ``model`` and to each of ``served_names`` (``model`` first: it labels the metrics).
    The process also serves its servers' fault controls on an ephemeral admin port
    (``gie-sim --admin``), named in its ready file.
    ``extra_args`` are more ``gie_sim`` flags (KV events, tokenizer).
    """
    if listen and len(listen) != count:
        raise ValueError(f"{len(listen)} listen addresses for {count} simulators")
    where = ["--listen", ",".join(listen)] if listen else ["--count", str(count)]
    argv = [sys.executable, "-m", "gie_sim", *where]
    argv += ["--time-scale", f"{time_scale:g}", "--model", model, "--ready-file", str(ready_file)]
    argv += ["--admin", f"{LOOPBACK}:0"]
    names = list(dict.fromkeys([model, *served_names]))
    if len(names) > 1:
        argv += ["--served-model-name", ",".join(names)]
    argv += extra_args
    return Launch(process=process, argv=argv, env={"PYTHONUNBUFFERED": "1"})


def sim_process_name(index: int) -> str:
    """The process of simulator ``index`` when each runs in its own: ``sim-<i>``."""
    return f"sim-{index}"


def sim_parts(
    servers: list[str],
    *,
    extra: Sequence[Mapping[str, str]] | None = None,
    processes: Sequence[str] | None = None,
) -> list[PartRecord]:
    """One part per simulated server (``sim-0``, ``sim-1``, ...), all in the sim process
    unless ``processes`` names each one's.

    ``extra`` adds addresses to each part (with Kubernetes discovery: its Pod, or the
    manifest of the Pod a spare simulator does not have yet; the fault controls of its
    process, ``sim-admin``).
    """
    more = list(extra) if extra is not None else [{} for _ in servers]
    if len(more) != len(servers):
        raise ValueError(f"{len(more)} extra address maps for {len(servers)} simulators")
    owners = list(processes) if processes is not None else [SIM_PROCESS] * len(servers)
    if len(owners) != len(servers):
        raise ValueError(f"{len(owners)} processes for {len(servers)} simulators")
    return [
        PartRecord(
            name=f"sim-{index}",
            kind="sim",
            process=owner,
            addresses={"endpoint": server, **addresses},
            health_url=f"http://{server}/health",
        )
        for index, (server, addresses, owner) in enumerate(zip(servers, more, owners, strict=True))
    ]


def kube_launch(*, port: int, kubeconfig: Path) -> Launch:
    """``gie kube serve`` with its kubelet, writing its kubeconfig to ``kubeconfig``."""
    argv = [sys.executable, "-m", "gie_cli", "kube", "serve", "--port", str(port)]
    argv += ["--kubeconfig", str(kubeconfig)]
    part = PartRecord(
        name=KUBE_PROCESS,
        kind="kube-api",
        process=KUBE_PROCESS,
        addresses={"api": _http(port), "kubeconfig": str(kubeconfig)},
        health_url=f"{_http(port)}/readyz",
    )
    return Launch(process=KUBE_PROCESS, argv=argv, env={"PYTHONUNBUFFERED": "1"}, parts=[part])


def service_launch(
    service: str,
    *,
    nats_url: str,
    pool: str,
    admin_port: int,
    env: dict[str, str],
    addresses: dict[str, str] | None = None,
    replica: int = 0,
) -> Launch:
    """A gie service, ``python -m gie_<svc>``, configured through ``GIE_*`` variables.

    Replica ``i`` of a service that runs as several processes is the process and part
    ``<svc>-<i>``; replica 0 keeps the plain name. Each replica
    reports itself as instance ``<svc>-<i>``.
    """
    if replica < 0:
        raise ValueError(f"replica must be >= 0, got {replica}")
    name = replica_name(service, replica)
    base = {
        "GIE_NATS_URL": nats_url,
        "GIE_POOL": pool,
        "GIE_ADMIN_HOST": LOOPBACK,
        "GIE_ADMIN_PORT": str(admin_port),
        "GIE_LOG_FORMAT": "json",
        "GIE_INSTANCE_ID": f"{service}-{replica}",
        "PYTHONUNBUFFERED": "1",
    }
    part = PartRecord(
        name=name,
        kind="service",
        process=name,
        addresses={"admin": _http(admin_port), **(addresses or {})},
        health_url=f"{_http(admin_port)}/readyz",
    )
    return Launch(
        process=name,
        argv=[sys.executable, "-m", SERVICES[service]],
        env={**base, **env},
        parts=[part],
    )


def replica_name(service: str, replica: int) -> str:
    """Process and part name of a service's replica: ``<svc>`` for 0, else ``<svc>-<i>``."""
    return service if replica == 0 else f"{service}-{replica}"


def picker_worker_parts(
    *, admin_base: int, workers: int, process: str = "picker"
) -> list[PartRecord]:
    """Parts for workers 1..N-1 of picker replica ``process`` (worker 0 is its own part).

    ``gie_picker --workers N`` runs N processes sharing the ext_proc port; worker ``i``
    serves its admin API on ``admin_base + i``. All belong to the replica's process
    group, and are named after it: ``picker-w1``, or ``picker-1-w1`` for replica 1.
    """
    return [
        PartRecord(
            name=f"{process}-w{index}",
            kind="service",
            process=process,
            addresses={"admin": _http(admin_base + index)},
            health_url=f"{_http(admin_base + index)}/readyz",
        )
        for index in range(1, workers)
    ]


def envoy_launch(
    *, binary: Path, config_path: Path, gateway_port: int, admin_port: int, workers: int = 1
) -> Launch:
    """Envoy with the generated bootstrap; no hot restart, so many may run at once.

    ``workers`` is Envoy's ``--concurrency``: its worker threads, each with its own
    connections, timers and completion-record stream.
    """
    if workers < 1:
        raise ValueError(f"Envoy needs at least one worker thread, got {workers}")
    argv = [str(binary), "-c", str(config_path), "--disable-hot-restart", "-l", "warning"]
    argv += ["--concurrency", str(workers)]
    part = PartRecord(
        name="envoy",
        kind="envoy",
        process="envoy",
        addresses={"gateway": _http(gateway_port), "admin": _http(admin_port)},
        health_url=f"{_http(admin_port)}/ready",
    )
    return Launch(process="envoy", argv=argv, parts=[part])
