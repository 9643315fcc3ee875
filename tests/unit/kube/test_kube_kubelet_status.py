"""The status the kubelet writes for a Pod naming a simulator (pure, no server)."""

from __future__ import annotations

from typing import Any

from gie_cli.kube.kubelet import _status, simulator_of


def pod(address: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "annotations": {"gie.dev/simulator": address}},
        "spec": {"containers": [{"name": "sim", "image": "gie-sim"}]},
    }


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["lastTransitionTime"]) for c in status["conditions"]}


def test_a_healthy_simulator_makes_the_pod_running_and_ready() -> None:
    status = _status(pod("127.0.0.1:8001"), {"phase": "Pending"}, True, "T1")
    assert status["phase"] == "Running"
    assert status["podIP"] == status["hostIP"] == "127.0.0.1"
    assert status["podIPs"] == [{"ip": "127.0.0.1"}]
    assert status["startTime"] == "T1"
    assert status["containerStatuses"][0]["ready"] is True
    assert conditions(status) == {
        "PodScheduled": ("True", "T1"),
        "Initialized": ("True", "T1"),
        "ContainersReady": ("True", "T1"),
        "Ready": ("True", "T1"),
    }


def test_only_changed_conditions_get_a_new_transition_time() -> None:
    first = _status(pod("127.0.0.1:8001"), {}, True, "T1")
    assert _status(pod("127.0.0.1:8001"), first, True, "T2") == first
    second = _status(pod("127.0.0.1:8001"), first, False, "T2")
    assert second["startTime"] == "T1"
    assert conditions(second) == {
        "PodScheduled": ("True", "T1"),
        "Initialized": ("True", "T1"),
        "ContainersReady": ("False", "T2"),
        "Ready": ("False", "T2"),
    }
    assert second["containerStatuses"][0]["ready"] is False


def test_an_ipv6_address_loses_its_brackets() -> None:
    assert _status(pod("[::1]:8001"), {}, True, "T1")["podIP"] == "::1"


def test_a_pod_without_the_annotation_names_nothing() -> None:
    assert simulator_of({"metadata": {"name": "p"}}) == ""
