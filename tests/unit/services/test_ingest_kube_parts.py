"""The pure parts of ingest's Kubernetes mode: selectors, pools, Pods, objectives,
rewrites, and the settings that pick the mode."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gie.events import Endpoint, RewriteRule, RewriteTarget
from gie.label_selector import (
    LabelSelectorError,
    format_selector,
    match_labels_selector,
    parse_selector,
)
from gie_ingest.kube.errors import InvalidObject
from gie_ingest.kube.pod_endpoints import RANK_LABEL, pod_endpoints
from gie_ingest.kube.pool_refs import Rewrite, objective_priority, rewrite_of
from gie_ingest.kube.pool_spec import PoolSpec, pool_spec
from gie_ingest.settings import IngestSettings


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("app=vllm", "app=vllm"),
        ("app==vllm", "app=vllm"),
        ("app = vllm , tier!=b", "app=vllm,tier!=b"),
        ("tier in (b,a)", "tier in (a,b)"),
        ("app=vllm,tier notin (x, y),gpu,!canary", "app=vllm,tier notin (x,y),gpu,!canary"),
        ("example.com/role=server", "example.com/role=server"),
        ("app=", "app="),
    ],
    ids=[
        "equals",
        "double-equals",
        "spaces-and-not-equals",
        "set",
        "mixed",
        "prefix",
        "empty-value",
    ],
)
def test_selectors_parse_and_normalise(text: str, normalised: str) -> None:
    assert format_selector(parse_selector(text)) == normalised


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("app=vllm,", "empty requirement"),
        ("app=-bad", "invalid label value '-bad'"),
        ("bad key=x", "invalid label key"),
        ("tier in ()", "needs at least one value"),
        ("Example.com/x=y", "invalid label key"),
    ],
    ids=["empty", "trailing-comma", "bad-value", "space-in-key", "empty-set", "upper-prefix"],
)
def test_bad_selectors_name_the_part(text: str, problem: str) -> None:
    with pytest.raises(LabelSelectorError, match=problem):
        parse_selector(text)


def test_match_labels_become_a_sorted_equality_selector() -> None:
    assert match_labels_selector({"tier": "a", "app": "vllm"}) == "app=vllm,tier=a"
    with pytest.raises(LabelSelectorError, match="matchLabels is empty"):
        match_labels_selector({})


def _pool_v1(ports: list[Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "spec": {
            "selector": {"matchLabels": labels if labels is not None else {"app": "x"}},
            "targetPorts": [{"number": port} for port in ports],
        }
    }


V1 = "inference.networking.k8s.io"
X = "inference.networking.x-k8s.io"


def test_pool_specs_of_both_groups() -> None:
    assert pool_spec(_pool_v1([8000, 8001]), group=V1) == PoolSpec("app=x", (8000, 8001))
    old = {"spec": {"selector": {"app": "x"}, "targetPortNumber": 8000}}
    assert pool_spec(old, group=X) == PoolSpec("app=x", (8000,))


@pytest.mark.parametrize(
    ("pool", "group", "problem"),
    [
        (_pool_v1([]), V1, "spec.targetPorts: 1 to 8"),
        (_pool_v1(list(range(8000, 8009))), V1, "spec.targetPorts: 1 to 8"),
        (_pool_v1([0]), V1, r"spec.targetPorts\[0\].number"),
        (_pool_v1([8000, 8000]), V1, "unique"),
        (_pool_v1([8000], {}), V1, "spec.selector.matchLabels"),
        ({"spec": {"selector": {"app": "x"}}}, X, "spec.targetPortNumber"),
        ({}, V1, "spec: missing"),
    ],
    ids=[
        "no-port",
        "nine-ports",
        "port-zero",
        "same-port",
        "empty-selector",
        "old-no-port",
        "no-spec",
    ],
)
def test_invalid_pools_name_the_field(pool: dict[str, Any], group: str, problem: str) -> None:
    with pytest.raises(InvalidObject, match=problem):
        pool_spec(pool, group=group)


def _pod(
    *, ip: str | None = "10.0.0.1", ready: str = "True", deleting: bool = False
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "p", "labels": {"app": "x"}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status: dict[str, Any] = {"conditions": [{"type": "Ready", "status": ready}]}
    if ip is not None:
        status["podIP"] = ip
    return {"metadata": metadata, "status": status}


@pytest.mark.parametrize(
    ("pod", "members"),
    [
        (_pod(), 1),
        (_pod(ready="False"), 0),
        (_pod(ip=None), 0),
        (_pod(deleting=True), 0),
        ({"metadata": {"name": "p"}, "status": {"podIP": "10.0.0.1"}}, 0),
    ],
    ids=["ready", "not-ready", "no-ip", "terminating", "no-conditions"],
)
def test_only_ready_pods_with_an_ip_that_are_not_terminating_are_members(
    pod: dict[str, Any], members: int
) -> None:
    assert len(pod_endpoints(pod, (8000,))) == members


def test_one_port_is_the_pod_and_several_ports_are_ranks() -> None:
    assert pod_endpoints(_pod(), (8000,)) == [
        Endpoint(address="10.0.0.1:8000", name="p", labels={"app": "x"})
    ]
    assert pod_endpoints(_pod(), (8000, 8002)) == [
        Endpoint(address="10.0.0.1:8000", name="p-rank-0", labels={"app": "x", RANK_LABEL: "0"}),
        Endpoint(address="10.0.0.1:8002", name="p-rank-1", labels={"app": "x", RANK_LABEL: "1"}),
    ]
    assert pod_endpoints(_pod(ip="fd00::1"), (8000,))[0].address == "[fd00::1]:8000"


def _cr(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "r", "creationTimestamp": "2026-01-02T03:04:05Z"}, "spec": spec}


@pytest.mark.parametrize(
    ("spec", "priority"),
    [
        ({"poolRef": {"name": "pool"}, "priority": 7}, 7),
        ({"poolRef": {"name": "pool"}}, 0),
        ({"poolRef": {"name": "pool"}, "priority": -1}, -1),
        ({"poolRef": {"name": "other"}, "priority": 7}, None),
        ({"poolRef": {"name": "pool", "kind": "Service"}}, None),
    ],
    ids=["set", "unset-is-zero", "sheddable", "other-pool", "other-kind"],
)
def test_objective_priorities(spec: dict[str, Any], priority: int | None) -> None:
    assert objective_priority(_cr(spec), "pool") == priority


def test_a_rewrite_maps_matches_and_targets() -> None:
    spec = {
        "poolRef": {"name": "pool"},
        "rules": [
            {
                "matches": [{"model": {"type": "Exact", "value": "m"}}],
                "targets": [{"modelRewrite": "a", "weight": 3}, {"modelRewrite": "b", "weight": 1}],
            },
            {"targets": [{"modelRewrite": "base"}]},
        ],
    }
    assert rewrite_of(_cr(spec), "pool") == Rewrite(
        created=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        rules=(
            RewriteRule(
                matches=("m",),
                targets=(RewriteTarget(model="a", weight=3), RewriteTarget(model="b", weight=1)),
            ),
            RewriteRule(targets=(RewriteTarget(model="base"),)),
        ),
    )
    assert rewrite_of(_cr({"poolRef": {"name": "other"}}), "pool") is None


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ([{"targets": [{"modelRewrite": "a", "weight": 1}, {"modelRewrite": "b"}]}], "every"),
        ([{"targets": []}], r"spec.rules\[0\].targets"),
        ([{"targets": [{"modelRewrite": "a", "weight": 0}]}], r"spec.rules\[0\].targets.0.weight"),
        ([{"matches": [{"model": {"type": "Prefix", "value": "m"}}], "targets": []}], "Exact"),
    ],
    ids=["partial-weights", "no-targets", "zero-weight", "unknown-match-type"],
)
def test_invalid_rewrites_name_the_field(rules: list[Any], problem: str) -> None:
    with pytest.raises(InvalidObject, match=problem):
        rewrite_of(_cr({"poolRef": {"name": "pool"}, "rules": rules}), "pool")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("GIE_DISCOVERY", "GIE_POOL_FILE", "GIE_ENDPOINT_SELECTOR", "GIE_TARGET_PORTS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "GIE_POOL_FILE is required when GIE_DISCOVERY is file"),
        ({"GIE_DISCOVERY": "kubernetes", "GIE_POOL_FILE": "p.yaml"}, "GIE_POOL_FILE is only read"),
        ({"GIE_DISCOVERY": "selector", "GIE_TARGET_PORTS": "8000"}, "GIE_ENDPOINT_SELECTOR is req"),
        (
            {"GIE_DISCOVERY": "selector", "GIE_ENDPOINT_SELECTOR": "app=x"},
            "GIE_TARGET_PORTS is req",
        ),
        ({"GIE_DISCOVERY": "kubernetes", "GIE_TARGET_PORTS": "8000"}, "GIE_TARGET_PORTS is only"),
        ({"GIE_DISCOVERY": "dns"}, "discovery"),
        ({"GIE_DISCOVERY": "kubernetes", "GIE_POOL_GROUP": "example.com"}, "pool_group"),
        ({"GIE_DISCOVERY": "kubernetes", "GIE_KUBECONFIG": "/nonexistent"}, "kubeconfig: no such"),
        (
            {"GIE_DISCOVERY": "selector", "GIE_ENDPOINT_SELECTOR": "a=-", "GIE_TARGET_PORTS": "1"},
            "endpoint_selector: invalid label value",
        ),
        (
            {"GIE_DISCOVERY": "selector", "GIE_ENDPOINT_SELECTOR": "a", "GIE_TARGET_PORTS": "1,x"},
            "target_ports: 'x' is not a port",
        ),
        (
            {
                "GIE_DISCOVERY": "selector",
                "GIE_ENDPOINT_SELECTOR": "a",
                "GIE_TARGET_PORTS": ",".join(str(p) for p in range(1, 10)),
            },
            "target_ports: 1 to 8 ports",
        ),
    ],
    ids=[
        "file-needs-file",
        "file-only-in-file-mode",
        "selector-needs-selector",
        "selector-needs-ports",
        "ports-only-in-selector-mode",
        "unknown-mode",
        "unknown-group",
        "missing-kubeconfig",
        "bad-selector",
        "bad-port",
        "nine-ports",
    ],
)
def test_invalid_settings_name_the_setting(
    clean_env: pytest.MonkeyPatch, env: dict[str, str], problem: str
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(ValidationError, match=problem):
        IngestSettings()


def test_selector_mode_settings(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("GIE_DISCOVERY", "selector")
    clean_env.setenv("GIE_ENDPOINT_SELECTOR", "app = vllm, tier in (b,a)")
    clean_env.setenv("GIE_TARGET_PORTS", "8000, 8001")
    settings = IngestSettings()
    assert settings.endpoint_selector == "app=vllm,tier in (a,b)"
    assert settings.ports() == (8000, 8001)


def test_invalid_settings_exit_with_code_2_naming_the_setting() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIE_")}
    env |= {"GIE_DISCOVERY": "selector", "GIE_TARGET_PORTS": "8000"}
    done = subprocess.run(
        [sys.executable, "-m", "gie_ingest"], env=env, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert b"GIE_ENDPOINT_SELECTOR is required when GIE_DISCOVERY is selector" in done.stderr


def test_a_pod_ip_that_makes_no_address_is_an_invalid_object() -> None:
    with pytest.raises(InvalidObject, match=r"status\.podIP: 'not an ip'"):
        pod_endpoints(_pod(ip="not an ip"), (8000,))


def test_an_unreadable_kubeconfig_exits_with_code_2_naming_it(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIE_")}
    env |= {"GIE_DISCOVERY": "kubernetes", "GIE_KUBECONFIG": str(kubeconfig)}
    done = subprocess.run(
        [sys.executable, "-m", "gie_ingest"], env=env, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert f"GIE_KUBECONFIG={kubeconfig}".encode() in done.stderr
