"""What ingest discovers, as each values file of helm/gie/ci/ says (ingest.discovery).

``kubernetes``: the InferencePool the chart renders, by its name and API group, with a
Role to watch it and its Pods; ``selector``: the Pods the standalone Envoy routes to
(the pool's labels and ports) and nothing but Pods; ``file``: the rendered pool file,
mounted where GIE_POOL_FILE points. Every mode gets only the variables it reads.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.support.chart import CHART, NAMESPACE, Obj, env_of, named, of_kind, render, run_helm

MODE_VARIABLES = {
    "kubernetes": {"GIE_POOL_GROUP"},
    "selector": {"GIE_ENDPOINT_SELECTOR", "GIE_TARGET_PORTS"},
    "file": {"GIE_POOL_FILE", "GIE_POOL_FILE_POLL_S"},
}


def ingest(rendered: tuple[Obj, ...]) -> tuple[Obj, Obj]:
    pod: Obj = named(rendered, "Deployment", "gie-ingest")["spec"]["template"]["spec"]
    return pod, pod["containers"][0]


def role_rules(rendered: tuple[Obj, ...]) -> dict[str, set[str]]:
    """API group -> resources ingest may read."""
    rules: dict[str, set[str]] = {}
    for rule in named(rendered, "Role", "gie-ingest")["rules"]:
        for group in rule["apiGroups"]:
            rules.setdefault(group, set()).update(rule["resources"])
    return rules


def labels(selector: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in selector.split(","))


def test_ingest_is_given_exactly_what_its_mode_reads(rendered: tuple[Obj, ...]) -> None:
    _, container = ingest(rendered)
    env = env_of(container)
    mode = env["GIE_DISCOVERY"]
    given = {name for name in env if name in set().union(*MODE_VARIABLES.values())}
    assert given == MODE_VARIABLES[mode]
    assert "GIE_KUBECONFIG" not in env  # in a pod: the in-cluster configuration


def test_kubernetes_mode_watches_the_rendered_pool(values_file: Path) -> None:
    rendered = render(values_file, "ingest.discovery.mode=kubernetes")
    env = env_of(ingest(rendered)[1])
    [pool] = of_kind(rendered, "InferencePool")
    assert env["GIE_POOL"] == f"{NAMESPACE}/{pool['metadata']['name']}"
    group = pool["apiVersion"].split("/")[0]
    assert env["GIE_POOL_GROUP"] == group
    rules = role_rules(rendered)
    assert "pods" in rules[""] and "inferencepools" in rules[group]
    assert of_kind(rendered, "ConfigMap") and not [
        cm for cm in of_kind(rendered, "ConfigMap") if cm["metadata"]["name"] == "gie-ingest-pool"
    ]


def test_the_chart_default_is_kubernetes_mode() -> None:
    env = env_of(ingest(render(CHART / "ci" / "default.yaml"))[1])
    assert env["GIE_DISCOVERY"] == "kubernetes"


def test_standalone_mode_watches_the_pods_envoy_routes_to() -> None:
    rendered = render(CHART / "ci" / "standalone.yaml")
    env = env_of(ingest(rendered)[1])
    assert env["GIE_DISCOVERY"] == "selector"
    pool_service = named(rendered, "Service", "gie-pool")  # Envoy's model servers
    assert labels(env["GIE_ENDPOINT_SELECTOR"]) == pool_service["spec"]["selector"]
    ports = [int(port) for port in env["GIE_TARGET_PORTS"].split(",")]
    assert ports == [port["port"] for port in pool_service["spec"]["ports"]]
    assert role_rules(rendered) == {"": {"pods"}}  # no InferencePool to read


def test_a_selector_is_written_in_label_selector_syntax() -> None:
    rendered = render(
        CHART / "ci" / "default.yaml",
        "ingest.discovery.mode=selector",
        "ingest.discovery.selector.app=vllm",
        "ingest.discovery.selector.example\\.com/tier=gold",
        "ingest.discovery.targetPorts={8000,8002}",
    )
    env = env_of(ingest(rendered)[1])
    assert env["GIE_ENDPOINT_SELECTOR"] == "app=vllm,example.com/tier=gold"
    assert env["GIE_TARGET_PORTS"] == "8000,8002"


def test_file_mode_mounts_the_rendered_pool_file() -> None:
    rendered = render(CHART / "ci" / "external-datastores.yaml")
    pod, container = ingest(rendered)
    path = PurePosixPath(env_of(container)["GIE_POOL_FILE"])
    [mount] = [m for m in container["volumeMounts"] if PurePosixPath(m["mountPath"]) == path.parent]
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    data = named(rendered, "ConfigMap", volume["configMap"]["name"])["data"][path.name]
    pool_file = yaml.safe_load(data)
    assert pool_file["pool"] == f"{NAMESPACE}/gie"
    assert pool_file["endpoints"][0] == "10.0.0.11:8000"


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        pytest.param(
            ["ingest.discovery.targetPorts={8000}"],
            "ingest.discovery.targetPorts [8000] must be the numbers of inferencePool.targetPorts",
            id="ports",
        ),
        pytest.param(
            ["ingest.discovery.selector.app=other"],
            'ingest.discovery.selector ({"app":"other"}) must be inferencePool.selector',
            id="labels",
        ),
    ],
)
def test_standalone_ingest_must_watch_the_pool_envoy_routes_to(
    sets: list[str], message: str
) -> None:
    args = [arg for pair in sets for arg in ("--set", pair)]
    result = run_helm("template", "gie", CHART, "-f", CHART / "ci" / "standalone.yaml", *args)
    assert result.returncode != 0
    assert message in result.stderr


def test_selector_mode_needs_labels_and_ports() -> None:
    result = run_helm("template", "gie", CHART, "--set", "ingest.discovery.mode=selector")
    assert result.returncode != 0
    assert "at '/discovery/selector': minProperties: got 0, want 1" in result.stderr
    assert "at '/discovery/targetPorts': minItems: got 0, want 1" in result.stderr
