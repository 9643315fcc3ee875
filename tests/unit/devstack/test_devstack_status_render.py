"""What `gie status` shows: the kubeconfig with Kubernetes discovery, Pod-less simulators."""

from __future__ import annotations

from rich.console import Console

from gie_cli.devstack import PartStatus, StackStatus
from gie_cli.render import print_status


def _sim(name: str, endpoint: str, pod: str | None) -> PartStatus:
    return PartStatus(
        name=name,
        kind="sim",
        pid=7,
        alive=True,
        healthy=True,
        addresses={"endpoint": endpoint, "manifest": f"/s/pods/{name}.yaml"},
        health_url=f"http://{endpoint}/health",
        log="/s/logs/sims.log",
        pod=pod,
    )


def _status(kubeconfig: str | None) -> StackStatus:
    return StackStatus(
        gateway="http://127.0.0.1:9000",
        state_dir="/s",
        pool="default/sim-pool",
        created_at="2026-01-01T00:00:00+00:00",
        parts=[
            _sim("sim-0", "127.0.0.2:9100", "default/sim-0"),
            _sim("sim-1", "127.0.0.3:9100", None),
        ],
        discovery="kubernetes" if kubeconfig else "file",
        kubeconfig=kubeconfig,
    )


def _printed(status: StackStatus) -> str:
    console = Console(record=True, width=200, color_system=None)
    print_status(console, status)
    return console.export_text()


def test_json_has_the_kubeconfig_and_each_simulators_pod() -> None:
    report = _status("/s/kubeconfig").to_json()
    assert report["kubeconfig"] == "/s/kubeconfig"
    assert report["discovery"] == "kubernetes"
    assert report["services"]["sim-0"]["pod"] == "default/sim-0"
    assert report["services"]["sim-1"]["pod"] is None


def test_json_kubeconfig_is_null_with_file_discovery() -> None:
    report = _status(None).to_json()
    assert "kubeconfig" in report
    assert report["kubeconfig"] is None


def test_plain_status_prints_the_kubectl_hint_and_how_to_give_a_spare_its_pod() -> None:
    text = _printed(_status("/s/kubeconfig"))
    assert "KUBECONFIG=/s/kubeconfig kubectl get pods" in text
    assert "pod=default/sim-0" in text
    assert "pod=none" in text
    assert (
        "sim-1 at 127.0.0.3:9100 has no Pod; to add it to the pool: "
        "KUBECONFIG=/s/kubeconfig kubectl apply -f /s/pods/sim-1.yaml"
    ) in text
    assert "sim-0 at" not in text


def test_plain_status_with_file_discovery_says_nothing_of_kubernetes() -> None:
    text = _printed(_status(None))
    assert "kubectl" not in text
    assert "pod=" not in text
