"""``python -m gie_sim`` as a subprocess: ready file, serving, clean SIGTERM exit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gie_cli.devstack.ports import free_port_on_hosts
from gie_sim.__main__ import build_parser, main, parse_listen, parse_ports


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 20.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            loaded: dict[str, object] = json.loads(path.read_text())
            return loaded
        if proc.poll() is not None:
            raise AssertionError(f"gie-sim exited early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("ready file never appeared")


def test_cli_serves_count_servers_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "gie_sim", "--count", "2", "--time-scale", "0"]
    command += ["--ready-file", str(ready), "--model", "tiny", "--block-size", "8"]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = _wait_for(ready, proc)
        servers = info["servers"]
        assert isinstance(servers, list) and len(servers) == 2
        assert info["pid"] == proc.pid
        assert (info["model"], info["models"]) == ("tiny", ["tiny"])
        assert "kv_events" not in info  # they publish none
        with httpx.Client(timeout=10) as http:
            for address in servers:
                response = http.post(
                    f"http://{address}/v1/completions",
                    json={"model": "tiny", "prompt": "hello", "max_tokens": 3},
                )
                assert response.status_code == 200
                assert response.headers["x-served-by"] == address
                assert response.json()["usage"]["completion_tokens"] == 3
            metrics = http.get(f"http://{servers[0]}/metrics").text
            assert 'block_size="8"' in metrics
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert stdout.strip() == "gie-sim ready: " + " ".join(str(s) for s in servers)
    assert not ready.exists()  # removed on clean shutdown


def test_parser_covers_every_config_field_and_port_lists() -> None:
    args = build_parser().parse_args(
        ["--port", "8000,8001", "--port", "8002", "--max-num-seqs", "8", "--decode-itl-ms", "2.5"]
    )
    assert parse_ports(args.port) == [8000, 8001, 8002]
    assert (args.max_num_seqs, args.decode_itl_ms, args.model) == (8, 2.5, "sim-llama")
    with pytest.raises(ValueError, match="out of range"):
        parse_ports(["70000"])


def test_listen_gives_each_server_its_own_host_on_one_port(tmp_path: Path) -> None:
    # Pods of a pool: distinct addresses, one shared target port.
    port = free_port_on_hosts(["127.0.0.2", "127.0.0.3"])
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "gie_sim", "--time-scale", "0", "--ready-file", str(ready)]
    command += ["--listen", f"127.0.0.2:{port}", "--listen", f"127.0.0.3:{port}"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = _wait_for(ready, proc)
        expected = [f"127.0.0.2:{port}", f"127.0.0.3:{port}"]
        assert info["servers"] == expected
        with httpx.Client(timeout=10) as http:
            for address in expected:
                response = http.post(
                    f"http://{address}/v1/completions",
                    json={"model": "sim-llama", "prompt": "hi", "max_tokens": 2},
                )
                assert response.status_code == 200
                assert response.headers["x-served-by"] == address
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)


def test_listen_parses_hosts_and_ports() -> None:
    args = build_parser().parse_args(["--listen", "127.0.0.2:8000,127.0.0.3:8000"])
    args.listen.append("[::1]:0")
    assert parse_listen(args.listen) == [("127.0.0.2", 8000), ("127.0.0.3", 8000), ("::1", 0)]


@pytest.mark.parametrize(
    ("value", "message"),
    [("127.0.0.2", "not HOST:PORT"), (":8000", "not HOST:PORT"), ("h:70000", "out of range")],
    ids=["no-port", "no-host", "port-out-of-range"],
)
def test_listen_rejects_bad_addresses(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_listen([value])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--listen", "127.0.0.2:0", "--port", "0"], "not allowed with argument"),
        (["--listen", "127.0.0.2:0", "--host", "127.0.0.9"], "--host does not apply"),
        (["--listen", "127.0.0.2:0", "--count", "2"], "does not match the 1 --listen"),
        (["--listen", "nohost"], "--listen: not HOST:PORT"),
    ],
    ids=["with-port", "with-host", "count-mismatch", "bad-address"],
)
def test_listen_conflicts_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_admin_listener_is_named_in_the_ready_file_and_heals_a_refusing_server(
    tmp_path: Path,
) -> None:
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "gie_sim", "--count", "1", "--time-scale", "0"]
    command += ["--ready-file", str(ready), "--admin", "127.0.0.1:0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = _wait_for(ready, proc)
        (server,) = info["servers"]  # type: ignore[misc]
        admin = f"http://{info['admin']}/sim/servers/{server}/api-faults"
        with httpx.Client(timeout=10, trust_env=False) as http:
            assert http.post(admin, json={"mode": "refuse"}).json()["mode"] == "refuse"
            with pytest.raises(httpx.ConnectError):
                http.get(f"http://{server}/health")
            http.post(admin, json={"mode": "none"}).raise_for_status()
            assert http.get(f"http://{server}/health").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0


def test_ready_file_names_each_servers_kv_event_sockets(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "gie_sim", "--count", "2", "--time-scale", "0"]
    command += ["--ready-file", str(ready), "--kv-events-port", "0"]
    command += ["--kv-events-replay-port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = _wait_for(ready, proc)
        servers = info["servers"]
        kv_events = info["kv_events"]
        assert isinstance(servers, list) and isinstance(kv_events, dict)
        assert sorted(kv_events) == sorted(servers)
        sockets = [kv_events[server] for server in servers]
        addresses = [s["events"] for s in sockets] + [s["replay"] for s in sockets]
        assert all(a.startswith("tcp://127.0.0.1:") for a in addresses)
        assert len(set(addresses)) == 4  # every socket on its own port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--admin", "nohost"], "--admin: not HOST:PORT"),
        (["--admin", "127.0.0.1:1,127.0.0.1:2"], "--admin takes one HOST:PORT"),
    ],
    ids=["bad-address", "two-addresses"],
)
def test_bad_admin_addresses_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
