"""Free TCP ports on the loopback interface.

Ports are picked *below* the kernel's ephemeral range (``ip_local_port_range``, by
default 32768-60999): the kernel never hands those out for ``bind(0)`` or outgoing
connections, so a port picked here cannot be taken by a simulated server binding port
0 or by a service's outgoing connection in the moment between picking it and the
child process binding it. Each candidate is checked by binding it (no
``SO_REUSEADDR``, so ports in TIME_WAIT are skipped too), and every probe socket stays
open until the call returns: the ports of one call are distinct. Where the ephemeral
range leaves no room below it, the kernel picks (``bind(0)``).
"""

from __future__ import annotations

import random
import socket
from contextlib import ExitStack
from pathlib import Path

__all__ = ["LOOPBACK", "free_port", "free_port_block", "free_ports"]

LOOPBACK = "127.0.0.1"

_LOWEST = 10_000
_SPAN = 12_768  # 20000-32767 with the default ephemeral range
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _candidate_ports() -> list[int]:
    """Ports below the ephemeral range, shuffled; [] when there is no such room."""
    try:
        low = int(_RANGE_FILE.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return []
    candidates = list(range(max(_LOWEST, low - _SPAN), low))
    random.shuffle(candidates)
    return candidates


def free_ports(count: int, *, host: str = LOOPBACK) -> list[int]:
    """Return ``count`` distinct TCP ports that were free on ``host`` a moment ago."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    candidates = iter(_candidate_ports())
    ports: list[int] = []
    with ExitStack() as sockets:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            port = next(candidates, 0)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                if port == 0:
                    raise
                continue
            sockets.enter_context(sock)
            ports.append(int(sock.getsockname()[1]))
    return ports


def free_port(*, host: str = LOOPBACK) -> int:
    """Return one TCP port that was free on ``host`` a moment ago."""
    return free_ports(1, host=host)[0]


def _bindable(host: str, ports: range) -> bool:
    with ExitStack() as sockets:
        for port in ports:
            sock = sockets.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def free_port_block(count: int, *, host: str = LOOPBACK) -> int:
    """Return ``base`` such that ports ``base`` .. ``base + count - 1`` were all free.

    For servers that derive ports from a base (picker workers: admin port + worker index).
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    candidates = _candidate_ports() or [free_port(host=host) for _ in range(100)]
    for base in candidates:
        if base + count <= 65536 and _bindable(host, range(base, base + count)):
            return base
    raise OSError(f"no block of {count} free ports on {host}")
