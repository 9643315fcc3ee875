"""``gie kube serve`` run as a real process on a free loopback port, for tests."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from gie_cli.devstack.ports import free_port


@dataclass(frozen=True)
class ServedApi:
    url: str
    kubeconfig: Path
    process: subprocess.Popen[bytes]
    log: Path


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gie kube serve exited with {process.returncode}: {log.read_text()}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"gie kube serve not ready: {log.read_text()}")


def stop(served: ServedApi) -> int:
    """SIGTERM, as an operator stops it; returns the exit code."""
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait(timeout=5)
    return served.process.returncode


@contextlib.contextmanager
def kube_serve(folder: Path, *options: str, port: int | None = None) -> Iterator[ServedApi]:
    """Run ``gie kube serve`` with ``options``; its kubeconfig and log go in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    kubeconfig = folder / "kubeconfig"
    log = folder / f"serve-{port}.log"
    command = [
        sys.executable, "-m", "gie_cli", "kube", "serve",
        "--port", str(port), "--kubeconfig", str(kubeconfig), *options,
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    served = ServedApi(f"http://127.0.0.1:{port}", kubeconfig, process, log)
    try:
        _wait_ready(served.url, process, log)
        yield served
    finally:
        stop(served)
