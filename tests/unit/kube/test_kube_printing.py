"""What ``kubectl get`` shows: ages and the pod columns, computed as the server does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gie_cli.kube.durations import human_duration
from gie_cli.kube.pod_printer import pod_row

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (200, "3m20s"),
        (600, "10m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 300, "3h5m"),
        (10 * 3600, "10h"),
        (50 * 3600, "2d2h"),
        (20 * 86400, "20d"),
        (800 * 86400, "2y70d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_ages_read_as_kubectl_shows_them(seconds: int, shown: str) -> None:
    assert human_duration(seconds) == shown


def _pod(status: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    created = (NOW - timedelta(seconds=42)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"name": "p", "creationTimestamp": created, **metadata},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
        "status": status,
    }


_RUNNING = {"running": {"startedAt": "2025-06-01T11:00:00Z"}}
_CRASHING = {
    "name": "a",
    "ready": False,
    "restartCount": 3,
    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    "lastState": {"terminated": {"finishedAt": "2025-06-01T11:58:00Z", "exitCode": 1}},
}
_SOON = "2025-06-01T12:00:30Z"
_KILLED = {"name": "a", "state": {"terminated": {"exitCode": 137}}}


@pytest.mark.parametrize(
    ("status", "metadata", "cells"),
    [
        ({"phase": "Pending"}, {}, ["0/2", "Pending", "0"]),
        (
            {
                "phase": "Running",
                "containerStatuses": [
                    {"name": "a", "ready": True, "restartCount": 0, "state": _RUNNING},
                    {"name": "b", "ready": False, "restartCount": 0, "state": _RUNNING},
                ],
            },
            {},
            ["1/2", "Running", "0"],
        ),
        (
            {"phase": "Running", "containerStatuses": [_CRASHING]},
            {},
            ["0/2", "CrashLoopBackOff", "3 (2m ago)"],
        ),
        (
            {"phase": "Running", "containerStatuses": [_KILLED]},
            {},
            ["0/2", "ExitCode:137", "0"],
        ),
        ({"phase": "Running"}, {"deletionTimestamp": _SOON}, ["0/2", "Terminating", "0"]),
        ({"phase": "Pending", "reason": "Evicted"}, {}, ["0/2", "Evicted", "0"]),
    ],
    ids=["pending", "partly-ready", "crash-loop", "exit-code", "terminating", "reason"],
)  # fmt: skip
def test_pod_rows_show_ready_status_and_restarts(
    status: dict[str, Any], metadata: dict[str, Any], cells: list[str]
) -> None:
    row = pod_row(_pod(status, **metadata), NOW)
    assert row[0] == "p"
    assert row[1:4] == cells
    assert row[4] == "42s"
