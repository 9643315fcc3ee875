"""What every workload the chart renders must have before an operator runs it.

Probes, resources and a restricted securityContext (non-root, read-only root with a
writable /tmp, no capabilities, RuntimeDefault seccomp), spread and protected by a
PodDisruptionBudget whose selector really matches the pods.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from tests.support.chart import CHART, NAMESPACE, Obj, named, of_kind, run_helm
from tests.support.k8s_tools import ROOT

SERVICES = {"picker", "flow-controller", "metrics-collector", "ingest"}
DATASTORES = {"nats", "valkey"}


def component(obj: Obj) -> str:
    label: str = obj["metadata"]["labels"]["app.kubernetes.io/component"]
    return label


def deployments(rendered: tuple[Obj, ...]) -> list[Obj]:
    """The gie services."""
    return [d for d in of_kind(rendered, "Deployment") if component(d) in SERVICES]


def workloads(rendered: tuple[Obj, ...]) -> list[Obj]:
    """Everything that runs: the gie services, the standalone Envoy, the datastores."""
    return [*of_kind(rendered, "Deployment"), *of_kind(rendered, "StatefulSet")]


def test_every_service_is_deployed(rendered: tuple[Obj, ...]) -> None:
    assert {component(d) for d in deployments(rendered)} == SERVICES
    assert {component(d) for d in of_kind(rendered, "Deployment")} <= SERVICES | {"envoy"}
    assert {component(s) for s in of_kind(rendered, "StatefulSet")} <= DATASTORES


def test_every_container_has_probes_and_resources(rendered: tuple[Obj, ...]) -> None:
    for deployment in workloads(rendered):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            where = f"{deployment['metadata']['name']}/{container['name']}"
            assert "livenessProbe" in container, where
            assert "readinessProbe" in container, where
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), where
            assert "memory" in resources["limits"], where


def test_every_pod_is_restricted(rendered: tuple[Obj, ...]) -> None:
    for deployment in workloads(rendered):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}


def test_the_read_only_root_gets_a_writable_tmp(rendered: tuple[Obj, ...]) -> None:
    for deployment in of_kind(rendered, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for container in pod["containers"]:
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert len(tmp) == 1 and tmp[0]["name"] in empty_dirs


def test_every_command_is_a_console_script_of_the_image(rendered: tuple[Obj, ...]) -> None:
    scripts = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])
    for deployment in deployments(rendered):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert container["command"][0] in scripts, container["command"]


def test_pod_disruption_budgets_select_their_pods(rendered: tuple[Obj, ...]) -> None:
    budgets = of_kind(rendered, "PodDisruptionBudget")
    pods = {component(w): w["spec"]["template"]["metadata"]["labels"] for w in workloads(rendered)}
    covered = set()
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        matched = [name for name, labels in pods.items() if selector.items() <= labels.items()]
        assert len(matched) == 1, budget["metadata"]["name"]
        covered |= set(matched)
    replicated = {component(w) for w in workloads(rendered) if w["spec"]["replicas"] > 1}
    assert replicated <= covered
    assert covered >= SERVICES


def test_pods_are_spread_over_their_own_replicas(rendered: tuple[Obj, ...]) -> None:
    for deployment in workloads(rendered):
        pod = deployment["spec"]["template"]
        for constraint in pod["spec"].get("topologySpreadConstraints", []):
            selector = constraint["labelSelector"]["matchLabels"]
            assert selector == deployment["spec"]["selector"]["matchLabels"]
            assert selector.items() <= pod["metadata"]["labels"].items()


def test_objects_are_named_after_release_and_component(rendered: tuple[Obj, ...]) -> None:
    for deployment in workloads(rendered):
        labels = deployment["metadata"]["labels"]
        assert deployment["metadata"]["name"] == f"gie-{component(deployment)}"
        assert labels["app.kubernetes.io/instance"] == "gie"
        assert labels["app.kubernetes.io/name"] == "gie"


def rendered_as(release: str, *values: str, sets: tuple[str, ...] = ()) -> tuple[Obj, ...]:
    args: list[str | Path] = ["template", release, CHART, "-n", NAMESPACE]
    for name in values:
        args += ["-f", CHART / "ci" / name]
    for pair in sets:
        args += ["--set", pair]
    result = run_helm(*args)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def headless_names(rendered: tuple[Obj, ...]) -> set[str]:
    """Every Service name, after checking that each fits a DNS label (63 characters)."""
    services = {service["metadata"]["name"] for service in of_kind(rendered, "Service")}
    assert all(len(name) <= 63 for name in services), sorted(services, key=len)[-3:]
    return {name for name in services if name.endswith("-headless")}


def test_helms_longest_release_name_gives_services_that_envoy_finds() -> None:
    """Helm accepts release names of up to 53 characters: the picker's headless Service
    name is cut to fit, and Envoy's picker hosts name that Service."""
    rendered = rendered_as(
        "r" * 53, "external-datastores.yaml", sets=("standalone.enabled=true", "picker.workers=2")
    )
    (picker,) = headless_names(rendered)
    assert picker.endswith("-picker-headless")
    envoy = yaml.safe_load(named(rendered, "ConfigMap", f"{'r' * 53}-envoy")["data"]["envoy.yaml"])
    hosts = {
        endpoint["endpoint"]["address"]["socket_address"]["address"]
        for cluster in envoy["static_resources"]["clusters"]
        if cluster["name"] == "gie_picker"
        for group in cluster["load_assignment"]["endpoints"]
        for endpoint in group["lb_endpoints"]
    }
    assert hosts == {f"{picker}.{NAMESPACE}.svc"}


def test_the_longest_release_name_the_datastores_allow_names_them_consistently() -> None:
    rendered = rendered_as("r" * 45, "standalone.yaml", "ha.yaml")
    headless = headless_names(rendered)
    assert len(headless) == 3  # the picker's, the NATS cluster's and the Valkey nodes'
    for statefulset in of_kind(rendered, "StatefulSet"):
        assert len(statefulset["metadata"]["name"]) <= 52
        assert statefulset["spec"]["serviceName"] in headless
    routes = next(cm for cm in of_kind(rendered, "ConfigMap") if "nats.conf" in cm["data"])
    found = re.findall(r"nats://[^.]+\.([^.]+)\.", routes["data"]["nats.conf"])
    assert found and set(found) <= headless


def test_a_release_name_too_long_for_the_datastores_is_refused_naming_the_limit() -> None:
    result = run_helm("template", "r" * 46, CHART, "-n", NAMESPACE)
    assert result.returncode != 0
    assert "use a release name of at most 45 characters" in result.stderr, result.stderr
