"""Several flow-controller replicas in the local stack: names, ports, options."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gie_cli import stack_commands
from gie_cli.app import app
from gie_cli.devstack import StackOptions
from gie_cli.devstack.parts import replica_name, service_launch
from gie_cli.devstack.stack import _Ports


@pytest.mark.parametrize(
    ("replica", "name", "instance"),
    [
        pytest.param(0, "flow-controller", "flow-controller-0", id="first-keeps-plain-name"),
        pytest.param(1, "flow-controller-1", "flow-controller-1", id="second"),
        pytest.param(3, "flow-controller-3", "flow-controller-3", id="fourth"),
    ],
)
def test_each_replica_is_its_own_process_part_and_instance(
    replica: int, name: str, instance: str
) -> None:
    launch = service_launch(
        "flow-controller",
        nats_url="nats://127.0.0.1:4222",
        pool="ns/pool",
        admin_port=9200 + replica,
        env={"GIE_GRPC_PORT": str(9300 + replica)},
        addresses={"grpc": f"127.0.0.1:{9300 + replica}"},
        replica=replica,
    )
    assert launch.process == name
    assert launch.env["GIE_INSTANCE_ID"] == instance
    assert launch.env["GIE_GRPC_PORT"] == str(9300 + replica)
    (part,) = launch.parts
    assert (part.name, part.process) == (name, name)
    assert part.addresses == {
        "admin": f"http://127.0.0.1:{9200 + replica}",
        "grpc": f"127.0.0.1:{9300 + replica}",
    }
    assert replica_name("flow-controller", replica) == name


def test_a_negative_replica_is_refused() -> None:
    with pytest.raises(ValueError, match="replica"):
        service_launch("flow-controller", nats_url="", pool="a/b", admin_port=1, env={}, replica=-1)


@pytest.mark.parametrize("replicas", [1, 2, 3])
def test_every_replica_gets_distinct_grpc_and_admin_ports(replicas: int) -> None:
    ports = _Ports.allocate(picker_workers=2, flow_controllers=replicas)
    assert len(ports.flow_control) == replicas
    flow_admin = [ports.admin[replica_name("flow-controller", i)] for i in range(replicas)]
    singles = [ports.nats, ports.nats_monitor, ports.redis, ports.picker_grpc, ports.gateway]
    every = [*singles, ports.envoy_admin, *ports.flow_control, *ports.admin.values()]
    every += ports.picker_workers
    assert len(set(every)) == len(every)
    assert set(flow_admin) <= set(ports.admin.values())


def test_zero_flow_controllers_is_an_error_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="flow_controllers"):
        StackOptions(state_dir=tmp_path, flow_controllers=0)


def test_gie_up_passes_the_flow_controller_count_to_the_stack(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[StackOptions] = []

    async def fake_up(options: StackOptions, *, detach: bool) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(stack_commands, "_up", fake_up)
    result = CliRunner().invoke(
        app, ["up", "--flow-controllers", "2", "--detach", "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert [options.flow_controllers for options in seen] == [2]


def test_gie_up_refuses_zero_flow_controllers(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["up", "--flow-controllers", "0", "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--flow-controllers" in result.output
