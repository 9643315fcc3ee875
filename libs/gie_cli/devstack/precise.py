"""Precise prefix routing on the local stack: simulators that publish KV events.

When the stack's EndpointPickerConfig uses ``precise-prefix-cache-scorer``, the
simulators publish their cache changes as vLLM KV events (ephemeral ports, with replay
sockets) and tokenize with the scorer's ``tokenizer`` (so picker and servers agree on
token ids). Their ready file lists each server's sockets; the stack hands them to the
metrics-collector as the endpoints' ``gie.dev/kv-events`` labels (pool file) or as the
Pods' annotations of the same names (Kubernetes discovery).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

__all__ = ["KV_EVENTS_KEY", "KV_REPLAY_KEY", "kv_labels", "precise_sim_args", "read_kv_events"]

PRECISE_SCORER = "precise-prefix-cache-scorer"
KV_EVENTS_KEY = "gie.dev/kv-events"  # endpoint label and Pod annotation (collector, ingest)
KV_REPLAY_KEY = "gie.dev/kv-events-replay"


def _tokenizer_args(parameters: object) -> list[str]:
    tokenizer = parameters.get("tokenizer") if isinstance(parameters, dict) else None
    if not isinstance(tokenizer, dict):
        return []
    args = ["--tokenizer", str(tokenizer.get("kind", "chars"))]
    if tokenizer.get("path"):
        args += ["--tokenizer-path", str(tokenizer["path"])]
    if tokenizer.get("charsPerToken"):
        args += ["--chars-per-token", str(tokenizer["charsPerToken"])]
    return args


def precise_sim_args(config_file: Path | None) -> tuple[str, ...]:
    """``gie_sim`` flags for a stack whose config uses the precise scorer; none otherwise
    (or when the file cannot be read: the picker reports that)."""
    if config_file is None:
        return ()
    try:
        raw = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ()
    plugins = raw.get("plugins") if isinstance(raw, dict) else None
    for plugin in plugins if isinstance(plugins, list) else []:
        if isinstance(plugin, dict) and plugin.get("type") == PRECISE_SCORER:
            events = ["--kv-events-port", "0", "--kv-events-replay-port", "0"]
            return (*events, *_tokenizer_args(plugin.get("parameters")))
    return ()


def kv_labels(ready: object) -> dict[str, dict[str, str]]:
    """Server -> its KV-event labels, from a simulators' ready file's ``kv_events``
    (``{server: {"events": ..., "replay": ...}}``); servers that publish none are left out."""
    sockets = ready.get("kv_events") if isinstance(ready, dict) else None
    if not isinstance(sockets, dict):
        return {}
    return {
        str(server): {
            KV_EVENTS_KEY: str(found["events"]),
            KV_REPLAY_KEY: str(found.get("replay") or ""),
        }
        for server, found in sockets.items()
        if isinstance(found, dict) and found.get("events")
    }


def read_kv_events(ready_file: Path) -> dict[str, dict[str, str]]:
    """The KV-event labels of a simulators' ready file (:func:`kv_labels`)."""
    try:
        data = json.loads(ready_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return kv_labels(data)
