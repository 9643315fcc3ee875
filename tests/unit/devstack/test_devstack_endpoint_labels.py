"""Labels of external endpoints go to the pool file; labels of unknown endpoints are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from gie_cli.devstack import StackOptions


def test_labels_must_name_endpoints_of_the_stack(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"endpoint_labels.*\['127.0.0.1:2'\]"):
        StackOptions(
            state_dir=tmp_path,
            endpoints=("127.0.0.1:1",),
            endpoint_labels={"127.0.0.1:2": {"gie.dev/kv-events": "tcp://127.0.0.1:3"}},
        )
    options = StackOptions(
        state_dir=tmp_path,
        endpoints=("127.0.0.1:1",),
        endpoint_labels={"127.0.0.1:1": {"gie.dev/kv-events": "tcp://127.0.0.1:3"}},
    )
    assert options.endpoint_labels["127.0.0.1:1"] == {"gie.dev/kv-events": "tcp://127.0.0.1:3"}
