"""kubectl 1.34 against the stand-in: apply, get (tables, yaml, jsonpath), label, annotate,
patch, delete --wait, get --watch, and validation errors as kubectl prints them."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from tests.kube_api.kubectl import Kubectl
from tests.kube_api.manifests import OBJECTIVE_CRD, POOL_CRD, as_yaml, objective, pod, pool


def _table(output: str) -> list[list[str]]:
    """Rows of kubectl's table output, cells split on runs of two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]


@pytest.fixture
def ns(kubectl: Kubectl, request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    kubectl.run("create", "namespace", name)
    kubectl.run("apply", "-f", "-", stdin=POOL_CRD + "---\n" + OBJECTIVE_CRD)
    return name


def test_apply_creates_then_leaves_unchanged_then_configures(kubectl: Kubectl, ns: str) -> None:
    manifests = as_yaml(
        pool("pool"), pod("vllm-0"), pod("vllm-1"), objective("chat", priority=1, pool_name="pool")
    )
    created = kubectl.run("apply", "-n", ns, "-f", "-", stdin=manifests).stdout.splitlines()
    assert created == [
        "inferencepool.inference.networking.k8s.io/pool created",
        "pod/vllm-0 created",
        "pod/vllm-1 created",
        "inferenceobjective.llm-d.ai/chat created",
    ]
    again = kubectl.run("apply", "-n", ns, "-f", "-", stdin=manifests).stdout.splitlines()
    assert all(line.endswith(" unchanged") for line in again)

    changed = pool("pool", port=9000)
    out = kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(changed)).stdout
    assert out.strip() == "inferencepool.inference.networking.k8s.io/pool configured"
    port = kubectl.run(
        "get", "-n", ns, "infpool", "pool", "-o", "jsonpath={.spec.targetPorts[0].number}"
    )
    assert port.stdout == "9000"


def test_get_pods_prints_the_columns_and_values_of_a_real_server(kubectl: Kubectl, ns: str) -> None:
    kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(pod("waiting"), pod("serving")))
    running = {
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.7",
            "podIPs": [{"ip": "10.0.0.7"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "server",
                    "ready": True,
                    "restartCount": 0,
                    "image": "vllm/vllm-openai:v0.11.0",
                    "imageID": "",
                    "started": True,
                    "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}},
                }
            ],
        }
    }
    kubectl.run(
        "patch",
        "-n",
        ns,
        "pod",
        "serving",
        "--subresource=status",
        "--type=merge",
        "-p",
        _json(running),
    )
    rows = _table(kubectl.run("get", "-n", ns, "pods").stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [row[:4] for row in rows[1:]] == [
        ["serving", "1/1", "Running", "0"],
        ["waiting", "0/1", "Pending", "0"],
    ]
    assert all(re.fullmatch(r"\d+s", row[4]) for row in rows[1:])

    wide = _table(kubectl.run("get", "-n", ns, "pods", "-o", "wide").stdout)
    assert wide[0] == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ]
    assert wide[1][5:] == ["10.0.0.7", "<none>", "<none>", "<none>"]


def test_get_custom_resources_prints_the_crd_printer_columns(kubectl: Kubectl, ns: str) -> None:
    kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(pool("pool", port=8200)))
    rows = _table(kubectl.run("get", "-n", ns, "inferencepools").stdout)
    assert rows[0] == ["NAME", "PORT", "AGE"]
    assert rows[1][:2] == ["pool", "8200"]
    wide = _table(kubectl.run("get", "-n", ns, "infpool", "-o", "wide").stdout)
    assert wide[0] == ["NAME", "PORT", "PROTOCOL", "AGE"]
    assert wide[1][:3] == ["pool", "8200", "http"]
    crds = _table(kubectl.run("get", "crd", "inferencepools.inference.networking.k8s.io").stdout)
    assert crds[0] == ["NAME", "CREATED AT"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", crds[1][1])


def test_get_yaml_and_jsonpath_show_the_stored_object(kubectl: Kubectl, ns: str) -> None:
    kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(pool("pool")))
    shown = kubectl.run("get", "-n", ns, "infpool", "pool", "-o", "yaml").stdout
    assert "kubectl.kubernetes.io/last-applied-configuration" in shown
    assert "failureMode: FailClose" in shown  # a schema default
    assert "generation: 1" in shown
    jsonpath = "{.metadata.name}/{.spec.appProtocol}/{.spec.endpointPickerRef.port.number}"
    assert (
        kubectl.run("get", "-n", ns, "infpool", "pool", "-o", f"jsonpath={jsonpath}").stdout
        == "pool/http/9002"
    )


def test_label_annotate_and_each_patch_type(kubectl: Kubectl, ns: str) -> None:
    kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(pod("p"), pool("pool")))
    assert kubectl.run("label", "-n", ns, "pod", "p", "tier=gold").stdout.strip() == "pod/p labeled"
    kubectl.run("annotate", "-n", ns, "infpool", "pool", "owner=team-a")
    strategic = '{"spec":{"containers":[{"name":"server","image":"vllm/vllm-openai:v0.12.0"}]}}'
    kubectl.run("patch", "-n", ns, "pod", "p", "--type=strategic", "-p", strategic)
    kubectl.run(
        "patch",
        "-n",
        ns,
        "infpool",
        "pool",
        "--type=merge",
        "-p",
        '{"spec":{"appProtocol":"kubernetes.io/h2c"}}',
    )
    json_patch = '[{"op":"add","path":"/spec/targetPorts/-","value":{"number":8001}}]'
    kubectl.run("patch", "-n", ns, "infpool", "pool", "--type=json", "-p", json_patch)

    pod_view = (
        "{.metadata.labels.tier} {.spec.containers[0].image}"
        " {.spec.containers[0].terminationMessagePath}"
    )
    assert kubectl.run("get", "-n", ns, "pod", "p", "-o", f"jsonpath={pod_view}").stdout == (
        "gold vllm/vllm-openai:v0.12.0 /dev/termination-log"
    )
    pool_view = "{.metadata.annotations.owner} {.spec.appProtocol} {.spec.targetPorts[*].number}"
    assert kubectl.run(
        "get", "-n", ns, "infpool", "pool", "-o", f"jsonpath={pool_view}"
    ).stdout == ("team-a kubernetes.io/h2c 8000 8001")
    refused = kubectl.run(
        "patch", "-n", ns, "infpool", "pool", "--type=strategic", "-p", "{}", check=False
    )
    assert refused.returncode != 0
    assert "the body of the request was in an unknown format" in refused.stderr


def test_delete_wait_returns_once_a_graceful_delete_completes(kubectl: Kubectl, ns: str) -> None:
    kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(pod("bound", node="node-1")))
    started = time.monotonic()
    out = kubectl.run("delete", "-n", ns, "pod", "bound", "--wait").stdout
    assert out.strip() == f'pod "bound" deleted from {ns} namespace'
    assert time.monotonic() - started >= 0.9  # the 2 s grace period, to the second
    gone = kubectl.run("get", "-n", ns, "pod", "bound", check=False)
    assert gone.returncode == 1
    assert gone.stderr.strip() == 'Error from server (NotFound): pods "bound" not found'


async def test_get_watch_prints_each_change(kubectl: Kubectl, ns: str) -> None:
    kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(pod("watched")))
    process = await kubectl.start("get", "-n", ns, "pods", "--watch", "--output-watch-events")
    assert process.stdout is not None
    try:
        lines = [await asyncio.wait_for(process.stdout.readline(), 15) for _ in range(2)]
        await asyncio.to_thread(kubectl.run, "label", "-n", ns, "pod", "watched", "step=1")
        lines.append(await asyncio.wait_for(process.stdout.readline(), 15))
        await asyncio.to_thread(kubectl.run, "delete", "-n", ns, "pod", "watched", "--wait=false")
        lines.append(await asyncio.wait_for(process.stdout.readline(), 15))
    finally:
        process.terminate()
        await process.wait()
    rows = _table(b"".join(lines).decode())
    assert rows[0] == ["EVENT", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [row[:2] for row in rows[1:]] == [
        ["ADDED", "watched"],
        ["MODIFIED", "watched"],
        ["DELETED", "watched"],
    ]


def test_an_invalid_pool_is_rejected_with_each_field_path(kubectl: Kubectl, ns: str) -> None:
    bad = pool("bad")
    bad["spec"]["targetPorts"] = [{"number": 0}]
    bad["spec"]["selector"] = {"matchLabels": {}}
    refused = kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(bad), check=False)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        'The InferencePool "bad" is invalid: ',
        "* spec.selector.matchLabels: Invalid value: 0: "
        "spec.selector.matchLabels in body should have at least 1 properties",
        "* spec.targetPorts[0].number: Invalid value: 0: "
        "spec.targetPorts[0].number in body should be greater than or equal to 1",
    ]


def test_the_crd_validation_rules_are_enforced(kubectl: Kubectl, ns: str) -> None:
    twice = pool("twice")
    twice["spec"]["targetPorts"] = [{"number": 8000}, {"number": 8000}]
    portless = pool("portless")
    del portless["spec"]["endpointPickerRef"]["port"]
    refused = kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(twice, portless), check=False)
    assert refused.returncode == 1
    assert (
        '"twice" is invalid: spec.targetPorts: Invalid value: "array": port number must be unique'
    ) in refused.stderr
    assert (
        '"portless" is invalid: spec.endpointPickerRef: Invalid value: "object": '
        "port is required when kind is Service (the default)"
    ) in refused.stderr


def test_unknown_fields_are_refused_as_kubectl_validates_strictly(
    kubectl: Kubectl, ns: str
) -> None:
    typo = pool("typo")
    typo["spec"]["targetPort"] = 8000
    refused = kubectl.run("apply", "-n", ns, "-f", "-", stdin=as_yaml(typo), check=False)
    assert refused.returncode == 1
    assert 'strict decoding error: unknown field "spec.targetPort"' in refused.stderr


def test_discovery_lists_the_served_resources_with_short_names(kubectl: Kubectl, ns: str) -> None:
    rows = _table(kubectl.run("api-resources").stdout)
    assert rows[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["pods"] == ["pods", "po", "v1", "true", "Pod"]
    assert by_name["inferencepools"] == [
        "inferencepools",
        "infpool",
        "inference.networking.k8s.io/v1",
        "true",
        "InferencePool",
    ]
    assert by_name["leases"] == ["leases", "coordination.k8s.io/v1", "true", "Lease"]
    established = kubectl.run(
        "wait", "--for=condition=Established", "crd/inferencepools.inference.networking.k8s.io"
    )
    assert "condition met" in established.stdout


def test_explain_reads_the_schemas_of_custom_and_built_in_kinds(kubectl: Kubectl, ns: str) -> None:
    explained = kubectl.run("explain", "inferencepool.spec.targetPorts").stdout
    assert "KIND:       InferencePool" in explained
    assert "number\t<integer> -required-" in explained
    ports = kubectl.run("explain", "pod.spec.containers.ports").stdout
    assert "FIELD: ports <[]ContainerPort>" in ports
    assert "containerPort\t<integer> -required-" in ports
    assert "Number of port to expose on the pod's IP address." in ports


def _json(value: object) -> str:
    import json  # noqa: PLC0415

    return json.dumps(value)


def test_kubectl_create_generators_send_protobuf_the_server_reads(
    kubectl: Kubectl, ns: str
) -> None:
    created = kubectl.run("create", "configmap", "settings", "-n", ns, "--from-literal=mode=fast")
    assert created.stdout.strip() == "configmap/settings created"
    shown = kubectl.run("get", "-n", ns, "configmap", "settings", "-o", "jsonpath={.data.mode}")
    assert shown.stdout == "fast"
    rows = _table(kubectl.run("get", "-n", ns, "configmaps").stdout)
    assert rows[0] == ["NAME", "DATA", "AGE"]
    assert rows[1][:2] == ["settings", "1"]
