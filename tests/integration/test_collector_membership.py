"""Collector membership (NATS KV) on a real nats-server, when the bucket holds keys no
replica wrote and when its watch never says the initial values are all delivered."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.kv import KeyValue
from prometheus_client import CollectorRegistry

from gie.clock import SystemClock
from gie.events.subjects import escape_token
from gie_cli.devstack.ports import free_port
from gie_metrics_collector.errors import MembershipError
from gie_metrics_collector.ha import KvMembership
from tests.support.logs import captured_logs
from tests.support.servers import nats_server

pytestmark = pytest.mark.integration

HEARTBEAT_S = 0.5
LOGGER = "gie.metrics_collector.ha"
MALFORMED = "gie_collector_membership_malformed_keys_total"
SYNC_TIMEOUTS = "gie_collector_membership_sync_timeouts_total"


def names() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"it/members-{suffix}", f"it-members-{suffix}"


def member(
    nats_url: str,
    pool: str,
    bucket: str,
    me: str,
    *,
    registry: CollectorRegistry,
    sync_timeout_s: float = 10.0,
) -> KvMembership:
    return KvMembership(
        nats_url=nats_url,
        bucket=bucket,
        pool=pool,
        me=me,
        heartbeat_s=HEARTBEAT_S,
        clock=SystemClock(),
        registry=registry,
        sync_timeout_s=sync_timeout_s,
    )


async def until(check: Any, what: str, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout_s}s: {what}")


async def test_a_malformed_key_is_logged_counted_and_does_not_break_membership(
    nats_url: str,
) -> None:
    pool, bucket = names()
    prefix = escape_token(pool)
    registry = CollectorRegistry()
    with captured_logs(LOGGER) as logs:
        async with member(nats_url, pool, bucket, "a", registry=registry) as a:
            nc = await nats.connect(nats_url)
            try:
                kv = await nc.jetstream().key_value(bucket)
                await kv.put(f"{prefix}.bad_ZZ", b"{}")  # not an escaped instance name
                await kv.put(f"{prefix}.two.tokens", b"{}")
            finally:
                await nc.close()
            async with member(nats_url, pool, bucket, "b", registry=CollectorRegistry()):
                await until(lambda: a.members == {"a", "b"}, "the second replica seen")
            await until(lambda: a.members == {"a"}, "the second replica gone")
            await until(lambda: registry.get_sample_value(MALFORMED) == 2, "both keys counted")
    skipped = [e for e in logs if e["event"] == "malformed membership key skipped"]
    assert {e["key"] for e in skipped} >= {f"{prefix}.bad_ZZ", f"{prefix}.two.tokens"}
    assert all(e["level"] == "warning" and e["bucket"] == bucket for e in skipped)
    assert all(e["error"] for e in skipped)


class _Watcher:
    """A real KV watcher whose "initial values delivered" marker never arrives, or that
    fails when first read (``broken``)."""

    def __init__(self, watcher: KeyValue.KeyWatcher, *, broken: bool) -> None:
        self._watcher = watcher
        self._broken = broken

    def __aiter__(self) -> _Watcher:
        return self

    async def __anext__(self) -> KeyValue.Entry:
        if self._broken:
            raise RuntimeError("watch broke")
        while True:
            entry: KeyValue.Entry | None = await self._watcher.__anext__()  # type: ignore[no-untyped-call]
            if entry is not None:
                return entry

    async def stop(self) -> None:
        await self._watcher.stop()  # type: ignore[no-untyped-call]


def _patch_watch(monkeypatch: pytest.MonkeyPatch, *, broken: bool) -> None:
    watch = KeyValue.watch

    async def patched(self: KeyValue, keys: str, **kwargs: Any) -> _Watcher:
        return _Watcher(await watch(self, keys, **kwargs), broken=broken)

    monkeypatch.setattr(KeyValue, "watch", patched)


@pytest.fixture
def no_initial_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch_watch(monkeypatch, broken=False)


@pytest.fixture
def broken_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch_watch(monkeypatch, broken=True)


async def test_the_initial_sync_wait_ends_at_its_timeout_and_membership_goes_on(
    nats_url: str, no_initial_marker: None
) -> None:
    pool, bucket = names()
    registry = CollectorRegistry()
    with captured_logs(LOGGER) as logs:
        started = time.monotonic()
        a = member(nats_url, pool, bucket, "a", registry=registry, sync_timeout_s=0.5)
        await asyncio.wait_for(a.__aenter__(), 10)
        try:
            assert 0.5 <= time.monotonic() - started < 5
            assert registry.get_sample_value(SYNC_TIMEOUTS) == 1
            assert a.members == {"a"}
            b = member(
                nats_url, pool, bucket, "b", registry=CollectorRegistry(), sync_timeout_s=0.5
            )
            async with b:  # the watch keeps running: each sees the other
                await until(lambda: a.members == b.members == {"a", "b"}, "both replicas seen")
        finally:
            await asyncio.wait_for(a.__aexit__(None, None, None), 10)
    (entry,) = [e for e in logs if e["event"] == "membership not synced in time" and e["me"] == "a"]
    assert entry["level"] == "warning"
    assert entry["bucket"] == bucket and entry["timeout_s"] == 0.5


async def test_a_watch_that_ends_before_the_sync_fails_entering_at_once(
    nats_url: str, broken_watch: None
) -> None:
    pool, bucket = names()
    started = time.monotonic()
    a = member(nats_url, pool, bucket, "a", registry=CollectorRegistry(), sync_timeout_s=30)
    with pytest.raises(MembershipError, match="watch broke"):
        await asyncio.wait_for(a.__aenter__(), 10)
    assert time.monotonic() - started < 5  # not the sync timeout


async def test_a_newcomer_does_not_count_a_dead_peers_leftover_key_as_live(
    nats_url: str,
) -> None:
    """A replica died; within the bucket's TTL a new one starts. Its first split must
    leave the dead one out, as the survivors do (else some endpoints have no owner)."""
    pool, bucket = names()
    async with member(nats_url, pool, bucket, "survivor", registry=CollectorRegistry()) as s:
        nc = await nats.connect(nats_url)
        try:
            kv = await nc.jetstream().key_value(bucket)
            await kv.put(f"{escape_token(pool)}.dead", b'{"instance": "dead", "heartbeat_s": 0.5}')
        finally:
            await nc.close()
        await until(lambda: s.members == {"survivor", "dead"}, "the last put seen")
        await until(lambda: s.members == {"survivor"}, "the dead replica dropped")
        # Its key is still in the bucket (TTL: 3 heartbeats) when the newcomer starts.
        async with member(nats_url, pool, bucket, "newcomer", registry=CollectorRegistry()) as n:
            assert n.members == {"survivor", "newcomer"}


async def test_a_peer_with_a_slower_heartbeat_is_not_dropped_between_its_puts(
    nats_url: str,
) -> None:
    """During a rolling change of GIE_MEMBERSHIP_HEARTBEAT_S a peer putting every 1 s
    must stay a member of a replica that puts every 0.5 s."""
    pool, bucket = names()
    async with member(nats_url, pool, bucket, "fast", registry=CollectorRegistry()) as fast:
        nc = await nats.connect(nats_url)
        try:
            kv = await nc.jetstream().key_value(bucket)
            key, value = f"{escape_token(pool)}.slow", b'{"instance": "slow", "heartbeat_s": 1.0}'
            await kv.put(key, value)
            await until(lambda: fast.members == {"fast", "slow"}, "the slow peer seen")
            changes: list[frozenset[str]] = []
            fast.on_change(changes.append)
            for _ in range(4):  # within its heartbeat, beyond 1.5 of ours
                await asyncio.sleep(0.8)
                await kv.put(key, value)
            assert changes == []  # never dropped and re-added
        finally:
            await nc.close()


async def test_a_deleted_bucket_is_made_again_and_the_replicas_find_each_other(
    nats_url: str,
) -> None:
    """The bucket has one replica (deploy.md: rebuilt, not kept): lost with its node or
    deleted, the running replicas make it again and watch it anew, instead of each
    owning every endpoint until restarted."""
    pool, bucket = names()
    registry = CollectorRegistry()
    async with (
        member(nats_url, pool, bucket, "a", registry=registry) as a,
        member(nats_url, pool, bucket, "b", registry=CollectorRegistry()) as b,
    ):
        await until(lambda: a.members == b.members == {"a", "b"}, "both see both")
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_key_value(bucket)
            await until(
                lambda: (
                    registry.get_sample_value(
                        "gie_collector_membership_recoveries_total", {"what": "watch"}
                    )
                    is not None
                ),
                "the watch re-created",
                timeout_s=10.0,
            )
            await until(lambda: a.members == b.members == {"a", "b"}, "both see both again", 10.0)
            await asyncio.sleep(4 * HEARTBEAT_S)  # and go on seeing each other
            assert a.members == b.members == {"a", "b"}
            status = await (await nc.jetstream().key_value(bucket)).status()
            assert status.bucket == bucket
        finally:
            await nc.close()


@pytest.mark.parametrize("store_kept", [True, False], ids=["store-kept", "store-lost"])
async def test_the_replicas_go_on_seeing_each_other_after_nats_restarts(
    tmp_path: Path, store_kept: bool
) -> None:
    """nats-server restarts with its JetStream store (the bucket is there again) or
    without it (the bucket is gone): either way both replicas keep hearing the other's
    heartbeats, instead of each dropping the other and owning every endpoint."""
    port = free_port()
    pool, bucket = names()
    with contextlib.ExitStack() as first_server:
        url = first_server.enter_context(nats_server(port=port, store=str(tmp_path / "a")))
        async with (
            member(url, pool, bucket, "a", registry=CollectorRegistry()) as a,
            member(url, pool, bucket, "b", registry=CollectorRegistry()) as b,
        ):
            await until(lambda: a.members == b.members == {"a", "b"}, "both see both")
            first_server.close()
            await asyncio.sleep(0.5)
            store = tmp_path / ("a" if store_kept else "b")
            with nats_server(port=port, store=str(store)):
                await asyncio.sleep(6 * HEARTBEAT_S)  # past any dead peer's expiry
                await until(lambda: a.members == b.members == {"a", "b"}, "both again", 15.0)
                await asyncio.sleep(6 * HEARTBEAT_S)
                assert a.members == b.members == {"a", "b"}
