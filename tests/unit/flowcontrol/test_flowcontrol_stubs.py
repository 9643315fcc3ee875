"""The committed gRPC stubs of flow_control.proto are what the generator produces now."""

from __future__ import annotations

from pathlib import Path

from gie.flowcontrol import codegen
from gie.flowcontrol.v1 import flow_control_pb2 as pb
from gie_flow_controller.api import SERVICE_NAME


def test_committed_stubs_are_current() -> None:
    target = Path(codegen.__file__).parent / "v1"
    assert codegen.stale_files(target) == [], "run: python -m gie.flowcontrol.codegen"


def test_a_changed_stub_is_reported_stale(tmp_path: Path) -> None:
    for name, text in codegen.generate().items():
        (tmp_path / name).write_text(text)
    (tmp_path / "flow_control_pb2.py").write_text("# edited by hand\n")
    assert codegen.stale_files(tmp_path) == ["flow_control_pb2.py"]


def test_the_servicer_serves_the_service_the_proto_declares() -> None:
    (service,) = pb.DESCRIPTOR.services_by_name.values()
    assert service.full_name == SERVICE_NAME == "gie.flowcontrol.v1.FlowControl"
    assert [method.name for method in service.methods] == ["Admit"]
