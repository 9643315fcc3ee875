"""The local stack turns KV events on in its simulators only for the precise scorer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gie_cli.devstack.precise import precise_sim_args, read_kv_events

PRECISE = """\
plugins:
- type: precise-prefix-cache-scorer
  parameters:
    tokenizer: {kind: mistral, path: /models/tekken.json}
- type: queue-scorer
"""
KV_ON = ("--kv-events-port", "0", "--kv-events-replay-port", "0")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PRECISE, (*KV_ON, "--tokenizer", "mistral", "--tokenizer-path", "/models/tekken.json")),
        ("plugins:\n- type: precise-prefix-cache-scorer\n", KV_ON),
        (
            "plugins:\n- type: precise-prefix-cache-scorer\n  parameters:\n"
            "    tokenizer: {kind: chars, charsPerToken: 3}\n",
            (*KV_ON, "--tokenizer", "chars", "--chars-per-token", "3"),
        ),
        ("plugins:\n- type: prefix-cache-scorer\n", ()),
        ("plugins: [", ()),  # unreadable: the picker reports it
    ],
    ids=["mistral", "default-tokenizer", "chars", "approximate-only", "bad-yaml"],
)
def test_sim_flags_follow_the_config(tmp_path: Path, text: str, expected: tuple[str, ...]) -> None:
    config = tmp_path / "epp.yaml"
    config.write_text(text)
    assert precise_sim_args(config) == expected


def test_no_config_no_kv_events() -> None:
    assert precise_sim_args(None) == ()


def test_ready_file_sockets_become_labels(tmp_path: Path) -> None:
    ready = tmp_path / "sims.json"
    sockets = {
        "127.0.0.1:8001": {"events": "tcp://127.0.0.1:7001", "replay": "tcp://127.0.0.1:7002"}
    }
    ready.write_text(json.dumps({"servers": ["127.0.0.1:8001"], "kv_events": sockets}))
    assert read_kv_events(ready) == {
        "127.0.0.1:8001": {
            "gie.dev/kv-events": "tcp://127.0.0.1:7001",
            "gie.dev/kv-events-replay": "tcp://127.0.0.1:7002",
        }
    }
    ready.write_text(json.dumps({"servers": ["127.0.0.1:8001"]}))
    assert read_kv_events(ready) == {}
