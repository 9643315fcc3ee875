"""NetworkPolicies: ingress to the release's pods is denied except the flows the system
needs. Judged by evaluating the rendered policies as Kubernetes does, for each flow."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.chart import CHART, Obj, of_kind, render

OUTSIDE = None  # a client outside the cluster, or in a namespace the chart knows nothing of


def pod_labels(rendered: tuple[Obj, ...], component: str) -> dict[str, str]:
    for workload in [*of_kind(rendered, "Deployment"), *of_kind(rendered, "StatefulSet")]:
        labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
        if labels["app.kubernetes.io/component"] == component:
            return labels
    raise AssertionError(f"no {component} pods")


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def admitted(rendered: tuple[Obj, ...], source: str | None, target: str, port: int) -> bool:
    """Whether a connection from ``source``'s pods to ``target``'s pods on ``port`` passes."""
    source_labels = None if source is None else pod_labels(rendered, source)
    target_labels = pod_labels(rendered, target)
    policies = [
        p["spec"] for p in of_kind(rendered, "NetworkPolicy")
        if selects(p["spec"]["podSelector"], target_labels)
    ]  # fmt: skip
    if not policies:
        return True
    for policy in policies:
        for rule in policy.get("ingress", []):
            ports = [p["port"] for p in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            peers = rule.get("from")
            if peers is None:
                return True
            if source_labels is not None and any(
                "podSelector" in peer and selects(peer["podSelector"], source_labels)
                for peer in peers
            ):
                return True
    return False


FLOWS = [
    pytest.param(OUTSIDE, "picker", 9002, True, id="gateway-to-picker"),
    pytest.param(OUTSIDE, "picker", 9101, True, id="gateway-to-picker-worker"),
    pytest.param("picker", "flow-controller", 9004, True, id="picker-to-flow-controller"),
    pytest.param(OUTSIDE, "flow-controller", 9004, False, id="outside-to-flow-controller"),
    pytest.param("flow-controller", "valkey", 6379, True, id="flow-controller-to-valkey"),
    pytest.param("picker", "valkey", 6379, False, id="picker-to-valkey"),
    pytest.param(OUTSIDE, "valkey", 6379, False, id="outside-to-valkey"),
    pytest.param("ingest", "nats", 4222, True, id="ingest-to-nats"),
    pytest.param("metrics-collector", "nats", 4222, True, id="collector-to-nats"),
    pytest.param(OUTSIDE, "nats", 4222, False, id="outside-to-nats"),
    pytest.param("nats", "nats", 6222, True, id="nats-routes"),
    pytest.param("picker", "nats", 6222, False, id="picker-to-nats-routes"),
    pytest.param(OUTSIDE, "metrics-collector", 9092, True, id="scrape-collector"),
    pytest.param(OUTSIDE, "ingest", 8000, False, id="other-port"),
    pytest.param(OUTSIDE, "envoy", 8081, True, id="client-to-envoy"),
    pytest.param(OUTSIDE, "envoy", 19000, False, id="envoy-admin-closed"),
]


@pytest.mark.parametrize(("source", "target", "port", "allowed"), FLOWS)
def test_only_the_flows_the_system_needs_are_admitted(
    source: str | None, target: str, port: int, allowed: bool
) -> None:
    rendered = render(CHART / "ci" / "standalone.yaml")
    assert admitted(rendered, source, target, port) is allowed


def test_every_workload_is_covered_by_the_default_deny() -> None:
    rendered = render(CHART / "ci" / "standalone.yaml")
    [deny] = [p for p in of_kind(rendered, "NetworkPolicy") if "ingress" not in p["spec"]]
    for workload in [*of_kind(rendered, "Deployment"), *of_kind(rendered, "StatefulSet")]:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selects(deny["spec"]["podSelector"], labels), workload["metadata"]["name"]


def test_policies_can_be_switched_off() -> None:
    rendered = render(CHART / "ci" / "default.yaml", "networkPolicy.enabled=false")
    assert of_kind(rendered, "NetworkPolicy") == []


def test_more_nats_clients_can_be_admitted() -> None:
    """A third party reading the events (as gie-reader) gets in only when named in
    networkPolicy.natsClients; the gie services stay admitted beside it."""
    default = render(CHART / "ci" / "default.yaml")
    opened = render(
        CHART / "ci" / "default.yaml",
        "networkPolicy.natsClients[0].podSelector.matchLabels.app=reader",
    )

    def client_peers(rendered: tuple[Obj, ...]) -> list[dict[str, Any]]:
        (policy,) = [
            p for p in of_kind(rendered, "NetworkPolicy") if p["metadata"]["name"] == "gie-nats"
        ]
        (rule,) = [r for r in policy["spec"]["ingress"] if {"port": 4222} in r.get("ports", [])]
        peers: list[dict[str, Any]] = rule["from"]
        return peers

    def reader_admitted(rendered: tuple[Obj, ...]) -> bool:
        return any(
            "podSelector" in peer and selects(peer["podSelector"], {"app": "reader"})
            for peer in client_peers(rendered)
        )

    assert not reader_admitted(default)
    assert reader_admitted(opened)
    assert admitted(opened, "ingest", "nats", 4222)
