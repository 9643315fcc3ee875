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
