"""The bundled Valkey replicated with Sentinels (global.valkey.sentinel.enabled).

The flow-controller is given every node's Sentinel by a name the headless Service
resolves and the port the Sentinel listens on; the Sentinels monitor node 0 on the port
Valkey listens on, with a quorum the nodes can reach; the password reaches Valkey, the
Sentinels and the flow-controller from one Secret and never appears in the manifests.
Running the rendered configuration: tests/e2e/test_chart_valkey_sentinel.py.
"""

from __future__ import annotations

import re

import pytest

from gie_flow_controller.settings import parse_sentinels
from tests.support.chart import CHART, NAMESPACE, Obj, env_of, named, of_kind, render, run_helm

CI = CHART / "ci"
HA = CI / "ha.yaml"


def containers(statefulset: Obj) -> dict[str, Obj]:
    return {c["name"]: c for c in statefulset["spec"]["template"]["spec"]["containers"]}


def port_of(container: Obj, name: str) -> int:
    port: int = next(p["containerPort"] for p in container["ports"] if p["name"] == name)
    return port


def flow_controller(rendered: tuple[Obj, ...]) -> Obj:
    container: Obj = named(rendered, "Deployment", "gie-flow-controller")["spec"]["template"][
        "spec"
    ]["containers"][0]
    return container


def secret_refs(container: Obj) -> dict[str, dict[str, str]]:
    return {
        item["name"]: item["valueFrom"]["secretKeyRef"]
        for item in container.get("env", [])
        if "secretKeyRef" in item.get("valueFrom", {})
    }


def sentinel_conf(rendered: tuple[Obj, ...]) -> str:
    text: str = named(rendered, "ConfigMap", "gie-valkey-sentinel")["data"]["sentinel.conf"]
    return text


def test_the_flow_controller_is_given_every_sentinel_by_a_resolvable_name() -> None:
    rendered = render(HA)
    statefulset = named(rendered, "StatefulSet", "gie-valkey")
    nodes = statefulset["spec"]["replicas"]
    assert nodes == 3
    headless = named(rendered, "Service", statefulset["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True  # names exist before ready
    sentinel_port = port_of(containers(statefulset)["sentinel"], "sentinel")
    assert {p["port"] for p in headless["spec"]["ports"] if p["name"] == "sentinel"} == {
        sentinel_port
    }
    env = env_of(flow_controller(rendered))
    assert "GIE_REDIS_URL" not in env
    pod_names = [f"gie-valkey-{i}" for i in range(nodes)]  # a StatefulSet's pods
    domain = f"{headless['metadata']['name']}.{NAMESPACE}.svc"
    assert parse_sentinels(env["GIE_REDIS_SENTINELS"]) == [
        (f"{pod}.{domain}", sentinel_port) for pod in pod_names
    ]
    assert f"port {sentinel_port}\n" in sentinel_conf(rendered)


def test_the_sentinels_monitor_node_0_with_a_reachable_quorum() -> None:
    rendered = render(HA)
    statefulset = named(rendered, "StatefulSet", "gie-valkey")
    redis_port = port_of(containers(statefulset)["valkey"], "redis")
    master = env_of(flow_controller(rendered))["GIE_REDIS_MASTER_NAME"]
    monitor = re.search(
        rf"^sentinel monitor {master} (\S+) (\d+) (\d+)$", sentinel_conf(rendered), re.M
    )
    assert monitor, sentinel_conf(rendered)
    host, port, quorum = monitor.groups()
    assert host == f"gie-valkey-0.gie-valkey-headless.{NAMESPACE}.svc"
    assert int(port) == redis_port
    assert 1 <= int(quorum) <= statefulset["spec"]["replicas"]
    valkey_env = env_of(containers(statefulset)["valkey"])
    assert valkey_env["VALKEY_PRIMARY"] == host
    assert "--port" in (args := containers(statefulset)["valkey"]["args"])
    assert args[args.index("--port") + 1] == str(redis_port)


def test_the_password_comes_from_one_secret_to_every_party() -> None:
    rendered = render(HA)
    statefulset = named(rendered, "StatefulSet", "gie-valkey")
    expected = {"name": "gie-valkey-password", "key": "password"}
    assert secret_refs(flow_controller(rendered)) == {"GIE_REDIS_PASSWORD": expected}
    for container in containers(statefulset).values():
        assert secret_refs(container) == {"VALKEY_PASSWORD": expected}
    scripts = named(rendered, "ConfigMap", "gie-valkey-sentinel")["data"]
    assert "requirepass" in scripts["valkey.sh"] and "masterauth" in scripts["valkey.sh"]
    assert "sentinel auth-pass" in scripts["sentinel.sh"]


def test_one_node_keeps_its_url_and_gets_the_password_too() -> None:
    rendered = render(CI / "default.yaml", "global.valkey.passwordSecret.name=pw")
    statefulset = named(rendered, "StatefulSet", "gie-valkey")
    assert statefulset["spec"]["replicas"] == 1
    assert list(containers(statefulset)) == ["valkey"]
    pdbs = [pdb["metadata"]["name"] for pdb in of_kind(rendered, "PodDisruptionBudget")]
    assert "gie-valkey" not in pdbs and "gie-picker" in pdbs  # one node: nothing to keep up
    env = env_of(flow_controller(rendered))
    assert env["GIE_REDIS_URL"] == f"redis://gie-valkey.{NAMESPACE}.svc:6379/0"
    assert secret_refs(flow_controller(rendered)) == {
        "GIE_REDIS_PASSWORD": {"name": "pw", "key": "password"}
    }
    args = containers(statefulset)["valkey"]["args"]
    assert args[args.index("--requirepass") + 1] == "$(VALKEY_PASSWORD)"


def test_replicated_nodes_keep_a_majority_through_disruptions() -> None:
    rendered = render(HA)
    pdb = named(rendered, "PodDisruptionBudget", "gie-valkey")
    assert pdb["spec"]["maxUnavailable"] == 1
    policy = named(rendered, "NetworkPolicy", "gie-valkey")
    [rule] = policy["spec"]["ingress"]
    sources = [
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in rule["from"]
    ]
    assert sources == ["flow-controller", "valkey"]
    assert [p["port"] for p in rule["ports"]] == [6379, 26379]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        pytest.param(
            ["valkey.sentinel.quorum=4"], "exceeds global.valkey.sentinel.nodes", id="quorum"
        ),
        pytest.param(
            ["global.valkey.sentinel.nodes=2"],
            "at '/global/valkey/sentinel/nodes': minimum: got 2, want 3",
            id="two-nodes",
        ),
    ],
)
def test_a_sentinel_setup_that_cannot_fail_over_is_refused(sets: list[str], message: str) -> None:
    result = run_helm(
        "template", "gie", CHART, "-f", HA, *(arg for pair in sets for arg in ("--set", pair))
    )
    assert result.returncode != 0
    assert message in result.stderr
