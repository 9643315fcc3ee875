"""Where the collector looks for an endpoint's KV-event sockets."""

from __future__ import annotations

import pytest
import zmq

from gie.events import Endpoint
from gie_metrics_collector.kv import kv_addresses
from gie_metrics_collector.kv.addresses import KvAddresses, zmq_address_ok


@pytest.mark.parametrize(
    ("address", "labels", "expected"),
    [
        pytest.param(
            "10.0.0.1:8000",
            {},
            KvAddresses("tcp://10.0.0.1:5557", "tcp://10.0.0.1:5558"),
            id="defaults",
        ),
        pytest.param(
            "[fd00::1]:8000",
            {},
            KvAddresses("tcp://[fd00::1]:5557", "tcp://[fd00::1]:5558"),
            id="ipv6",
        ),
        pytest.param(
            "10.0.0.1:8001",
            {"gie.dev/data-parallel-rank": "1"},
            KvAddresses("tcp://10.0.0.1:5558", "tcp://10.0.0.1:5559"),
            id="data-parallel-rank",
        ),
        pytest.param(
            "10.0.0.1:8001",
            {"gie.dev/data-parallel-rank": "\u00b2"},
            KvAddresses("tcp://10.0.0.1:5557", "tcp://10.0.0.1:5558"),
            id="unreadable-rank-is-rank-0",
        ),
        pytest.param(
            "127.0.0.1:8000",
            {
                "gie.dev/kv-events": "tcp://127.0.0.1:7001",
                "gie.dev/kv-events-replay": "tcp://127.0.0.1:7002",
            },
            KvAddresses("tcp://127.0.0.1:7001", "tcp://127.0.0.1:7002"),
            id="labels",
        ),
        pytest.param(
            "127.0.0.1:8000",
            {"gie.dev/kv-events": "tcp://127.0.0.1:7001", "gie.dev/kv-events-replay": ""},
            KvAddresses("tcp://127.0.0.1:7001", None),
            id="no-replay",
        ),
    ],
)
def test_addresses(address: str, labels: dict[str, str], expected: KvAddresses) -> None:
    endpoint = Endpoint(address=address, labels=labels)
    assert kv_addresses(endpoint, port=5557, replay_port=5558) == expected


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        pytest.param(
            {"gie.dev/kv-events": "tcp://10.0.0.5"},
            KvAddresses(None, "tcp://10.0.0.1:5558", (("events", "tcp://10.0.0.5"),)),
            id="events-without-port",
        ),
        pytest.param(
            {"gie.dev/kv-events": "tcp://10.0.0.5:5557", "gie.dev/kv-events-replay": "10.0.0.5"},
            KvAddresses("tcp://10.0.0.5:5557", None, (("replay", "10.0.0.5"),)),
            id="replay-without-scheme",
        ),
        pytest.param(
            {"gie.dev/kv-events": "tcp://*:5557", "gie.dev/kv-events-replay": "tcp://h:99999"},
            KvAddresses(None, None, (("events", "tcp://*:5557"), ("replay", "tcp://h:99999"))),
            id="both",
        ),
    ],
)
def test_malformed_addresses_are_left_out_and_named(
    labels: dict[str, str], expected: KvAddresses
) -> None:
    endpoint = Endpoint(address="10.0.0.1:8000", labels=labels)
    assert kv_addresses(endpoint, port=5557, replay_port=5558) == expected


GOOD = [
    "tcp://10.0.0.5:5557",
    "tcp://vllm-0.vllm.default.svc:5557",
    "tcp://[fd00::1]:5557",
    "ipc:///tmp/kv-events",
]
BAD = [
    "tcp://10.0.0.5",
    "tcp://10.0.0.5:",
    "tcp://10.0.0.5:abc",
    "tcp://10.0.0.5:0",
    "tcp://10.0.0.5:65536",
    "tcp://*:5557",
    "tcp://:5557",
    "tcp://fd00::1:5557",
    "tcp://10.0.0.5:5557 ",
    "10.0.0.5:5557",
    "http://10.0.0.5:5557",
    "inproc://kv",
    "ipc://",
]


@pytest.mark.parametrize("address", GOOD)
def test_accepted_addresses_are_ones_zmq_connects_to(address: str) -> None:
    assert zmq_address_ok(address)
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    try:
        sub.connect(address)  # raises ZMQError on an address it cannot use
    finally:
        sub.close(linger=0)
        ctx.term()


@pytest.mark.parametrize("address", BAD)
def test_malformed_addresses_are_refused(address: str) -> None:
    assert not zmq_address_ok(address)
