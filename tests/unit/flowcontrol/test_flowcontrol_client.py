"""FlowControlClient against hand-written FlowControl servers on loopback ports."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest

from gie.flowcontrol import (
    AdmitRequest,
    FlowControlClient,
    FlowControlUnavailableError,
    FlowKey,
    InvalidAdmitRequestError,
    Outcome,
)
from gie.flowcontrol.v1 import flow_control_pb2 as pb
from gie.flowcontrol.v1 import flow_control_pb2_grpc as pb_grpc
from gie_cli.devstack.ports import free_port

Context = grpc.aio.ServicerContext[pb.AdmitRequest, pb.AdmitResponse]


@dataclass
class FakeReplica(pb_grpc.FlowControlServicer):
    """Answers DISPATCHED, or fails every call with ``fail_with``; records request ids."""

    name: str
    fail_with: grpc.StatusCode | None = None
    seen: list[str] = field(default_factory=list)

    async def Admit(self, request: pb.AdmitRequest, context: Context) -> pb.AdmitResponse:
        self.seen.append(request.request_id)
        if self.fail_with is not None:
            await context.abort(self.fail_with, f"{self.name} says no")
        return pb.AdmitResponse(
            outcome=pb.OUTCOME_DISPATCHED, reason="", queued_ms=1500, served_by=self.name
        )


@contextlib.asynccontextmanager
async def serving(*replicas: FakeReplica) -> AsyncIterator[list[str]]:
    servers, targets = [], []
    for replica in replicas:
        server = grpc.aio.server()
        pb_grpc.add_FlowControlServicer_to_server(replica, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        servers.append(server)
        targets.append(f"127.0.0.1:{port}")
    try:
        yield targets
    finally:
        for server in servers:
            await server.stop(None)


def request(rid: str = "req-1") -> AdmitRequest:
    return AdmitRequest(rid, FlowKey("t", 0), byte_size=3, candidates=("10.0.0.1:80",))


async def test_a_failing_replica_is_skipped_and_the_same_id_retried() -> None:
    down = FakeReplica("down", grpc.StatusCode.UNAVAILABLE)
    up = FakeReplica("up")
    async with serving(down, up) as targets, FlowControlClient(targets) as client:
        first = await client.admit(request("r1"))
        second = await client.admit(request("r2"))
    assert (first.outcome, first.served_by, first.queued_s) == (Outcome.DISPATCHED, "up", 1.5)
    assert second.served_by == "up"
    assert up.seen == ["r1", "r2"]
    assert down.seen == ["r1"]  # the first choice rotates: r2 went to "up" first


async def test_a_replica_that_does_not_listen_is_skipped() -> None:
    up = FakeReplica("up")
    async with (
        serving(up) as targets,
        FlowControlClient([f"127.0.0.1:{free_port()}", *targets]) as client,
    ):
        result = await client.admit(request())
    assert result.served_by == "up"


async def test_no_replica_answering_is_reported_after_the_rounds() -> None:
    replicas = [FakeReplica(n, grpc.StatusCode.UNAVAILABLE) for n in ("a", "b")]
    async with (
        serving(*replicas) as targets,
        FlowControlClient(targets, max_rounds=3, backoff_s=0.001) as client,
    ):
        with pytest.raises(FlowControlUnavailableError, match="says no"):
            await client.admit(request())
    assert [len(r.seen) for r in replicas] == [3, 3]


async def test_a_malformed_request_is_not_retried() -> None:
    picky = FakeReplica("picky", grpc.StatusCode.INVALID_ARGUMENT)
    other = FakeReplica("other")
    async with serving(picky, other) as targets, FlowControlClient(targets) as client:
        with pytest.raises(InvalidAdmitRequestError, match="picky says no"):
            await client.admit(request())
    assert other.seen == []
