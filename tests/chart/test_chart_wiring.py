"""The chart configures each service the way the service reads its configuration.

Every environment variable a container gets is a setting its service declares, and the
service accepts the rendered values; ports the probes, Services and InferencePool use
are the ones the service listens on; the EndpointPickerConfig and the pool file are
mounted where the services look for them; only ingest may read the Kubernetes API
(what ingest discovers: test_chart_ingest_discovery.py).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from pydantic_settings import BaseSettings

from gie_flow_controller.config_file import load_config_file
from gie_flow_controller.settings import FlowControllerSettings
from gie_ingest.settings import IngestSettings
from gie_metrics_collector.pool.config_file import load_saturation_config
from gie_metrics_collector.settings import CollectorSettings
from gie_picker.config import load_config
from gie_picker.settings import PickerSettings
from tests.support.chart import NAMESPACE, Obj, env_of, named, of_kind, render

SETTINGS: dict[str, type[BaseSettings]] = {
    "gie-picker": PickerSettings,
    "gie-flow-controller": FlowControllerSettings,
    "gie-metrics-collector": CollectorSettings,
    "gie-ingest": IngestSettings,
}


def containers(rendered: tuple[Obj, ...]) -> list[Obj]:
    """The containers of the gie services (not Envoy's, nor the datastores')."""
    return [
        container
        for deployment in of_kind(rendered, "Deployment")
        for container in deployment["spec"]["template"]["spec"]["containers"]
        if container["command"][0] in SETTINGS
    ]


def settings_of(container: Obj, monkeypatch: pytest.MonkeyPatch) -> BaseSettings:
    """The service's settings as it would read them from this container's environment."""
    with monkeypatch.context() as patch:
        for item in container["env"]:
            patch.setenv(item["name"], item.get("value", "from-the-downward-api"))
        return SETTINGS[container["command"][0]]()


def mounted_file(pod: Obj, container: Obj, path: str) -> tuple[str, str]:
    """(ConfigMap name, key) of the file mounted at ``path`` in the container."""
    target = PurePosixPath(path)
    for mount in container["volumeMounts"]:
        if target.parent == PurePosixPath(mount["mountPath"]):
            volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
            return volume["configMap"]["name"], target.name
    raise AssertionError(f"nothing mounted at {path}")


def test_every_variable_is_one_the_service_reads(rendered: tuple[Obj, ...]) -> None:
    for container in containers(rendered):
        settings = SETTINGS[container["command"][0]]
        known = {f"GIE_{name.upper()}" for name in settings.model_fields}
        given = {item["name"] for item in container["env"]}
        assert given <= known, f"{container['name']}: {sorted(given - known)}"


def test_every_service_accepts_its_rendered_settings(
    rendered: tuple[Obj, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    for container in containers(rendered):
        settings = settings_of(container, monkeypatch)
        assert settings.pool == f"{NAMESPACE}/gie"  # type: ignore[attr-defined]
        assert settings.admin_host == "0.0.0.0"  # type: ignore[attr-defined]


def test_ports_are_the_ones_the_services_listen_on(
    rendered: tuple[Obj, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    for container in containers(rendered):
        settings = settings_of(container, monkeypatch)
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports["admin"] == settings.admin_port  # type: ignore[attr-defined]
        if "grpc" in ports:
            assert ports["grpc"] == settings.grpc_port  # type: ignore[attr-defined]
            assert settings.grpc_host == "0.0.0.0"  # type: ignore[attr-defined]
        for probe in ("livenessProbe", "readinessProbe"):
            action = container[probe].get("httpGet") or container[probe]["grpc"]
            assert action["port"] in {"admin", ports["admin"], ports.get("grpc")}


def test_service_ports_reach_named_container_ports(rendered: tuple[Obj, ...]) -> None:
    for service in of_kind(rendered, "Service"):
        if service["metadata"]["name"] == "gie-pool":
            continue  # selects the model servers, which the chart does not run
        component = service["spec"]["selector"]["app.kubernetes.io/component"]
        kind = "StatefulSet" if component in {"nats", "valkey"} else "Deployment"
        pod = named(rendered, kind, f"gie-{component}")["spec"]["template"]
        names = {p["name"] for c in pod["spec"]["containers"] for p in c["ports"]}
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= names


def test_the_pool_points_at_the_picker_grpc_port(rendered: tuple[Obj, ...]) -> None:
    pool = of_kind(rendered, "InferencePool")[0]
    ref = pool["spec"]["endpointPickerRef"]
    service = named(rendered, "Service", ref["name"])
    grpc = next(port for port in service["spec"]["ports"] if port["name"] == "grpc")
    assert ref["port"]["number"] == grpc["port"]
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "picker"


def test_the_picker_reaches_the_flow_controller(rendered: tuple[Obj, ...]) -> None:
    picker = named(rendered, "Deployment", "gie-picker")["spec"]["template"]["spec"]
    target = env_of(picker["containers"][0])["GIE_FLOW_CONTROL_TARGETS"]
    service = named(rendered, "Service", "gie-flow-controller")
    grpc = next(port for port in service["spec"]["ports"] if port["name"] == "grpc")
    assert target == f"dns:///gie-flow-controller.{NAMESPACE}.svc:{grpc['port']}"
    assert service["spec"]["clusterIP"] == "None"  # dns:/// resolves every replica


def test_services_read_one_valid_endpoint_picker_config(
    rendered: tuple[Obj, ...], tmp_path: Path
) -> None:
    readers = []
    for deployment in of_kind(rendered, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        path = env_of(container).get("GIE_CONFIG_FILE") if "env" in container else None
        if path:
            readers.append(mounted_file(pod, container, path))
    assert len(readers) == 3 and len(set(readers)) == 1
    name, key = readers[0]
    text = named(rendered, "ConfigMap", name)["data"][key]
    (tmp_path / key).write_text(text)
    # Each service's own loader; each raises on a configuration it would not start with.
    load_config(tmp_path / key)
    load_config_file(tmp_path / key)
    load_saturation_config(tmp_path / key)


def test_only_ingest_may_read_the_kubernetes_api(rendered: tuple[Obj, ...]) -> None:
    assert of_kind(rendered, "ClusterRole") == []
    assert of_kind(rendered, "ClusterRoleBinding") == []
    roles = of_kind(rendered, "Role")
    assert [role["metadata"]["name"] for role in roles] == ["gie-ingest"]
    for rule in roles[0]["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}
        assert "*" not in rule["resources"] and "secrets" not in rule["resources"]
    binding = named(rendered, "RoleBinding", "gie-ingest")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "gie-ingest", "namespace": NAMESPACE}
    ]
    for account in of_kind(rendered, "ServiceAccount"):
        expected = account["metadata"]["name"] == "gie-ingest"
        assert account["automountServiceAccountToken"] is expected


def test_picker_workers_each_get_a_port_the_service_exposes(
    values_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = render(values_file, "picker.workers=3")
    container = named(rendered, "Deployment", "gie-picker")["spec"]["template"]["spec"][
        "containers"
    ][0]
    settings = settings_of(container, monkeypatch)
    worker_ports = [p["containerPort"] for p in container["ports"] if p["name"].startswith("w")]
    base = settings.worker_port_base  # type: ignore[attr-defined]
    assert settings.workers == 3  # type: ignore[attr-defined]
    assert worker_ports == [base, base + 1, base + 2]
    service = named(rendered, "Service", "gie-picker")
    assert {p["port"] for p in service["spec"]["ports"]} >= set(worker_ports)
