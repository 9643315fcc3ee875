"""Real nats-server and Redis processes for tests, on free loopback ports."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from gie_cli.devstack.binaries import find_nats_server, find_redis_server
from gie_cli.devstack.ports import free_port


def _wait(
    check: object,
    what: str,
    proc: subprocess.Popen[bytes],
    timeout_s: float = 15.0,
    *,
    log: Path | None = None,
) -> None:
    """Until ``check()`` holds; RuntimeError (with the tail of ``log``, if given) when the
    process exits or time runs out."""
    deadline = time.monotonic() + timeout_s

    def tail() -> str:
        return ": " + log.read_text()[-2000:] if log is not None else ""

    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} during start-up{tail()}")
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready within {timeout_s}s{tail()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def jetstream_ready(monitor_port: int) -> Callable[[], bool]:
    """A check that nats-server's monitor port answers healthy with JetStream up."""
    url = f"http://127.0.0.1:{monitor_port}/healthz?js-enabled-only=true"

    def ready() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return ready


@contextlib.contextmanager
def nats_server(port: int | None = None, store: str | None = None) -> Iterator[str]:
    """Run nats-server with JetStream; yield its URL. By default on a free port with a
    temporary store; give both to restart a server where it was."""
    port, monitor = port or free_port(), free_port()
    with contextlib.ExitStack() as cleanup:
        if store is None:
            store = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="gie-nats-"))
        proc = subprocess.Popen(
            [
                str(find_nats_server()),
                "-a",
                "127.0.0.1",
                "-p",
                str(port),
                "-m",
                str(monitor),
                "-js",
                "-sd",
                store,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        try:
            _wait(jetstream_ready(monitor), "nats-server", proc)
            yield f"nats://127.0.0.1:{port}"
        finally:
            _stop(proc)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Run a Redis-protocol server without persistence; yield its URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gie-redis-") as data:
        proc = subprocess.Popen(
            [
                str(find_redis_server()),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                data,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def ready() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        try:
            _wait(ready, "redis-server", proc)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            _stop(proc)
