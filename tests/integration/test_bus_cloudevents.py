"""Every message the NATS adapter publishes carries CloudEvents binary-mode headers:
confirmed and unconfirmed, single events, batches and the synchronous hot path."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from nats.errors import NoRespondersError

from gie.bus import EVENTS, BackgroundPublisher, BusMetrics, NatsEventBus
from gie.bus.lazy_headers import LazyHeaders
from gie.events import schema_uri
from gie.events.subjects import routing_subject
from tests.support.routing_events import routed
from tests.support.stored_messages import stored_messages

pytestmark = pytest.mark.integration

SOURCE = "/gie/tests/replica-1"
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def fresh_pool() -> str:
    return f"ce/{uuid.uuid4().hex[:8]}"


def assert_ce(headers: dict[str, str] | None, *, ce_id: str, when: datetime) -> None:
    assert headers is not None
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-type"] == "io.gie.routing.RequestRouted.v1"
    assert headers["ce-source"] == SOURCE
    assert headers["ce-id"] == headers["Nats-Msg-Id"] == ce_id
    assert datetime.fromisoformat(headers["ce-time"]) == when
    assert headers["ce-dataschema"] == schema_uri("RequestRouted")
    assert schema_uri("RequestRouted") == "https://gie.dev/schemas/gie/v1/RequestRouted.json"


@pytest.mark.parametrize("confirm", [True, False], ids=["confirmed", "unconfirmed"])
async def test_a_published_event_carries_its_id_type_and_trace(
    nats_url: str, confirm: bool
) -> None:
    pool = fresh_pool()
    subject = routing_subject(pool, "routed")
    event = routed(pool, 1)
    async with NatsEventBus(nats_url, name="ce", ce_source=SOURCE) as bus:
        await bus.ensure_streams()
        await bus.publish(subject, event, confirm=confirm, traceparent=TRACE)
        [msg] = await stored_messages(nats_url, EVENTS.name, subject, 1)
    assert_ce(msg.headers, ce_id=event.event_id, when=event.occurred_at)
    assert msg.headers is not None and msg.headers["traceparent"] == TRACE
    assert msg.data == bus._codec.encode(event)  # the payload is unchanged


async def test_a_deterministic_message_id_is_the_ce_id_and_still_deduplicates(
    nats_url: str,
) -> None:
    pool = fresh_pool()
    subject = routing_subject(pool, "routed")
    async with NatsEventBus(nats_url, name="ce", ce_source=SOURCE) as bus:
        await bus.ensure_streams()
        first = routed(pool, 1)
        await bus.publish(subject, first, msg_id="decision-1")
        await bus.publish(subject, routed(pool, 1), msg_id="decision-1")  # a retry: dropped
        await bus.publish(subject, routed(pool, 2))
        msgs = await stored_messages(nats_url, EVENTS.name, subject, 2)
    assert_ce(msgs[0].headers, ce_id="decision-1", when=first.occurred_at)
    assert msgs[1].headers is not None and "traceparent" not in msgs[1].headers
    assert b'"r2"' in msgs[1].data  # the second message is the next event, not the retry


async def test_the_hot_path_writes_the_headers_itself(nats_url: str) -> None:
    pool = fresh_pool()
    subject = routing_subject(pool, "routed")
    one, two = routed(pool, 1), routed(pool, 2)
    async with NatsEventBus(nats_url, name="ce", ce_source=SOURCE) as bus:
        await bus.ensure_streams()
        await bus.publish(subject, routed(pool, 0))  # confirmed: the connection is idle after
        assert bus.publish_nowait(subject, one, traceparent=TRACE)
        assert bus.publish_nowait(subject, two, traceparent="00-not-a-trace\r\nX: y")
        msgs = await stored_messages(nats_url, EVENTS.name, subject, 3)
    assert_ce(msgs[1].headers, ce_id=one.event_id, when=one.occurred_at)
    assert_ce(msgs[2].headers, ce_id=two.event_id, when=two.occurred_at)
    assert msgs[1].headers is not None and msgs[1].headers["traceparent"] == TRACE
    assert msgs[2].headers is not None
    assert "traceparent" not in msgs[2].headers and "X" not in msgs[2].headers


async def test_a_batch_message_carries_one_header_set_of_its_own(nats_url: str) -> None:
    pool = fresh_pool()
    subject = routing_subject(pool, "routed")
    events = [routed(pool, n) for n in range(3)]
    async with NatsEventBus(nats_url, name="ce", ce_source=SOURCE) as bus:
        await bus.ensure_streams()
        assert bus.publish_batch_nowait(subject, events)
        assert bus.publish_batch_nowait(subject, [routed(pool, 3), routed(pool, 4)])
        first, second = await stored_messages(nats_url, EVENTS.name, subject, 2)
    headers = first.headers
    assert headers is not None
    assert_ce(headers, ce_id=headers["ce-id"], when=events[0].occurred_at)
    assert headers["ce-id"] not in {event.event_id for event in events}
    assert second.headers is not None and second.headers["ce-id"] != headers["ce-id"]
    assert headers["ce-gieevents"] == "3"
    assert first.data.startswith(b"[")


async def test_a_background_publisher_passes_the_trace_of_a_lone_event_only(
    nats_url: str,
) -> None:
    pool = fresh_pool()
    subject = routing_subject(pool, "routed")
    async with NatsEventBus(nats_url, name="ce", ce_source=SOURCE) as bus:
        await bus.ensure_streams()
        publisher = BackgroundPublisher(bus, metrics=BusMetrics(), confirm=False, batch_s=60.0)
        publisher.start()
        publisher.submit(subject, routed(pool, 1), traceparent=TRACE)
        publisher.flush()  # a message of one event
        publisher.submit(subject, routed(pool, 2), traceparent=TRACE)
        publisher.submit(subject, routed(pool, 3), traceparent=TRACE)
        await publisher.close()  # a batch of two requests' events
        lone, batch = await stored_messages(nats_url, EVENTS.name, subject, 2)
    assert lone.headers is not None and lone.headers["traceparent"] == TRACE
    assert batch.headers is not None and "traceparent" not in batch.headers
    assert batch.headers["ce-gieevents"] == "2"


async def test_the_bus_reads_header_blocks_only_when_asked(nats_url: str) -> None:
    pool = fresh_pool()
    subject = routing_subject(pool, "routed")
    event = routed(pool, 1)
    async with NatsEventBus(nats_url, name="lazy", ce_source=SOURCE) as bus:
        await bus.ensure_streams()
        client = bus._nc
        assert client is not None
        sub = await client.subscribe(subject)
        await bus.publish(subject, event, traceparent=TRACE)
        msg = await sub.next_msg(timeout=5)
        assert isinstance(msg.headers, LazyHeaders)
        assert msg.headers._parsed is None  # handed over unparsed
        assert_ce(dict(msg.headers), ce_id=event.event_id, when=event.occurred_at)
        assert msg.headers.get("traceparent") == TRACE and "nope" not in msg.headers
        # A request without responders still gets nats-py's status handling.
        with pytest.raises(NoRespondersError):
            await client.request(f"nobody.{uuid.uuid4().hex}", b"", timeout=2)
        await sub.unsubscribe()
