"""free_ports: distinct loopback ports that can be bound."""

from __future__ import annotations

import socket
from contextlib import ExitStack
from pathlib import Path

import pytest

from gie_cli.devstack import free_port, free_ports
from gie_cli.devstack import ports as ports_module
from gie_cli.devstack.ports import free_port_block, free_port_on_hosts


def test_ports_of_one_call_are_distinct_and_bindable() -> None:
    ports = free_ports(8)
    assert len(set(ports)) == 8
    for port in ports:
        assert 1024 <= port <= 65535
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


def test_free_port_returns_one_bindable_port() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize(("count", "expected"), [(0, 0), (1, 1), (3, 3)], ids=str)
def test_count(count: int, expected: int) -> None:
    assert len(free_ports(count)) == expected


def test_negative_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="count"):
        free_ports(-1)


def test_ports_avoid_the_kernels_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    if low < 11_000:
        pytest.skip("no room below this machine's ephemeral port range")
    assert all(port < low for port in free_ports(20))


def test_busy_candidates_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        taken = int(busy.getsockname()[1])
        monkeypatch.setattr(ports_module, "_candidate_ports", lambda: [taken, taken])
        ports = free_ports(2)
    assert taken not in ports
    assert len(set(ports)) == 2


@pytest.mark.parametrize("count", [1, 4], ids=str)
def test_port_block_is_contiguous_and_bindable(count: int) -> None:
    base = free_port_block(count)
    with ExitStack() as stack:
        for port in range(base, base + count):
            stack.enter_context(socket.socket()).bind(("127.0.0.1", port))


def test_port_block_skips_a_base_whose_block_is_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        taken = int(busy.getsockname()[1])
        fallback = next(p for p in iter(_unused_port, None) if _bindable(p + 1))
        monkeypatch.setattr(ports_module, "_candidate_ports", lambda: [taken - 1, fallback])
        assert free_port_block(2) == fallback


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _unused_port() -> int:
    """A bindable port that no call of this module has handed out."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_port_handed_out_is_not_handed_out_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two stacks started at once: the second must not pick a port of the first's
    # block before the first has bound it.
    base = next(p for p in iter(_unused_port, None) if _bindable(p + 1))
    other = next(p for p in iter(_unused_port, None) if p not in (base, base + 1))
    monkeypatch.setattr(ports_module, "_candidate_ports", lambda: [base, base + 1, other])
    assert free_port_block(2) == base
    assert free_ports(1) == [other]


def test_port_on_hosts_is_bindable_on_every_host() -> None:
    hosts = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    port = free_port_on_hosts(hosts)
    with ExitStack() as stack:
        for host in hosts:
            stack.enter_context(socket.socket()).bind((host, port))


def test_port_on_hosts_skips_a_port_busy_on_one_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # Busy on 127.0.0.3 only: free on 127.0.0.2, yet not shareable by both servers.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.3", 0))
        taken = int(busy.getsockname()[1])
        fallback = next(p for p in iter(_unused_port, None) if p != taken)
        monkeypatch.setattr(ports_module, "_candidate_ports", lambda: [taken, fallback])
        assert free_port_on_hosts(["127.0.0.2", "127.0.0.3"]) == fallback


def test_port_on_no_hosts_is_refused() -> None:
    with pytest.raises(ValueError, match="hosts"):
        free_port_on_hosts([])
