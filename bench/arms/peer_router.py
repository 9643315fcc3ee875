"""Peer routers: the ``sglang-router`` and ``vllm-router`` wheels (Rust, run on CPU).

Both take ``--worker-urls http://ip:port ...`` and route OpenAI-style HTTP requests to
them (streaming passed through chunk by chunk, response headers included, so
``x-served-by`` reaches the client). They run with their defaults except: bound to
127.0.0.1 on a free port, their Prometheus exporter on another free loopback port, and
warnings-only logging (per-request info logs would cost CPU the benchmark charges them).
The process retitles itself (``sglang::router``), which is why it is stopped through
its ``Popen`` handle (:mod:`bench.processes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.arms.contracts import RunningArm
from bench.arms.launched import launch_router
from bench.arms.peer_venv import PeerPackage, PeerVenv
from bench.errors import PeerInstallError
from gie_cli.devstack import free_ports

__all__ = ["SGLANG_ROUTER", "VLLM_ROUTER", "PeerFlavour", "PeerRouterArm"]

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, kw_only=True)
class PeerFlavour:
    kind: str
    package: PeerPackage
    subcommand: tuple[str, ...]  # before the options ("launch" for sglang-router)
    log_level: str  # its spelling of "warnings only"
    policies: tuple[str, ...]  # the ones the benchmark runs by default


SGLANG_ROUTER = PeerFlavour(
    kind="sglang-router",
    package=PeerPackage(distribution="sglang-router", version="0.3.2", executable="sglang-router"),
    subcommand=("launch",),
    log_level="warn",
    policies=("cache_aware", "round_robin"),
)
VLLM_ROUTER = PeerFlavour(
    kind="vllm-router",
    package=PeerPackage(distribution="vllm-router", version="0.1.17", executable="vllm-router"),
    subcommand=(),
    log_level="warning",
    policies=("cache_aware", "power_of_two"),
)


class PeerRouterArm:
    """One peer router with one ``--policy``."""

    def __init__(self, flavour: PeerFlavour, policy: str, venv: PeerVenv) -> None:
        self._flavour = flavour
        self._policy = policy
        self._venv = venv

    @property
    def name(self) -> str:
        return f"{self._flavour.kind}-{self._policy.replace('_', '-')}"

    @property
    def kind(self) -> str:
        return self._flavour.kind

    @property
    def description(self) -> str:
        return f"{self._venv.package.requirement} --policy {self._policy}"

    @property
    def router_cpu_covers(self) -> str:
        return f"the {self._flavour.kind} process (all its threads)"

    async def prepare(self) -> str | None:
        try:
            await self._venv.ensure()
        except PeerInstallError as exc:
            return f"could not install {self._venv.package.requirement}: {exc}"
        return None

    def version(self) -> str | None:
        return self._venv.package.version

    def argv(self, *, servers: Sequence[str], port: int, metrics_port: int) -> list[str]:
        return [
            str(self._venv.executable),
            *self._flavour.subcommand,
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--worker-urls",
            *(f"http://{server}" for server in servers),
            "--policy",
            self._policy,
            "--prometheus-host",
            LOOPBACK,
            "--prometheus-port",
            str(metrics_port),
            "--log-level",
            self._flavour.log_level,
        ]

    async def start(
        self,
        *,
        servers: Sequence[str],
        work_dir: Path,
        model: str,
        endpoint_labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> RunningArm:
        port, metrics_port = free_ports(2)
        return await launch_router(
            self._flavour.kind,
            self.argv(servers=servers, port=port, metrics_port=metrics_port),
            url=f"http://{LOOPBACK}:{port}",
            health_url=f"http://{LOOPBACK}:{port}/health",
            log_path=work_dir / f"{self.name}.log",
            env={"NO_COLOR": "1", "RUST_LOG_STYLE": "never"},
        )
