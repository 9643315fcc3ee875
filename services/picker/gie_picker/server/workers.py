"""``--workers N``: N picker processes sharing one ext_proc port (SO_REUSEPORT).

The supervisor starts N copies of ``python -m gie_picker`` with
``GIE_WORKERS=1`` and, for worker ``i``, admin port ``GIE_ADMIN_PORT + i`` and
instance id ``<id>-w<i>``. Each worker folds the event stream into its own
view. The kernel balances connections (not streams) between the workers, so
the gateway must open several HTTP/2 connections (see docs/picker.md).
SIGTERM/SIGINT are passed on; if a worker dies, the others are stopped and the
supervisor exits non-zero so the orchestrator restarts the whole set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

import structlog

from gie_picker.settings import (
    MULTI_WORKER_BATCH_S,
    MULTI_WORKER_READ_DELAY_S,
    MULTI_WORKER_SETTLE_INTERVAL_S,
    RIDE_ALONG_SHARE,
    PickerSettings,
)

_log = structlog.get_logger("gie.picker")


def worker_env(settings: PickerSettings, index: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIE_WORKERS="1",
        GIE_ADMIN_PORT=str(settings.admin_port + index if settings.admin_port else 0),
        GIE_INSTANCE_ID=f"{settings.instance_id}-w{index}",
        GIE_GRPC_PORT=str(settings.grpc_port),
        GIE_WORKER_INDEX=str(index),
    )
    if settings.event_read_delay_s is None:  # each worker follows every worker's events
        env["GIE_EVENT_READ_DELAY_S"] = str(MULTI_WORKER_READ_DELAY_S)
    given = settings.model_fields_set  # what the operator set (environment or flags)
    batch_s = settings.routing_event_batch_s
    if "routing_event_batch_s" not in given:  # every worker folds every worker's batches
        batch_s = MULTI_WORKER_BATCH_S
        env["GIE_ROUTING_EVENT_BATCH_S"] = str(batch_s)
    if "event_settle_interval_s" not in given:
        env["GIE_EVENT_SETTLE_INTERVAL_S"] = str(MULTI_WORKER_SETTLE_INTERVAL_S)
    if settings.routing_event_ride_along_s is None:  # each worker sees 1/N of the traffic
        ride_along = min(batch_s, batch_s * RIDE_ALONG_SHARE * settings.workers)
        env["GIE_ROUTING_EVENT_RIDE_ALONG_S"] = str(ride_along)
    return env


def supervise(settings: PickerSettings) -> int:
    """Run ``settings.workers`` worker processes until signalled; return the exit code."""
    if settings.grpc_port == 0:
        print("gie-picker: --workers needs a fixed GIE_GRPC_PORT", file=sys.stderr)
        return 2
    children = [
        subprocess.Popen([sys.executable, "-m", "gie_picker"], env=worker_env(settings, i))
        for i in range(settings.workers)
    ]
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _log.info("workers started", workers=len(children), pids=[c.pid for c in children])
    while not stopping:
        for index, child in enumerate(children):
            if child.poll() is not None and not stopping:
                _log.error(
                    "worker exited; stopping the others", worker=index, code=child.returncode
                )
                on_signal(signal.SIGTERM, None)
                for other in children:
                    other.wait(timeout=30)
                return 1
        time.sleep(0.2)
    codes = [child.wait(timeout=30) for child in children]
    return 0 if all(code == 0 for code in codes) else 1
