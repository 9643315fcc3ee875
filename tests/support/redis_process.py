"""A Redis-protocol server a test can SIGKILL and start again on the same port and data."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from gie_cli.devstack.binaries import find_redis_server
from gie_cli.devstack.parts import redis_launch
from gie_cli.devstack.ports import free_port


class RedisProcess:
    """``redis-server`` (or valkey) on a fixed loopback port and data directory. With
    ``aof`` it runs exactly as the local stack launches it (``gie up``: an append-only
    file fsynced every second); without, it keeps nothing across a restart."""

    def __init__(self, data_dir: Path, *, aof: bool) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.aof = aof
        self._proc: subprocess.Popen[bytes] | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 15.0) -> None:
        binary = find_redis_server()
        if self.aof:
            argv = redis_launch(binary=binary, port=self.port, data_dir=self.data_dir).argv
        else:
            argv = [str(binary), "--port", str(self.port), "--bind", "127.0.0.1"]
            argv += ["--save", "", "--appendonly", "no", "--dir", str(self.data_dir)]
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._proc.returncode}")
            if self._answers():
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server not ready within {timeout_s}s")

    def kill(self) -> None:
        """SIGKILL: nothing is flushed beyond what the server already wrote."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(timeout=10)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
