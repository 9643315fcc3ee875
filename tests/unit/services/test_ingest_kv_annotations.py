"""Pod annotations to KV-event labels: the accepted forms and the refused ones."""

from __future__ import annotations

from typing import Any

import pytest

from gie_ingest.kube.errors import InvalidObject
from gie_ingest.kube.kv_annotations import with_kv_event_addresses
from gie_ingest.kube.pod_endpoints import pod_endpoints

EVENTS, REPLAY = "gie.dev/kv-events", "gie.dev/kv-events-replay"


def pod(ip: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "annotations": annotations},
        "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]},
    }


def labels(
    ip: str, annotations: dict[str, str], ports: tuple[int, ...] = (8000,)
) -> list[dict[str, str]]:
    p = pod(ip, annotations)
    return [e.labels for e in with_kv_event_addresses(p, pod_endpoints(p, ports))]


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({EVENTS: "5557"}, {EVENTS: "tcp://10.1.0.1:5557"}),
        ({EVENTS: "tcp://*:6000"}, {EVENTS: "tcp://10.1.0.1:6000"}),
        ({EVENTS: "tcp://0.0.0.0:6000"}, {EVENTS: "tcp://10.1.0.1:6000"}),
        ({EVENTS: "tcp://[::]:6000"}, {EVENTS: "tcp://10.1.0.1:6000"}),
        ({EVENTS: "tcp://kv.example:6000"}, {EVENTS: "tcp://kv.example:6000"}),
        ({EVENTS: "5557", REPLAY: ""}, {EVENTS: "tcp://10.1.0.1:5557", REPLAY: ""}),
        ({REPLAY: "5558"}, {REPLAY: "tcp://10.1.0.1:5558"}),
        ({}, {}),
    ],
    ids=["port", "star", "any-v4", "any-v6", "host", "no-replay", "replay-only", "none"],
)
def test_accepted_forms(annotations: dict[str, str], expected: dict[str, str]) -> None:
    assert labels("10.1.0.1", annotations) == [expected]


def test_ipv6_pod_and_data_parallel_ranks() -> None:
    got = labels("fd00::7", {EVENTS: "5557"}, ports=(8000, 8001))
    assert [g[EVENTS] for g in got] == ["tcp://[fd00::7]:5557", "tcp://[fd00::7]:5558"]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("tcp:/5557", "is neither a port nor tcp://HOST:PORT"),
        ("http://host:5557", "is neither a port nor tcp://HOST:PORT"),
        ("70000", "port 70000 is not in 1-65535"),
        ("0", "port 0 is not in 1-65535"),
        # Digits of other scripts, and numbers too long for int(): refused, not a crash.
        ("\u00b2", "is neither a port nor tcp://HOST:PORT"),
        ("\u0665\u0665\u0665\u0667", "is neither a port nor tcp://HOST:PORT"),
        ("5" * 5000, "is neither a port nor tcp://HOST:PORT"),
        ("tcp://*:" + "9" * 5000, "is neither a port nor tcp://HOST:PORT"),
    ],
)
def test_refused_values_name_the_annotation(value: str, fragment: str) -> None:
    with pytest.raises(InvalidObject, match=fragment) as caught:
        labels("10.1.0.1", {EVENTS: value})
    assert "metadata.annotations['gie.dev/kv-events']" in str(caught.value)
