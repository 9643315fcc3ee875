"""Arms: names on the command line, the round-robin gateway's config, peer routers'
command lines, and a peer that cannot be installed."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.arms import (
    SGLANG_ROUTER,
    VLLM_ROUTER,
    GieArm,
    PeerPackage,
    PeerRouterArm,
    PeerVenv,
    build_arms,
    round_robin_envoy_config,
)
from bench.arms.catalog import CONFIGS_DIR, DEFAULT_ARMS
from bench.errors import BenchError
from bench.options import BenchOptions
from gie_cli.devstack import find_envoy


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ["gie", "round-robin", "sglang-router", "vllm-router"],
            [
                "gie",
                "round-robin",
                "sglang-router-cache-aware",
                "sglang-router-round-robin",
                "vllm-router-cache-aware",
                "vllm-router-power-of-two",
            ],
        ),
        (
            ["vllm-router-power-of-two", "vllm-router"],
            ["vllm-router-power-of-two", "vllm-router-cache-aware"],
        ),
        (["vllm-router:kv_aware"], ["vllm-router-kv-aware"]),
        (["round-robin", "round-robin"], ["round-robin"]),
        (["gie-approx", "gie-precise", "oracle"], ["gie-approx", "gie-precise", "oracle"]),
    ],
    ids=["defaults", "dedup-by-name", "any-policy", "duplicates", "kv-pressure"],
)
def test_arm_names(names: list[str], expected: list[str], tmp_path: Path) -> None:
    assert [arm.name for arm in build_arms(names, venv_root=tmp_path)] == expected


def test_gie_arm_per_config(tmp_path: Path) -> None:
    arms = build_arms(["gie"], gie_configs=[None, tmp_path / "prefix.yaml"], venv_root=tmp_path)
    assert [arm.name for arm in arms] == ["gie", "gie-prefix"]
    assert isinstance(arms[1], GieArm) and arms[1].config == tmp_path / "prefix.yaml"


def test_gie_example_configs_are_arms_by_their_stem(tmp_path: Path) -> None:
    approx, precise = build_arms(["gie-approx", "gie-precise"], venv_root=tmp_path)
    assert isinstance(approx, GieArm) and isinstance(precise, GieArm)
    assert approx.config == CONFIGS_DIR / "approx.yaml"
    assert "precise-prefix-cache-scorer" in (CONFIGS_DIR / "precise.yaml").read_text()
    assert "precise-prefix-cache-scorer" not in approx.config.read_text()


def test_kv_pressure_runs_its_own_arms_and_sims_unless_told_otherwise(tmp_path: Path) -> None:
    plan = BenchOptions(scenario="kv-pressure", quick=True, results_dir=tmp_path).plan()
    assert plan.arms == (
        "gie-approx",
        "gie-precise",
        "sglang-router-cache-aware",
        "round-robin",
        "oracle",
    )
    assert plan.fleet.extra_args[:2] == ("--num-gpu-blocks", "80")
    assert "--kv-events-port" in plan.fleet.extra_args
    told = BenchOptions(
        scenario="kv-pressure",
        arms=("oracle",),
        sim_args=("--block-size", "8"),
        results_dir=tmp_path,
    ).plan()
    assert told.arms == ("oracle",)
    assert told.fleet.extra_args[:2] == ("--num-gpu-blocks", "640")
    assert told.fleet.extra_args[-2:] == ("--block-size", "8")
    other = BenchOptions(scenario="shared-prefix", results_dir=tmp_path).plan()
    assert other.arms == DEFAULT_ARMS and other.fleet.extra_args == ()


@pytest.mark.parametrize("name", ["nginx", "sglang-router:", "gie-foo"])
def test_unknown_arm_is_an_error(name: str, tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="unknown arm"):
        build_arms([name], venv_root=tmp_path)


def _clusters(config: dict[str, Any]) -> dict[str, Any]:
    return {c["name"]: c for c in config["static_resources"]["clusters"]}


def test_round_robin_config_balances_over_the_servers_and_envoy_accepts_it(
    tmp_path: Path,
) -> None:
    config = round_robin_envoy_config(
        gateway_port=18090, admin_port=18091, servers=["127.0.0.1:41000", "127.0.0.1:41001"]
    )
    (cluster,) = _clusters(config).values()
    assert cluster["type"] == "STATIC"
    assert cluster["lb_policy"] == "ROUND_ROBIN"
    hosts = [
        e["endpoint"]["address"]["socket_address"]
        for e in cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    ]
    assert hosts == [
        {"address": "127.0.0.1", "port_value": 41000},
        {"address": "127.0.0.1", "port_value": 41001},
    ]
    (listener,) = config["static_resources"]["listeners"]
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    assert [f["name"] for f in hcm["http_filters"]] == ["envoy.filters.http.router"]
    route = hcm["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    assert route == {"cluster": cluster["name"], "timeout": "0s"}
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    checked = subprocess.run(
        [str(find_envoy()), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("flavour", "head"),
    [(SGLANG_ROUTER, ["sglang-router", "launch"]), (VLLM_ROUTER, ["vllm-router"])],
    ids=["sglang", "vllm"],
)
def test_peer_command_line(flavour: Any, head: list[str], tmp_path: Path) -> None:
    arm = PeerRouterArm(flavour, "cache_aware", PeerVenv(tmp_path, flavour.package))
    argv = arm.argv(servers=["127.0.0.1:1", "127.0.0.1:2"], port=30001, metrics_port=30002)
    assert Path(argv[0]).name == head[0] and argv[1 : len(head)] == head[1:]
    assert Path(argv[0]).parent == tmp_path / f"{flavour.kind}-{flavour.package.version}" / "bin"
    options = " ".join(argv[len(head) :])
    assert "--host 127.0.0.1 --port 30001" in options
    assert "--worker-urls http://127.0.0.1:1 http://127.0.0.1:2 --policy cache_aware" in options
    assert "--prometheus-host 127.0.0.1 --prometheus-port 30002" in options


async def test_a_peer_that_cannot_be_installed_gives_a_reason_to_skip(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    venv = PeerVenv(blocker, PeerPackage(distribution="x-router", version="1", executable="x"))
    arm = PeerRouterArm(SGLANG_ROUTER, "round_robin", venv)
    reason = await arm.prepare()
    assert reason is not None and reason.startswith("could not install x-router==1")
    assert await arm.prepare() == reason  # remembered, not retried
