"""InferenceModelRewrites on the state stream change the model a request is sent for.

The picker's real app on real NATS: a ModelRewriteUpserted published on the pool's
``rewrite.<name>`` subject rewrites the body's ``model`` the picker forwards, in
both body modes, and the routing event and metrics name the target model; a model
no rule names, and every model once the rewrite is removed, passes unchanged.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
import httpx
import pytest
import pytest_asyncio
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from prometheus_client.parser import text_string_to_metric_families

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.events import (
    EndpointMetrics,
    Event,
    ModelRewriteRemoved,
    ModelRewriteUpserted,
    RequestRouted,
    RewriteRule,
    RewriteTarget,
)
from gie.events.subjects import pool_prefix, rewrite_subject
from gie_picker.app import run
from gie_picker.settings import PickerSettings
from tests.support.extproc_client import Mode, body_message, exchange, headers_message, set_headers
from tests.support.pickers import debug_view, publish_endpoints, publish_metrics, replica_settings
from tests.support.running import service, wait_ready

pytestmark = pytest.mark.integration

ENDPOINT = "10.3.0.1:8000"
# The client's spacing and number spelling: only the model's value may change.
BODY = b'{"model":  "m", "prompt": "hello",  "temperature": 0.50, "max_tokens": 2}'
REWRITTEN = b'{"model":  "m-v2", "prompt": "hello",  "temperature": 0.50, "max_tokens": 2}'


@dataclass
class RunningPicker:
    settings: PickerSettings
    bus: NatsEventBus
    channel: grpc.aio.Channel
    routed: list[Event] = field(default_factory=list)

    async def routed_event(self, request_id: str) -> RequestRouted:
        for _ in range(200):
            for event in self.routed:
                if isinstance(event, RequestRouted) and event.request_id == request_id:
                    return event
            await asyncio.sleep(0.02)
        raise AssertionError(f"no RequestRouted for {request_id}")

    async def rewrites_in_view(self, count: int) -> None:
        for _ in range(200):
            if len((await debug_view(self.settings.admin_port))["model_rewrites"]) == count:  # type: ignore[arg-type]
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"the picker's view never held {count} model rewrites")


@pytest_asyncio.fixture
async def picker(nats_url: str) -> AsyncIterator[RunningPicker]:
    pool = f"rewrites/{uuid.uuid4().hex[:8]}"
    settings = replica_settings(nats_url, pool, "picker-rewrites")
    async with NatsEventBus(nats_url, name="feeder") as bus:
        await bus.ensure_streams()
        await publish_endpoints(bus, pool, [ENDPOINT])
        await publish_metrics(
            bus,
            pool,
            ENDPOINT,
            EndpointMetrics(waiting_queue_size=0, running_requests=0, kv_cache_usage=0.1),
        )
        # Published before the picker starts: it comes from the replay.
        await bus.publish(
            rewrite_subject(pool, "canary"),
            ModelRewriteUpserted(
                source="test",
                pool=pool,
                name="canary",
                created=datetime(2026, 1, 1, tzinfo=UTC),
                rules=(RewriteRule(matches=("m",), targets=(RewriteTarget(model="m-v2"),)),),
            ),
        )
        async with service(lambda stop: run(settings, stop)):
            await wait_ready(settings.admin_port)
            running = RunningPicker(settings, bus, None)  # type: ignore[arg-type]
            await bus.follow(
                EVENTS, f"{pool_prefix(pool)}.routing.>", running.routed.append, deliver=Deliver.NEW
            )
            async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.grpc_port}") as channel:
                running.channel = channel
                yield running


def request_headers(request_id: str, body: bytes) -> dict[str, str]:
    return {
        ":method": "POST",
        ":path": "/v1/completions",
        "x-request-id": request_id,
        "content-length": str(len(body)),
    }


async def send_streamed(
    channel: grpc.aio.Channel, request_id: str, body: bytes
) -> tuple[dict[str, str], bytes]:
    """FULL_DUPLEX_STREAMED: the headers answer, then the body re-streamed."""
    responses = await exchange(
        channel,
        [
            headers_message(
                request_headers(request_id, body),
                end_of_stream=False,
                mode=Mode.FULL_DUPLEX_STREAMED,
            ),
            body_message(body, end_of_stream=True),
        ],
    )
    headers = set_headers(responses[0].request_headers.response.header_mutation)
    sent = b"".join(
        r.request_body.response.body_mutation.streamed_response.body for r in responses[1:]
    )
    return headers, sent


async def send_buffered(
    channel: grpc.aio.Channel, request_id: str, body: bytes
) -> tuple[dict[str, str], ext_pb.CommonResponse]:
    """BUFFERED: headers continue, the body answer routes (and may replace the body)."""
    responses = await exchange(
        channel,
        [
            headers_message(
                request_headers(request_id, body), end_of_stream=False, mode=Mode.BUFFERED
            ),
            body_message(body, end_of_stream=True),
        ],
    )
    common = responses[1].request_body.response
    return set_headers(common.header_mutation), common


async def test_streamed_body_carries_the_target_model(picker: RunningPicker) -> None:
    headers, sent = await send_streamed(picker.channel, "rw-streamed", BODY)
    assert sent == REWRITTEN
    assert headers["content-length"] == str(len(REWRITTEN))
    assert headers["x-gateway-destination-endpoint"] == ENDPOINT
    assert (await picker.routed_event("rw-streamed")).model == "m-v2"


async def test_buffered_body_carries_the_target_model(picker: RunningPicker) -> None:
    headers, common = await send_buffered(picker.channel, "rw-buffered", BODY)
    assert common.body_mutation.body == REWRITTEN
    assert headers["content-length"] == str(len(REWRITTEN))
    assert (await picker.routed_event("rw-buffered")).model == "m-v2"


async def test_a_model_without_a_rule_is_routed_as_sent(picker: RunningPicker) -> None:
    body = BODY.replace(b'"m"', b'"other"')
    headers, sent = await send_streamed(picker.channel, "rw-other-streamed", body)
    assert sent == body
    assert "content-length" not in headers  # the body is unchanged
    buffered_headers, common = await send_buffered(picker.channel, "rw-other-buffered", body)
    assert not common.HasField("body_mutation")
    assert "content-length" not in buffered_headers
    for request_id in ("rw-other-streamed", "rw-other-buffered"):
        assert (await picker.routed_event(request_id)).model == "other"


async def test_metrics_label_the_requested_and_the_target_model(picker: RunningPicker) -> None:
    await send_streamed(picker.channel, "rw-metrics-1", BODY)
    await send_buffered(picker.channel, "rw-metrics-2", BODY)
    async with httpx.AsyncClient(trust_env=False) as client:
        page = (await client.get(f"http://127.0.0.1:{picker.settings.admin_port}/metrics")).text
    requests = {
        (s.labels["model_name"], s.labels["target_model_name"]): s.value
        for family in text_string_to_metric_families(page)
        if family.name == "inference_objective_request"
        for s in family.samples
        if s.name == "inference_objective_request_total"
    }
    assert requests == {("m", "m-v2"): 2.0}


async def test_a_removed_rewrite_no_longer_applies(picker: RunningPicker) -> None:
    await picker.rewrites_in_view(1)
    pool = picker.settings.pool
    await picker.bus.publish(
        rewrite_subject(pool, "canary"),
        ModelRewriteRemoved(source="test", pool=pool, name="canary"),
    )
    await picker.rewrites_in_view(0)
    headers, sent = await send_streamed(picker.channel, "rw-removed", BODY)
    assert sent == BODY
    assert "content-length" not in headers
    assert (await picker.routed_event("rw-removed")).model == "m"


async def test_a_rewrite_published_while_running_applies_to_the_next_request(
    picker: RunningPicker,
) -> None:
    pool = picker.settings.pool
    await picker.bus.publish(
        rewrite_subject(pool, "everything"),
        ModelRewriteUpserted(
            source="test",
            pool=pool,
            name="everything",
            created=datetime(2026, 2, 1, tzinfo=UTC),  # newer than "canary"
            rules=(RewriteRule(targets=(RewriteTarget(model="fallback"),)),),
        ),
    )
    await picker.rewrites_in_view(2)
    other = BODY.replace(b'"m"', b'"other"')
    _, sent_other = await send_streamed(picker.channel, "rw-generic", other)
    assert sent_other == BODY.replace(b'"m"', b'"fallback"')  # the generic rule
    _, sent_m = await send_streamed(picker.channel, "rw-exact", BODY)
    assert sent_m == REWRITTEN  # the exact rule of "canary" still beats it
