"""Free TCP ports on the loopback interface.

Ports are picked *below* the kernel's ephemeral range (``ip_local_port_range``, by
default 32768-60999): the kernel never hands those out for ``bind(0)`` or outgoing
connections, so a port picked here cannot be taken by a simulated server binding port
0 or by a service's outgoing connection in the moment between picking it and the
child process binding it. Each candidate is checked by binding it (no
``SO_REUSEADDR``, so ports in TIME_WAIT are skipped too), and every probe socket stays
open until the call returns: the ports of one call are distinct. Ports handed out are
remembered for :data:`HANDED_OUT_S` and not handed out again by later calls of this
process, so parts started concurrently (two stacks, a stack and a test's servers) never
pick the same port before either has bound it. Where the ephemeral range leaves no room
below it, the kernel picks (``bind(0)``).
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path

__all__ = ["LOOPBACK", "free_port", "free_port_block", "free_port_on_hosts", "free_ports"]

LOOPBACK = "127.0.0.1"

_LOWEST = 10_000
_SPAN = 12_768  # 20000-32767 with the default ephemeral range
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")

HANDED_OUT_S = 120.0  # long enough for any started part to have bound its ports
_handed_out: dict[int, float] = {}  # port -> when it was handed out (monotonic)
_handed_out_lock = threading.Lock()


def _recently_handed_out() -> set[int]:
    now = time.monotonic()
    with _handed_out_lock:
        for port in [p for p, at in _handed_out.items() if now - at > HANDED_OUT_S]:
            del _handed_out[port]
        return set(_handed_out)


def _hand_out(ports: Iterable[int]) -> None:
    now = time.monotonic()
    with _handed_out_lock:
        _handed_out.update((port, now) for port in ports)


def _candidate_ports() -> list[int]:
    """Ports below the ephemeral range, shuffled; [] when there is no such room."""
    try:
        low = int(_RANGE_FILE.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return []
    candidates = list(range(max(_LOWEST, low - _SPAN), low))
    random.shuffle(candidates)
    return candidates


def _fresh(candidates: Iterable[int], taken: set[int]) -> list[int]:
    return [port for port in candidates if port not in taken]


def free_ports(count: int, *, host: str = LOOPBACK) -> list[int]:
    """Return ``count`` distinct TCP ports that were free on ``host`` a moment ago."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    candidates = iter(_fresh(_candidate_ports(), _recently_handed_out()))
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
    _hand_out(ports)
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
    taken = _recently_handed_out()
    candidates = _candidate_ports() or [free_port(host=host) for _ in range(100)]
    for base in candidates:
        block = range(base, base + count)
        if base + count <= 65536 and taken.isdisjoint(block) and _bindable(host, block):
            _hand_out(block)
            return base
    raise OSError(f"no block of {count} free ports on {host}")


def free_port_on_hosts(hosts: Sequence[str]) -> int:
    """Return one TCP port that was free on every address of ``hosts`` a moment ago.

    For servers that share a port on distinct loopback addresses (127.0.0.2, 127.0.0.3,
    ...), as the Pods of a pool share its target port.
    """
    if not hosts:
        raise ValueError("hosts must not be empty")
    taken = _recently_handed_out()
    candidates = _candidate_ports() or [free_port(host=hosts[0]) for _ in range(100)]
    for port in candidates:
        if port not in taken and all(_bindable(host, range(port, port + 1)) for host in hosts):
            _hand_out([port])
            return port
    raise OSError(f"no port free on all of {', '.join(hosts)}")
