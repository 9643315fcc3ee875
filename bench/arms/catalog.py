"""Which arms a benchmark runs, from the names on the command line.

A name is a kind (``gie``, ``round-robin``, ``sglang-router``, ``vllm-router``,
``oracle``: the kind's default arms), an arm's full name (``sglang-router-cache-aware``),
``gie-<stem>`` for gie with the example config ``bench/configs/<stem>.yaml``
(``gie-approx``, ``gie-precise``), or ``<peer>:<policy>`` for any policy a peer router
accepts (``vllm-router:kv_aware``).
``gie`` gives one arm per ``gie_configs`` entry (None = no config file) and per
``gie_workers`` entry (picker worker processes; ``gie-x<N>`` beyond one). Peer arms of
one package share one virtualenv.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.arms.contracts import Arm
from bench.arms.gie_arm import GieArm
from bench.arms.oracle_arm import OracleArm
from bench.arms.peer_router import SGLANG_ROUTER, VLLM_ROUTER, PeerFlavour, PeerRouterArm
from bench.arms.peer_venv import PeerVenv
from bench.arms.round_robin_envoy import RoundRobinArm
from bench.errors import BenchError

__all__ = ["CONFIGS_DIR", "DEFAULT_ARMS", "KINDS", "build_arms"]

KINDS = ("gie", "round-robin", "sglang-router", "vllm-router", "oracle")
DEFAULT_ARMS = ("gie", "round-robin", "sglang-router", "vllm-router")
CONFIGS_DIR = Path(__file__).resolve().parents[1] / "configs"
_PEERS: dict[str, PeerFlavour] = {SGLANG_ROUTER.kind: SGLANG_ROUTER, VLLM_ROUTER.kind: VLLM_ROUTER}


def _peer_arm(flavour: PeerFlavour, policy: str, venvs: dict[str, PeerVenv], root: Path) -> Arm:
    venv = venvs.setdefault(flavour.kind, PeerVenv(root, flavour.package))
    return PeerRouterArm(flavour, policy, venv)


def _expand(
    name: str,
    *,
    gie_configs: Sequence[Path | None],
    gie_workers: Sequence[int],
    venv_root: Path,
    venvs: dict[str, PeerVenv],
) -> list[Arm]:
    if name == "gie":
        return [
            GieArm(config=config, picker_workers=workers)
            for config in gie_configs
            for workers in gie_workers
        ]
    if name == "round-robin":
        return [RoundRobinArm()]
    if name == "oracle":
        return [OracleArm()]
    if name.startswith("gie-") and (config := CONFIGS_DIR / f"{name[4:]}.yaml").is_file():
        return [GieArm(config=config, picker_workers=workers) for workers in gie_workers]
    if name in _PEERS:
        flavour = _PEERS[name]
        return [_peer_arm(flavour, policy, venvs, venv_root) for policy in flavour.policies]
    kind, sep, policy = name.partition(":")
    if sep and kind in _PEERS and policy:
        return [_peer_arm(_PEERS[kind], policy, venvs, venv_root)]
    for flavour in _PEERS.values():
        for policy in flavour.policies:
            if name == f"{flavour.kind}-{policy.replace('_', '-')}":
                return [_peer_arm(flavour, policy, venvs, venv_root)]
    raise BenchError(
        f"unknown arm {name!r}; use one of {', '.join(KINDS)}, a full arm name such as "
        "sglang-router-cache-aware, gie-<stem> for bench/configs/<stem>.yaml such as "
        "gie-precise, or <peer>:<policy> such as vllm-router:kv_aware"
    )


def build_arms(
    names: Sequence[str],
    *,
    gie_configs: Sequence[Path | None] = (None,),
    gie_workers: Sequence[int] = (1,),
    venv_root: Path,
) -> list[Arm]:
    """The arms for ``names``, in order, without duplicates (by arm name)."""
    venvs: dict[str, PeerVenv] = {}
    arms: dict[str, Arm] = {}
    for name in names:
        expanded = _expand(
            name,
            gie_configs=gie_configs,
            gie_workers=gie_workers,
            venv_root=venv_root,
            venvs=venvs,
        )
        for arm in expanded:
            arms.setdefault(arm.name, arm)
    if not arms:
        raise BenchError("no arms selected")
    return list(arms.values())
