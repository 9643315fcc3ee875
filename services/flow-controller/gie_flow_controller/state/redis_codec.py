"""Turning the JSON answers of the Lua scripts into model values."""

from __future__ import annotations

from typing import Any

import orjson

from gie.flowcontrol import FlowKey, Outcome
from gie_flow_controller.errors import LayoutChangedError, StoreError
from gie_flow_controller.model import (
    Admission,
    AdmitStatus,
    BandView,
    DispatchResult,
    DispatchStatus,
    Finished,
    FlowQueue,
    QueuedRequest,
    ShardSnapshot,
)


def parse(reply: object) -> dict[str, Any]:
    if not isinstance(reply, bytes | str):
        raise StoreError(f"unexpected script reply {reply!r}")
    value = orjson.loads(reply)
    if not isinstance(value, dict):
        raise StoreError(f"unexpected script reply {reply!r}")
    return value


def items(value: object) -> list[Any]:
    """A Lua array; cjson encodes an empty one as ``{}``."""
    return value if isinstance(value, list) else []


def finished(note: dict[str, Any]) -> Finished:
    return Finished(
        request_id=str(note["rid"]),
        flow=FlowKey(str(note["fid"]), int(note["prio"])),
        outcome=Outcome(note["outcome"]),
        reason=str(note.get("reason", "")),
        shard=int(note["shard"]),
        enqueued_ms=int(note["enq"]),
        finished_ms=int(note["fin"]),
    )


def admission(reply: dict[str, Any], request_id: str, *, shards: int) -> Admission:
    if reply["status"] == "layout":
        raise LayoutChangedError.between(int(reply["shards"]), shards)
    status = AdmitStatus(reply["status"])
    if status is AdmitStatus.QUEUED:
        displaced = tuple(finished(note) for note in items(reply.get("displaced")))
        return Admission(
            status, request_id, int(reply["shard"]), int(reply["enq"]), None, displaced
        )
    note = reply["request"]
    done = finished(note) if note.get("outcome") else None
    return Admission(status, request_id, int(note["shard"]), int(note["enq"]), done)


def snapshot(shard: int, reply: dict[str, Any]) -> ShardSnapshot:
    top = reply.get("pool_top")
    pool_top = int(top) if top is not None else None
    if "priority" not in reply:
        return ShardSnapshot(shard, None, pool_top)
    priority = int(reply["priority"])
    queues = []
    for flow in items(reply.get("flows")):
        key = FlowKey(str(flow["fid"]), priority)
        head = tuple(
            QueuedRequest(
                request_id=str(rid),
                flow=key,
                enqueued_ms=int(enq),
                byte_size=int(size),
                input_tokens=int(tin),
                output_tokens=int(tout),
                expires_ms=int(exp),
                candidates=tuple(orjson.loads(cands)),
            )
            for rid, enq, size, tin, tout, exp, cands in items(flow.get("items"))
        )
        queues.append(
            FlowQueue(key, int(flow["queued"]), int(flow["qbytes"]), float(flow["vtc"]), head)
        )
    cursor = reply.get("cursor")
    return ShardSnapshot(shard, BandView(priority, tuple(queues), cursor), pool_top)


def dispatch(reply: dict[str, Any]) -> DispatchResult:
    status = DispatchStatus(reply["status"])
    if status is not DispatchStatus.DISPATCHED:
        return DispatchResult(status)
    return DispatchResult(status, finished(reply["request"]), float(reply["charge"]))
