"""A replica whose shardCount is not the flow state's: its Admit answers UNAVAILABLE
naming both counts (the client retries another replica), and it reports it."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from gie.flowcontrol import AdmitRequest, FlowKey
from gie.flowcontrol.v1 import flow_control_pb2_grpc as pb_grpc
from gie_flow_controller.api.servicer import FlowControlServicer
from gie_flow_controller.errors import LayoutChangedError


class OldLayout:
    """The admitter of a replica laid out in 4 shards while the state has 2."""

    async def admit(self, admit: AdmitRequest, *, deadline_ms: int | None) -> Any:
        raise LayoutChangedError.between(2, 4)


async def test_an_admit_on_the_old_layout_is_unavailable_and_reported() -> None:
    reported: list[str] = []
    servicer = FlowControlServicer(
        OldLayout(),  # type: ignore[arg-type]
        pool="ns/pool",
        on_layout_changed=reported.append,
    )
    server = grpc.aio.server()
    pb_grpc.add_FlowControlServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.FlowControlStub(channel)
            message = AdmitRequest("r", FlowKey("t", 0), pool="ns/pool").to_proto()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Admit(message, timeout=5)
    finally:
        await server.stop(None)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert "laid out in 2 shards and this replica in 4" in (caught.value.details() or "")
    assert reported == [caught.value.details()]
