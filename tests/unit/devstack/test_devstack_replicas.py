"""Replicas of every service in the local stack, and the pool's failureMode in Envoy."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gie_cli import stack_commands
from gie_cli.app import app
from gie_cli.devstack import FailureMode, StackOptions, build_envoy_config, find_envoy
from gie_cli.devstack.parts import picker_worker_parts
from gie_cli.devstack.stack import _Ports


def _picker_ports(config: dict[str, Any]) -> list[int]:
    (cluster,) = [c for c in config["static_resources"]["clusters"] if c["name"] == "gie_picker"]
    hosts = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    return [h["endpoint"]["address"]["socket_address"]["port_value"] for h in hosts]


def _hcm(config: dict[str, Any]) -> dict[str, Any]:
    hcm: dict[str, Any] = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][
        0
    ]["typed_config"]
    return hcm


@pytest.mark.parametrize(("pickers", "workers"), [(1, 1), (2, 1), (2, 3), (3, 2)])
def test_envoy_lists_every_worker_of_every_picker_replica(pickers: int, workers: int) -> None:
    ports = _Ports.allocate(
        picker_workers=workers, flow_controllers=1, replicas={"picker": pickers}
    )
    assert len(ports.pickers) == pickers
    listed = ports.ext_proc
    assert len(listed) == pickers * workers
    config = build_envoy_config(
        gateway_port=1, admin_port=2, picker_grpc_port=ports.picker_grpc, picker_worker_ports=listed
    )
    assert _picker_ports(config) == listed
    for picker in ports.pickers:  # one worker: its shared port; more: each worker's own
        assert set(picker.ext_proc) <= set(listed)
        assert picker.ext_proc == (picker.workers if workers > 1 else [picker.grpc])


def test_every_replica_of_every_service_gets_its_own_ports() -> None:
    ports = _Ports.allocate(
        picker_workers=2,
        flow_controllers=2,
        replicas={"picker": 2, "metrics-collector": 3, "ingest": 2},
    )
    assert set(ports.admin) == {
        "ingest",
        "ingest-1",
        "metrics-collector",
        "metrics-collector-1",
        "metrics-collector-2",
        "flow-controller",
        "flow-controller-1",
        "picker",
        "picker-1",
    }
    # A picker replica's workers serve their admin API on its admin port + index.
    admin = [*ports.admin.values(), *(p.admin + 1 for p in ports.pickers)]
    every = [ports.nats, ports.nats_monitor, ports.redis, ports.gateway, ports.envoy_admin]
    every += [*ports.flow_control, *admin, *(p.grpc for p in ports.pickers), *ports.ext_proc]
    assert len(set(every)) == len(every)


def test_picker_worker_parts_are_named_after_their_replica() -> None:
    parts = picker_worker_parts(process="picker-1", admin_base=9000, workers=3)
    assert [(p.name, p.process) for p in parts] == [
        ("picker-1-w1", "picker-1"),
        ("picker-1-w2", "picker-1"),
    ]
    assert [p.addresses["admin"] for p in parts] == [
        "http://127.0.0.1:9001",
        "http://127.0.0.1:9002",
    ]
    assert [p.name for p in picker_worker_parts(admin_base=9000, workers=2)] == ["picker-w1"]


@pytest.mark.parametrize("field", ["pickers", "collectors", "ingests", "flow_controllers"])
def test_zero_replicas_is_an_error_naming_the_field(field: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"StackOptions.{field} must be >= 1"):
        StackOptions(state_dir=tmp_path, **{field: 0})  # type: ignore[arg-type]


def test_fail_open_needs_a_pool_to_fall_back_to(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="failure_mode FailOpen"):
        StackOptions(
            state_dir=tmp_path, failure_mode=FailureMode.FAIL_OPEN, upstream="original-dst"
        )


@pytest.mark.parametrize(
    ("mode", "allow"), [(FailureMode.FAIL_CLOSE, False), (FailureMode.FAIL_OPEN, True)]
)
def test_failure_mode_sets_failure_mode_allow(mode: FailureMode, allow: bool) -> None:
    config = build_envoy_config(gateway_port=1, admin_port=2, picker_grpc_port=3, failure_mode=mode)
    ext_proc = next(f for f in _hcm(config)["http_filters"] if "ext_proc" in f["name"])
    assert ext_proc["typed_config"]["failure_mode_allow"] is allow


def test_a_failed_picker_stream_is_answered_503_with_a_json_body() -> None:
    config = build_envoy_config(gateway_port=1, admin_port=2, picker_grpc_port=3)
    (mapper,) = _hcm(config)["local_reply_config"]["mappers"]
    assert mapper["status_code"] == 503
    expression = mapper["filter"]["extension_filter"]["typed_config"]["expression"]
    assert "ext_proc_error" in expression
    error = mapper["body_format_override"]["json_format"]["error"]
    assert error["type"] == "picker_unavailable"


def test_a_stream_reset_by_a_dead_picker_is_retried_on_another() -> None:
    config = build_envoy_config(gateway_port=1, admin_port=2, picker_grpc_port=3)
    ext_proc = next(f for f in _hcm(config)["http_filters"] if "ext_proc" in f["name"])
    policy = ext_proc["typed_config"]["grpc_service"]["retry_policy"]
    assert {"connect-failure", "reset"} <= set(policy["retry_on"].split(","))
    assert policy["num_retries"] >= 1


def test_no_panic_routing_to_unhealthy_pickers() -> None:
    # With every picker unhealthy, Envoy must fail the stream at once (not try them).
    config = build_envoy_config(gateway_port=1, admin_port=2, picker_grpc_port=3)
    (cluster,) = [c for c in config["static_resources"]["clusters"] if c["name"] == "gie_picker"]
    assert cluster["common_lb_config"] == {"healthy_panic_threshold": {"value": 0}}


@pytest.mark.integration
@pytest.mark.parametrize("mode", list(FailureMode), ids=lambda m: m.value)
def test_envoy_accepts_the_config_in_each_failure_mode(mode: FailureMode, tmp_path: Path) -> None:
    config = build_envoy_config(
        gateway_port=18080,
        admin_port=18081,
        picker_grpc_port=18082,
        picker_worker_ports=[18083, 18084, 18085, 18086],
        pool_endpoints=["127.0.0.1:8001", "127.0.0.1:8002"],
        failure_mode=mode,
    )
    config_file = tmp_path / "envoy.yaml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run(
        [str(find_envoy()), "--mode", "validate", "-c", str(config_file), "--disable-hot-restart"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gie_up_passes_replica_counts_and_failure_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[StackOptions] = []

    async def fake_up(options: StackOptions, *, detach: bool) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(stack_commands, "_up", fake_up)
    args = ["up", "--pickers", "2", "--collectors", "3", "--ingests", "2"]
    args += ["--failure-mode", "FailOpen", "--detach", "--state-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (options,) = seen
    assert options.replicas == {
        "ingest": 2,
        "metrics-collector": 3,
        "flow-controller": 1,
        "picker": 2,
    }
    assert options.failure_mode is FailureMode.FAIL_OPEN


@pytest.mark.parametrize("option", ["--pickers", "--collectors", "--ingests"])
def test_gie_up_refuses_zero_replicas(option: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["up", option, "0", "--state-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert option in result.output


def test_gie_up_refuses_an_unknown_failure_mode(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["up", "--failure-mode", "Sometimes", "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--failure-mode" in result.output
