"""The committed gRPC stubs of flow_control.proto declare what the generator produces now.

Generator releases stamp their own version into the stubs; only what the stubs declare
(descriptor, RPC methods, typed names) decides whether they are current.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gie.flowcontrol import codegen
from gie.flowcontrol.v1 import flow_control_pb2 as pb
from gie_flow_controller.api import SERVICE_NAME


@pytest.fixture(scope="module")
def fresh() -> dict[str, str]:
    return codegen.generate()


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_committed_stubs_are_current() -> None:
    target = Path(codegen.__file__).parent / "v1"
    assert codegen.stale_files(target) == [], "run: python -m gie.flowcontrol.codegen"


def test_a_changed_stub_is_reported_stale(tmp_path: Path, fresh: dict[str, str]) -> None:
    _write(tmp_path, fresh)
    (tmp_path / "flow_control_pb2.py").write_text("# edited by hand\n")
    assert codegen.stale_files(tmp_path) == ["flow_control_pb2.py"]


def test_stubs_from_another_generator_release_are_current(
    tmp_path: Path, fresh: dict[str, str]
) -> None:
    other = dict(fresh)
    other["flow_control_pb2_grpc.py"] = re.sub(
        r"GRPC_GENERATED_VERSION = '[^']+'",
        "GRPC_GENERATED_VERSION = '1.70.0'",
        fresh["flow_control_pb2_grpc.py"],
    )
    other["flow_control_pb2.py"] = re.sub(
        r"Protobuf Python Version: \S+",
        "Protobuf Python Version: 6.31.1",
        fresh["flow_control_pb2.py"],
    ).replace("# -*- coding: utf-8 -*-\n", "")
    assert other != fresh
    assert codegen.stale_files(_write(tmp_path, other)) == []


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        pytest.param("flow_control_pb2.py", "served_by", "served_at", id="renamed-field"),
        pytest.param(
            "flow_control_pb2_grpc.py", "FlowControl/Admit", "FlowControl/Enter", id="renamed-rpc"
        ),
        pytest.param("flow_control_pb2.pyi", "def __init__(", "def __new__(", id="typed-method"),
    ],
)
def test_a_stub_that_declares_something_else_is_stale(
    tmp_path: Path, fresh: dict[str, str], name: str, old: str, new: str
) -> None:
    changed = dict(fresh)
    assert old in fresh[name]
    changed[name] = fresh[name].replace(old, new)
    assert codegen.stale_files(_write(tmp_path, changed)) == [name]


def test_the_servicer_serves_the_service_the_proto_declares() -> None:
    (service,) = pb.DESCRIPTOR.services_by_name.values()
    assert service.full_name == SERVICE_NAME == "gie.flowcontrol.v1.FlowControl"
    assert [method.name for method in service.methods] == ["Admit"]
