"""The Envoy gateway of one arm: the shipped configuration, or the same without ext_proc.

Arms with an ext_proc server get :func:`gie_cli.devstack.build_envoy_config` (the
configuration the local stack ships: ``FULL_DUPLEX_STREAMED``, one ext_proc host per
worker port, round-robin, ``max_concurrent_streams: 2``), without an access log, and
with responses streamed through ext_proc (``ResponsePath.EXT_PROC``, as when these
overheads were first measured; the bare servers serve no completion records). The
``envoy-direct`` arm gets that configuration with the ext_proc filter and its cluster
taken out: the client names the endpoint in ``x-gateway-destination-endpoint`` itself
and the same ``original_dst`` cluster routes it, so the difference between the arms is
the ext_proc hop alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.picker_overhead.processes import ProcessSet
from gie_cli.devstack import ResponsePath, build_envoy_config, find_envoy, free_ports
from gie_cli.devstack.envoy_config import EXT_PROC_CLUSTER, PickerTls
from gie_cli.devstack.readiness import local_http_client, probe

__all__ = ["Gateway", "gateway_config", "start_gateway"]

_EXT_PROC_FILTER = "envoy.filters.http.ext_proc"


@dataclass(frozen=True, slots=True)
class Gateway:
    url: str  # http://127.0.0.1:<port>
    pid: int  # also its process-group id


def _without_ext_proc(config: dict[str, Any]) -> dict[str, Any]:
    resources = config["static_resources"]
    for listener in resources["listeners"]:
        for chain in listener["filter_chains"]:
            for network_filter in chain["filters"]:
                hcm = network_filter["typed_config"]
                hcm["http_filters"] = [
                    f for f in hcm["http_filters"] if f["name"] != _EXT_PROC_FILTER
                ]
    resources["clusters"] = [c for c in resources["clusters"] if c["name"] != EXT_PROC_CLUSTER]
    return config


def gateway_config(
    *,
    gateway_port: int,
    admin_port: int,
    ext_proc_ports: Sequence[int],
    picker_tls: PickerTls | None = None,
) -> dict[str, Any]:
    """Envoy bootstrap; no ``ext_proc_ports`` means no ext_proc filter at all;
    ``picker_tls``: ext_proc over TLS, verified as the local stack does."""
    config = build_envoy_config(
        gateway_port=gateway_port,
        admin_port=admin_port,
        picker_grpc_port=ext_proc_ports[0] if ext_proc_ports else admin_port,
        picker_worker_ports=ext_proc_ports if len(ext_proc_ports) > 1 else (),
        # Every arm's ext_proc server sees the response stream, as it did when these
        # overheads were measured (the bare servers serve no completion records).
        response_path=ResponsePath.EXT_PROC,
        picker_tls=picker_tls,
    )
    return config if ext_proc_ports else _without_ext_proc(config)


async def start_gateway(
    procs: ProcessSet,
    *,
    ext_proc_ports: Sequence[int],
    config_dir: Path,
    picker_tls: PickerTls | None = None,
) -> Gateway:
    """Start Envoy in front of ``ext_proc_ports`` and wait until its admin says ready."""
    gateway_port, admin_port = free_ports(2)
    config_path = config_dir / "envoy.json"
    config = gateway_config(
        gateway_port=gateway_port,
        admin_port=admin_port,
        ext_proc_ports=ext_proc_ports,
        picker_tls=picker_tls,
    )
    config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    argv = [str(find_envoy()), "-c", str(config_path), "--disable-hot-restart", "-l", "warning"]
    envoy = procs.start("envoy", argv)
    async with local_http_client() as client:

        async def ready() -> bool:  # /ready answers 200 once the listener is up
            return await probe(client, f"http://127.0.0.1:{admin_port}/ready")

        await procs.wait_ready(envoy, ready, timeout_s=30.0)
    return Gateway(url=f"http://127.0.0.1:{gateway_port}", pid=envoy.pid)
