"""The picker pod's listeners: ports.grpc, each worker's admin port (ports.admin + i) and,
with several workers, each worker's own ext_proc port (ports.workerBase + i). Values
that would give two listeners one port are refused at render time, naming both."""

from __future__ import annotations

import pytest

from tests.support.chart import CHART, named, render, run_helm

DEFAULT = CHART / "ci" / "default.yaml"


@pytest.mark.parametrize("workers", [1, 4, 10])
def test_every_listener_gets_its_own_port(workers: int) -> None:
    rendered = render(DEFAULT, f"picker.workers={workers}")
    deployment = named(rendered, "Deployment", "gie-picker")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    ports = [port["containerPort"] for port in container["ports"]]
    assert len(ports) == len(set(ports)) == 2 * workers + (1 if workers > 1 else 0)
    service = named(rendered, "Service", "gie-picker")
    numbers = [port["port"] for port in service["spec"]["ports"]]
    assert len(numbers) == len(set(numbers)) == len(ports)


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        pytest.param(
            ("picker.workers=12",),
            "port 9100 is both worker 0's ext_proc port (ports.workerBase + 0) "
            "and worker 10's admin port (ports.admin + 10)",
            id="admin-range-reaches-worker-base",
        ),
        pytest.param(
            ("picker.workers=4", "picker.ports.admin=9000"),
            "port 9002 is both ports.grpc and worker 2's admin port (ports.admin + 2)",
            id="admin-range-reaches-grpc",
        ),
        pytest.param(
            ("picker.ports.admin=9002",), "port 9002 is both ports.grpc and ports.admin", id="same"
        ),
        pytest.param(
            ("picker.workers=4", "picker.ports.workerBase=65534"),
            "picker port 65536 (worker 2's ext_proc port",
            id="above-65535",
        ),
    ],
)
def test_overlapping_ports_are_refused_naming_both(sets: tuple[str, ...], message: str) -> None:
    args = ["template", "gie", CHART, "-f", DEFAULT]
    for pair in sets:
        args += ["--set", pair]
    result = run_helm(*args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
