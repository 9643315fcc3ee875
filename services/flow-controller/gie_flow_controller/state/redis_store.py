"""RedisFlowStore: the flow state in Redis, every change one atomic Lua script.

All keys of a pool share the hash tag ``{gie:<pool>}`` (one cluster slot). Redis errors
are translated to :class:`~gie_flow_controller.errors.StoreError` here; nothing above
this adapter sees a redis-py exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gie.flowcontrol import FlowKey, Outcome
from gie_flow_controller.errors import ShardLayoutError, StoreError
from gie_flow_controller.model import (
    Admission,
    DispatchResult,
    Finished,
    Limits,
    Room,
    ShardSnapshot,
    Ticket,
    TokenWeights,
)
from gie_flow_controller.state import redis_codec as codec
from gie_flow_controller.state.contracts import Collected, FlowStats, StoreSettings
from gie_flow_controller.state.keys import PoolKeys
from gie_flow_controller.state.scripts import register_scripts

_Arg = str | int | float | bytes
_FIELDS = ("fid", "prio", "shard", "outcome", "reason", "enq", "fin")


class RedisFlowStore:
    """The flow state of one pool in Redis (implements ``FlowStore``)."""

    def __init__(self, client: Redis, pool: str, *, settings: StoreSettings | None = None) -> None:
        self.keys = PoolKeys(pool)
        self.settings = settings or StoreSettings()
        self._client = client
        self._scripts = register_scripts(client)

    async def _run(self, name: str, *args: _Arg) -> Any:
        try:
            return await self._scripts[name](keys=[self.keys.meta], args=[self.keys.prefix, *args])
        except (RedisError, OSError) as exc:
            raise StoreError(f"flow state {name} failed: {exc}") from exc

    async def _json(self, name: str, *args: _Arg) -> dict[str, Any]:
        return codec.parse(await self._run(name, *args))

    async def check_layout(self, shards: int) -> None:
        reply = await self._json("layout", shards)
        if not reply.get("ok"):
            raise ShardLayoutError(
                f"shardCount is {shards} but requests are queued on {reply.get('current')} "
                "shards; drain the queues (or keep the old count) before changing it"
            )

    async def admit(self, ticket: Ticket, limits: Limits, *, shards: int, now_ms: int) -> Admission:
        s = self.settings
        reply = await self._json(
            "admit",
            ticket.request_id,
            ticket.flow.fairness_id,
            ticket.flow.priority,
            ticket.byte_size,
            ticket.input_tokens,
            ticket.output_tokens,
            ticket.expires_ms,
            orjson.dumps(list(ticket.candidates)),
            ticket.objective,
            now_ms,
            shards,
            limits.band_max_bytes,
            limits.band_max_requests,
            limits.pool_max_bytes,
            limits.pool_max_requests,
            s.flow_idle_ms,
            s.outcome_keep_ms,
            s.max_victims,
        )
        return codec.admission(reply, ticket.request_id, shards=shards)

    async def snapshot(self, shard: int, *, window: int) -> ShardSnapshot:
        return codec.snapshot(shard, await self._json("snapshot", shard, window))

    async def dispatch(
        self,
        shard: int,
        owner: str,
        request_id: str,
        weights: TokenWeights,
        *,
        now_ms: int,
        room: Room | None = None,
    ) -> DispatchResult:
        keep_ms = self.settings.inflight_ttl_ms + self.settings.outcome_keep_ms
        room = room or Room.unlimited()
        reply = await self._json(
            "dispatch",
            shard,
            owner,
            request_id,
            now_ms,
            repr(weights.input),
            repr(weights.output),
            keep_ms,
            -1 if room.slots is None else room.slots,
            room.since_ms,
            self.settings.flow_idle_ms,
        )
        return codec.dispatch(reply)

    async def expire(self, shard: int, *, now_ms: int, limit: int = 100) -> list[Finished]:
        s = self.settings
        reply = await self._json("expire", shard, now_ms, limit, s.flow_idle_ms, s.outcome_keep_ms)
        return [codec.finished(note) for note in codec.items(reply.get("evicted"))]

    async def cancel(self, request_id: str, *, now_ms: int) -> Finished | None:
        s = self.settings
        reply = await self._json("cancel", request_id, now_ms, s.flow_idle_ms, s.outcome_keep_ms)
        return codec.finished(reply["request"]) if reply["status"] == "cancelled" else None

    async def complete(
        self,
        request_id: str,
        *,
        input_tokens: int | None,
        output_tokens: int | None,
        now_ms: int,
    ) -> bool:
        s = self.settings
        done = await self._run(
            "complete",
            request_id,
            -1 if input_tokens is None else input_tokens,
            -1 if output_tokens is None else output_tokens,
            now_ms,
            s.flow_idle_ms,
            s.outcome_keep_ms,
        )
        return bool(done)

    async def outcomes(self, request_ids: Sequence[str]) -> dict[str, Finished]:
        if not request_ids:
            return {}
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for rid in request_ids:
                    pipe.hmget(self.keys.request(rid), list(_FIELDS))
                rows = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StoreError(f"reading outcomes failed: {exc}") from exc
        found: dict[str, Finished] = {}
        for rid, row in zip(request_ids, rows, strict=True):
            fid, prio, shard, outcome, reason, enq, fin = (
                value.decode() if isinstance(value, bytes) else value for value in row
            )
            if outcome:
                found[rid] = Finished(
                    rid,
                    FlowKey(fid, int(prio)),
                    Outcome(outcome),
                    reason or "",
                    int(shard),
                    int(float(enq)),
                    int(float(fin)),
                )
        return found

    async def unknown(self, request_ids: Sequence[str]) -> set[str]:
        if not request_ids:
            return set()
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for rid in request_ids:
                    pipe.exists(self.keys.request(rid))
                found = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StoreError(f"reading requests failed: {exc}") from exc
        return {rid for rid, exists in zip(request_ids, found, strict=True) if not exists}

    async def collect(self, *, now_ms: int, limit: int = 1000) -> Collected:
        s = self.settings
        reply = await self._json(
            "collect", now_ms, s.inflight_ttl_ms, s.flow_idle_ms, s.outcome_keep_ms, limit
        )
        return Collected(int(reply["inflight"]), int(reply["flows"]))

    async def shard_stats(self, shard: int) -> list[FlowStats]:
        reply = await self._json("stats", shard)
        return [
            FlowStats(FlowKey(str(fid), int(prio)), int(queued), int(qbytes))
            for fid, prio, queued, qbytes in codec.items(reply.get("flows"))
        ]

    async def flow_count(self) -> int:
        reply = await self._json("stats", -1)
        return int(reply["live"])

    async def _lease(self, op: str, target: _Arg, owner: str, ttl_ms: int, now_ms: int) -> int:
        return int(await self._run("leases", op, target, owner, ttl_ms, now_ms))

    async def claim(self, shard: int, owner: str, *, ttl_ms: int, now_ms: int) -> bool:
        return await self._lease("claim", shard, owner, ttl_ms, now_ms) == 1

    async def renew(self, shard: int, owner: str, *, ttl_ms: int, now_ms: int) -> bool:
        return await self._lease("renew", shard, owner, ttl_ms, now_ms) == 1

    async def release(self, shard: int, owner: str) -> bool:
        return await self._lease("release", shard, owner, 0, 0) == 1

    async def heartbeat(self, member: str, *, ttl_ms: int, now_ms: int) -> int:
        return await self._lease("heartbeat", member, "", ttl_ms, now_ms)
