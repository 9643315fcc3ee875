"""Where the collector looks for an endpoint's KV-event sockets."""

from __future__ import annotations

import pytest

from gie.events import Endpoint
from gie_metrics_collector.kv import kv_addresses
from gie_metrics_collector.kv.addresses import KvAddresses


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
