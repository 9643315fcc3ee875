"""The consumer SDK on a real nats-server: typed events, at least once with durable
consumers, deduplication, raw fallback, added fields, upcasting, gaps, old starts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import nats
import orjson
import pytest
from nats.js.client import JetStreamContext

from gie.bus import NatsEventBus
from gie.consume import Gap, GieConsumeError, RawEvent, StartTooOldError, subscribe
from gie.events import Event, EventCodec, RequestCompleted
from gie.events.subjects import escape_token, routing_subject
from tests.support.consume_events import completed, completed_json, take

pytestmark = pytest.mark.integration

PullSubscription = JetStreamContext.PullSubscription


def fresh_pool() -> str:
    return f"sdk/{uuid.uuid4().hex[:8]}"


def a_moment_ago() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=2)


async def publish_raw(nats_url: str, subject: str, objects: list[dict[str, Any]]) -> None:
    nc = await nats.connect(nats_url)
    try:
        for obj in objects:
            await nc.jetstream().publish(subject, orjson.dumps(obj))
    finally:
        await nc.close()


async def test_a_consumer_that_fails_before_its_ack_gets_the_event_again(nats_url: str) -> None:
    pool = fresh_pool()
    subject = routing_subject(pool, "completed")
    start = a_moment_ago()
    durable = f"billing-{uuid.uuid4().hex[:8]}"
    async with NatsEventBus(nats_url, name="sdk") as bus:
        await bus.ensure_streams()
        for n in (1, 2):
            await bus.publish(subject, completed(pool, n))

        crashing = subscribe(nats_url, pool=pool, since=start, durable=durable, ack_wait_s=1.0)
        with pytest.raises(RuntimeError, match="crashed"):
            async for _event in crashing:
                raise RuntimeError("crashed before the ack")
        await crashing.aclose()

        # Another copy of the consumer: r1 again (never acknowledged), then r2. It stops
        # while handling r2, so r2 is not acknowledged either.
        again = await take(
            subscribe(nats_url, pool=pool, since=start, durable=durable, ack_wait_s=1.0), 2
        )
        assert [e.request_id for e in again if isinstance(e, RequestCompleted)] == ["r1", "r2"]

        await bus.publish(subject, completed(pool, 3))
        rest = await take(subscribe(nats_url, pool=pool, durable=durable, ack_wait_s=1.0), 2)
        # r1 was acknowledged once its loop body returned: it never comes back. r2
        # comes again once its ack wait is over, so it may follow the newer r3.
        assert sorted(e.request_id for e in rest if isinstance(e, RequestCompleted)) == [
            "r2",
            "r3",
        ]


async def test_a_duplicate_event_is_yielded_once(nats_url: str) -> None:
    pool = fresh_pool()
    subject = routing_subject(pool, "completed")
    start = a_moment_ago()
    first = completed(pool, 1)
    async with NatsEventBus(nats_url, name="sdk") as bus:
        await bus.ensure_streams()
        await bus.publish(subject, first, msg_id="attempt-1")
        await bus.publish(subject, first, msg_id="attempt-2")  # stored twice: other message ids
        await bus.publish(subject, completed(pool, 2))
    events = await take(subscribe(nats_url, pool=pool, since=start), 2)
    assert [e.event_id for e in events] == [first.event_id, events[1].event_id]
    assert isinstance(events[1], RequestCompleted) and events[1].request_id == "r2"


async def test_unknown_types_come_raw_and_added_fields_are_ignored(nats_url: str) -> None:
    pool = fresh_pool()
    start = a_moment_ago()
    future = {"event_id": "f1", "type": "RequestTeleported", "schema_version": 1, "pool": pool}
    await publish_raw(
        nats_url,
        routing_subject(pool, "completed"),
        [completed_json(pool, 1, energy_joules=12.5), future],
    )
    typed, raw = await take(subscribe(nats_url, pool=pool, since=start), 2)
    assert isinstance(typed, RequestCompleted)
    assert typed.request_id == "r1" and typed.prompt_tokens == 10
    assert "energy_joules" not in typed.model_dump()
    assert isinstance(raw, RawEvent)
    assert (raw.type, raw.event_id, raw.data) == ("RequestTeleported", "f1", future)
    assert "unknown event type" in raw.reason


async def test_a_fetch_that_times_out_with_asyncios_own_error_is_retried(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nats-py raises a bare asyncio.TimeoutError, not its own, when a loaded server
    answers the no-wait probe just before the deadline; the reader keeps reading."""
    pool = fresh_pool()
    start = a_moment_ago()
    real_fetch = PullSubscription.fetch
    raised: list[int] = []

    async def fetch_once_late(self: PullSubscription, *args: Any, **kwargs: Any) -> Any:
        if not raised:
            raised.append(1)
            raise TimeoutError
        return await real_fetch(self, *args, **kwargs)

    monkeypatch.setattr(PullSubscription, "fetch", fetch_once_late)
    await publish_raw(nats_url, routing_subject(pool, "completed"), [completed_json(pool, 1)])
    [event] = await take(subscribe(nats_url, pool=pool, since=start), 1)
    assert raised == [1]
    assert isinstance(event, RequestCompleted) and event.request_id == "r1"


class Pinged(Event):
    """A test type at version 2; version 1 had no ``note``."""

    TYPE: ClassVar[str] = "Pinged"
    SCHEMA_VERSION: ClassVar[int] = 2
    note: str


async def test_older_versions_are_upcast_through_the_codec(nats_url: str) -> None:
    pool = fresh_pool()
    start = a_moment_ago()
    codec = EventCodec([Pinged])
    codec.register_upcaster("Pinged", 1, lambda raw: {**raw, "note": "from v1"})
    old = {"event_id": "p1", "type": "Pinged", "schema_version": 1, "source": "s", "pool": pool}
    await publish_raw(nats_url, routing_subject(pool, "pinged"), [old])
    [event] = await take(subscribe(nats_url, pool=pool, since=start, codec=codec), 1)
    assert isinstance(event, Pinged)
    assert (event.note, event.schema_version) == ("from v1", 2)


async def test_a_gap_in_a_publishers_sequence_is_reported(nats_url: str) -> None:
    pool = fresh_pool()
    subject = routing_subject(pool, "completed")
    start = a_moment_ago()
    async with NatsEventBus(nats_url, name="sdk") as bus:
        await bus.ensure_streams()
        for n, seq in enumerate((1, 2, 5, 6), start=1):
            await bus.publish(subject, completed(pool, n, seq=seq))
    gaps: list[Gap] = []
    events = await take(subscribe(nats_url, pool=pool, since=start, on_gap=gaps.append), 4)
    assert len(events) == 4
    assert gaps == [Gap(publisher="p1", type="RequestCompleted", expected=3, got=5)]
    assert gaps[0].missing == 2


async def test_a_start_older_than_the_stream_keeps_is_refused(nats_url: str) -> None:
    token = escape_token(f"old/{uuid.uuid4().hex[:8]}")
    stream = f"OLD_{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[f"gie.v1.{token}.old.>"], max_msgs=2)
        before = datetime.now(UTC)
        for n in range(4):  # the first two are removed by the stream's limit
            await js.publish(f"gie.v1.{token}.old.x", orjson.dumps({"n": n}))
        with pytest.raises(StartTooOldError, match=f"gone.*{stream}"):
            await take(subscribe(nats_url, stream=stream, since=before), 1)
        await js.delete_stream(stream)
    finally:
        await nc.close()


async def test_an_existing_durable_resumes_whatever_since_says_and_keeps_its_pool(
    nats_url: str,
) -> None:
    """A restarted durable consumer resumes where it stopped: its since is not checked
    against what the stream still holds. Asked for another pool, it is an error, not a
    silent read of the old one."""
    pool = f"old/{uuid.uuid4().hex[:8]}"
    stream = f"RESUME_{uuid.uuid4().hex[:8]}"
    subject = f"gie.v1.{escape_token(pool)}.old.completed"  # apart from gie's own streams
    durable = f"billing-{uuid.uuid4().hex[:8]}"
    codec = EventCodec([RequestCompleted])
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(
            name=stream, subjects=[f"gie.v1.{escape_token(pool)}.old.>"], max_msgs=3
        )
        before = datetime.now(UTC)
        for n in (1, 2):
            await js.publish(subject, codec.encode(completed(pool, n)))
        first = await take(
            subscribe(nats_url, pool=pool, stream=stream, since=before, durable=durable), 2
        )
        assert [e.request_id for e in first if isinstance(e, RequestCompleted)] == ["r1", "r2"]
        for n in (3, 4, 5):  # r1 and r2 leave the stream: it no longer reaches back to before
            await js.publish(subject, codec.encode(completed(pool, n)))
        with pytest.raises(StartTooOldError):
            await take(subscribe(nats_url, pool=pool, stream=stream, since=before), 1)
        resumed = await take(
            subscribe(nats_url, pool=pool, stream=stream, since=before, durable=durable), 3
        )
        assert [e.request_id for e in resumed if isinstance(e, RequestCompleted)] == [
            "r3",
            "r4",
            "r5",
        ]
        with pytest.raises(GieConsumeError, match=f"durable consumer '{durable}' reads"):
            await take(subscribe(nats_url, pool="old/other", stream=stream, durable=durable), 1)
        await js.delete_stream(stream)
    finally:
        await nc.close()
