"""How parts are launched: the environment each service gets, sim part naming."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gie_cli.devstack import SERVICES
from gie_cli.devstack.parts import (
    envoy_launch,
    nats_launch,
    picker_worker_parts,
    service_launch,
    sim_launch,
    sim_parts,
)
from gie_cli.devstack.stack import _read_ready_file


@pytest.mark.parametrize("service", list(SERVICES))
def test_service_launch_env(service: str) -> None:
    launch = service_launch(
        service,
        nats_url="nats://127.0.0.1:4222",
        pool="ns/pool",
        admin_port=9100,
        env={"GIE_EXTRA": "1"},
    )
    assert launch.argv == [sys.executable, "-m", SERVICES[service]]
    assert launch.env["GIE_NATS_URL"] == "nats://127.0.0.1:4222"
    assert launch.env["GIE_POOL"] == "ns/pool"
    assert launch.env["GIE_ADMIN_HOST"] == "127.0.0.1"
    assert launch.env["GIE_ADMIN_PORT"] == "9100"
    assert launch.env["GIE_LOG_FORMAT"] == "json"
    assert launch.env["GIE_INSTANCE_ID"] == f"{service}-0"
    assert launch.env["GIE_EXTRA"] == "1"
    (part,) = launch.parts
    assert part.name == service
    assert part.health_url == "http://127.0.0.1:9100/readyz"


def test_sim_launch_and_parts() -> None:
    launch = sim_launch(count=3, time_scale=0.05, model="m", ready_file=Path("/tmp/r.json"))
    assert launch.argv[1:3] == ["-m", "gie_sim"]
    assert launch.argv[3:] == [
        "--count", "3", "--time-scale", "0.05", "--model", "m", "--ready-file", "/tmp/r.json",
        "--admin", "127.0.0.1:0",
    ]  # fmt: skip
    parts = sim_parts(["127.0.0.1:40001", "127.0.0.1:40002"])
    assert [(p.name, p.process, p.addresses["endpoint"]) for p in parts] == [
        ("sim-0", "sims", "127.0.0.1:40001"),
        ("sim-1", "sims", "127.0.0.1:40002"),
    ]
    assert parts[1].health_url == "http://127.0.0.1:40002/health"


def test_each_sim_in_its_own_process() -> None:
    launch = sim_launch(
        count=1, time_scale=1.0, model="m", ready_file=Path("/tmp/r.json"), process="sim-1"
    )
    assert launch.process == "sim-1"
    parts = sim_parts(
        ["127.0.0.1:40001", "127.0.0.1:40002"],
        processes=["sim-0", "sim-1"],
        extra=[{"sim-admin": "http://127.0.0.1:1"}, {"sim-admin": "http://127.0.0.1:2"}],
    )
    assert [(p.name, p.process, p.addresses["sim-admin"]) for p in parts] == [
        ("sim-0", "sim-0", "http://127.0.0.1:1"),
        ("sim-1", "sim-1", "http://127.0.0.1:2"),
    ]
    with pytest.raises(ValueError, match="1 processes for 2 simulators"):
        sim_parts(["127.0.0.1:40001", "127.0.0.1:40002"], processes=["sim-0"])


def test_nats_runs_jetstream_on_loopback() -> None:
    launch = nats_launch(
        binary=Path("/bin/nats-server"), port=4222, monitor_port=8222, store_dir=Path("/tmp/s")
    )
    argv = launch.argv
    assert "-js" in argv
    assert argv[argv.index("-a") + 1] == "127.0.0.1"
    assert argv[argv.index("-sd") + 1] == "/tmp/s"
    assert launch.parts[0].health_url == "http://127.0.0.1:8222/healthz"


def test_envoy_runs_without_hot_restart() -> None:
    launch = envoy_launch(
        binary=Path("/bin/envoy"), config_path=Path("/tmp/e.yaml"), gateway_port=1, admin_port=2
    )
    assert "--disable-hot-restart" in launch.argv
    assert launch.parts[0].addresses["gateway"] == "http://127.0.0.1:1"
    assert launch.parts[0].health_url == "http://127.0.0.1:2/ready"
    assert argv_value(launch.argv, "--concurrency") == "1"  # one worker thread by default


def test_envoy_worker_threads_are_set_and_checked() -> None:
    launch = envoy_launch(
        binary=Path("/bin/envoy"),
        config_path=Path("/tmp/e.yaml"),
        gateway_port=1,
        admin_port=2,
        workers=3,
    )
    assert argv_value(launch.argv, "--concurrency") == "3"
    with pytest.raises(ValueError, match="at least one worker thread"):
        envoy_launch(
            binary=Path("/bin/envoy"),
            config_path=Path("/tmp/e.yaml"),
            gateway_port=1,
            admin_port=2,
            workers=0,
        )


def argv_value(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            json.dumps({"pid": 1, "servers": ["127.0.0.1:1"], "model": "m"}),
            (["127.0.0.1:1"], ""),
        ),
        (
            json.dumps({"servers": ["127.0.0.1:1"], "admin": "127.0.0.1:2"}),
            (["127.0.0.1:1"], "http://127.0.0.1:2"),
        ),
        ('{"pid": 1, "serv', None),
        (json.dumps({"pid": 1}), None),
        (json.dumps({"servers": [1, 2]}), None),
        (json.dumps(["127.0.0.1:1"]), None),
    ],
    ids=["complete", "with-admin", "partial", "no-servers", "not-strings", "not-an-object"],
)
def test_read_ready_file(
    content: str, expected: tuple[list[str], str] | None, tmp_path: Path
) -> None:
    path = tmp_path / "ready.json"
    path.write_text(content)
    assert _read_ready_file(path) == expected


def test_read_ready_file_missing(tmp_path: Path) -> None:
    assert _read_ready_file(tmp_path / "nope.json") is None


@pytest.mark.parametrize(
    ("workers", "names"),
    [(1, []), (3, ["picker-w1", "picker-w2"])],
    ids=["one-worker", "three-workers"],
)
def test_picker_worker_parts(workers: int, names: list[str]) -> None:
    parts = picker_worker_parts(admin_base=9100, workers=workers)
    assert [p.name for p in parts] == names
    assert [p.health_url for p in parts] == [
        f"http://127.0.0.1:{9100 + i}/readyz" for i in range(1, workers)
    ]
    assert {p.process for p in parts} <= {"picker"}
