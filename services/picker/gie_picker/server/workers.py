"""``--workers N``: N picker processes sharing one ext_proc port (SO_REUSEPORT).

The supervisor starts N copies of ``python -m gie_picker`` with
``GIE_WORKERS=1`` and, for worker ``i``, admin port ``GIE_ADMIN_PORT + i`` and
instance id ``<id>-w<i>``. Each worker folds the event stream into its own
view. The kernel balances connections (not streams) between the workers, so
the gateway must open several HTTP/2 connections (see docs/picker.md).
SIGTERM/SIGINT are passed on. A worker that dies is started again while the
others keep serving, after a back-off that doubles with each quick death (from
0.5 s to 30 s; a worker that lived a minute starts again at once). A restarted
worker is a new publisher of routing events: its instance id gets ``-r<n>``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

import structlog

from gie.tls import ReloadingServerCredentials, TlsMetrics, server_credentials
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


def prepare_worker_tls(settings: PickerSettings) -> PickerSettings:
    """Before the workers start: check the certificate files (raises
    CertificateFileError, so a bad file is one clear error rather than a crash loop),
    and make the self-signed certificate, if asked for, once for every worker."""
    files = settings.grpc_server_tls_files()
    if files is not None:
        ReloadingServerCredentials(files, server="ext_proc", metrics=TlsMetrics(None))
        return settings
    if not settings.grpc_tls_self_signed:
        return settings
    tls = server_credentials(settings, server="ext_proc", host=settings.grpc_host, registry=None)
    assert tls is not None  # self-signed was asked for
    os.environ.update(
        GIE_GRPC_TLS_SELF_SIGNED="false",
        GIE_GRPC_TLS_CERT_FILE=str(tls.files.certificate),
        GIE_GRPC_TLS_KEY_FILE=str(tls.files.key),
    )
    return settings


RESTART_BACKOFF_S = (0.5, 30.0)  # first and longest wait before restarting a worker
STABLE_AFTER_S = 60.0  # a worker that lived this long starts again without waiting


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    started: float
    restarts: int = 0
    quick_deaths: int = 0
    restart_at: float | None = None  # when dead: the time it is started again


def restart_delay(quick_deaths: int) -> float:
    """Wait before restarting a worker that died ``quick_deaths`` times in a row soon
    after starting (0: it had run a while)."""
    first, longest = RESTART_BACKOFF_S
    if quick_deaths == 0:
        return 0.0
    return float(min(longest, first * 2 ** (quick_deaths - 1)))


def supervise(settings: PickerSettings) -> int:
    """Run ``settings.workers`` worker processes until signalled; return the exit code."""
    if settings.grpc_port == 0:
        print("gie-picker: --workers needs a fixed GIE_GRPC_PORT", file=sys.stderr)
        return 2

    def spawn(index: int, restarts: int) -> subprocess.Popen[bytes]:
        env = worker_env(settings, index)
        if restarts:
            env["GIE_INSTANCE_ID"] = f"{env['GIE_INSTANCE_ID']}-r{restarts}"
        return subprocess.Popen([sys.executable, "-m", "gie_picker"], env=env)

    workers = [_Worker(i, spawn(i, 0), time.monotonic()) for i in range(settings.workers)]
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _log.info("workers started", workers=len(workers), pids=[w.process.pid for w in workers])
    while not stopping:
        now = time.monotonic()
        for worker in workers:
            if worker.restart_at is None and worker.process.poll() is not None:
                lived = now - worker.started
                worker.quick_deaths = 0 if lived >= STABLE_AFTER_S else worker.quick_deaths + 1
                delay = restart_delay(worker.quick_deaths)
                worker.restart_at = now + delay
                _log.error(
                    "worker exited; restarting it",
                    worker=worker.index,
                    code=worker.process.returncode,
                    lived_s=round(lived, 1),
                    restart_in_s=delay,
                )
            if worker.restart_at is not None and now >= worker.restart_at and not stopping:
                worker.restarts += 1
                worker.process = spawn(worker.index, worker.restarts)
                worker.started, worker.restart_at = now, None
                _log.info(
                    "worker restarted",
                    worker=worker.index,
                    pid=worker.process.pid,
                    restarts=worker.restarts,
                )
        time.sleep(0.1)
    codes = [worker.process.wait(timeout=30) for worker in workers]
    return 0 if all(code == 0 for code in codes) else 1
