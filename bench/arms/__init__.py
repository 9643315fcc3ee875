"""Arms: the routers a benchmark compares, each in front of the same fresh servers.

* :mod:`~bench.arms.contracts`: the :class:`Arm` / :class:`RunningArm` protocols.
* :mod:`~bench.arms.gie_arm`: Envoy + gie via :mod:`gie_cli.devstack` (``gie``, ``gie-<cfg>``).
* :mod:`~bench.arms.round_robin_envoy`: Envoy alone, ``ROUND_ROBIN`` (``round-robin``).
* :mod:`~bench.arms.peer_router` + :mod:`~bench.arms.peer_venv`: ``sglang-router`` and
  ``vllm-router`` wheels, installed into their own virtualenvs on first use.
* :mod:`~bench.arms.oracle_arm` + :mod:`~bench.arms.oracle_router`: routes on the
  simulated servers' true cache contents (``oracle``), the limit of prefix routing.
* :mod:`~bench.arms.catalog`: names on the command line → arms.

Concurrency: asyncio; one arm runs at a time, started and stopped by the runner.
"""

from __future__ import annotations

from bench.arms.catalog import DEFAULT_ARMS, KINDS, build_arms
from bench.arms.contracts import Arm, RunningArm
from bench.arms.gie_arm import GieArm
from bench.arms.oracle_arm import OracleArm
from bench.arms.peer_router import SGLANG_ROUTER, VLLM_ROUTER, PeerRouterArm
from bench.arms.peer_venv import DEFAULT_VENV_ROOT, PeerPackage, PeerVenv
from bench.arms.round_robin_envoy import RoundRobinArm, round_robin_envoy_config

__all__ = [
    "DEFAULT_ARMS",
    "DEFAULT_VENV_ROOT",
    "KINDS",
    "SGLANG_ROUTER",
    "VLLM_ROUTER",
    "Arm",
    "GieArm",
    "OracleArm",
    "PeerPackage",
    "PeerRouterArm",
    "PeerVenv",
    "RoundRobinArm",
    "RunningArm",
    "build_arms",
    "round_robin_envoy_config",
]
