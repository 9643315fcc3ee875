"""Gateway mode and monitoring: the HTTPRoute sends the named Gateway's requests to the
InferencePool, and the ServiceMonitor scrapes every gie service's admin port."""

from __future__ import annotations

from tests.support.chart import CHART, SERVICE_MONITOR_API, named, of_kind, render, run_helm

GATEWAY = CHART / "ci" / "gateway.yaml"


def test_the_route_sends_the_gateway_requests_to_the_pool() -> None:
    rendered = render(GATEWAY)
    route = named(rendered, "HTTPRoute", "gie-route")["spec"]
    assert route["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "inference-gateway",
            "namespace": "gateways",
        }
    ]
    pool = of_kind(rendered, "InferencePool")[0]
    [backend] = route["rules"][0]["backendRefs"]
    assert backend["kind"] == "InferencePool"
    assert backend["group"] == pool["apiVersion"].split("/")[0]
    assert backend["name"] == pool["metadata"]["name"]


def test_a_route_needs_a_gateway_name() -> None:
    result = run_helm("template", "gie", CHART, "--set", "gateway.httpRoute.enabled=true")
    assert result.returncode != 0
    assert "gateway.name is required" in result.stderr


def test_the_service_monitor_scrapes_every_service_admin_port() -> None:
    rendered = render(CHART / "ci" / "default.yaml", api_versions=(SERVICE_MONITOR_API,))
    monitor = named(rendered, "ServiceMonitor", "gie-metrics")["spec"]
    selector = monitor["selector"]["matchLabels"]
    [endpoint] = monitor["endpoints"]
    scraped = {
        service["metadata"]["labels"]["app.kubernetes.io/component"]
        for service in of_kind(rendered, "Service")
        if selector.items() <= service["metadata"]["labels"].items()
        and endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    }
    assert scraped == {"picker", "flow-controller", "metrics-collector", "ingest"}
    assert endpoint["path"] == "/metrics"


def test_every_picker_worker_is_scraped() -> None:
    rendered = render(CHART / "ci" / "ha.yaml", api_versions=(SERVICE_MONITOR_API,))
    monitored = {e["port"] for e in named(rendered, "ServiceMonitor", "gie-metrics")["spec"][
        "endpoints"]}  # fmt: skip
    service = named(rendered, "Service", "gie-picker")
    container = named(rendered, "Deployment", "gie-picker")["spec"]["template"]["spec"][
        "containers"][0]  # fmt: skip
    env = {item["name"]: item.get("value") for item in container["env"]}
    container_ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    scraped = sorted(
        container_ports[port["targetPort"]]
        for port in service["spec"]["ports"]
        if port["name"] in monitored
    )
    admin, workers = int(env["GIE_ADMIN_PORT"]), int(env["GIE_WORKERS"])
    assert workers > 1
    assert scraped == [admin + i for i in range(workers)]  # worker i serves admin + i
