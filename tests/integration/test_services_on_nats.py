"""ingest → metrics-collector → picker, each service's real app on real NATS and sims.

The services run as tasks of the test's event loop (their ``run`` functions),
so failures show up as exceptions here; the whole-process path is covered by e2e.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import httpx
import orjson
import pytest

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.events import Event, RequestCompleted, RequestRouted
from gie.events.subjects import pool_filter
from gie_cli.devstack.ports import free_port
from gie_ingest.app import run as run_ingest
from gie_ingest.settings import IngestSettings
from gie_metrics_collector.app import run as run_collector
from gie_metrics_collector.settings import CollectorSettings
from gie_picker.app import run as run_picker
from gie_picker.settings import PickerSettings
from gie_sim import SimConfig, run_servers
from tests.support.extproc_client import Mode, body_message, exchange, headers_message, set_headers
from tests.support.running import service, wait_ready

pytestmark = pytest.mark.integration

POOL = "it/services"


async def test_pool_file_endpoints_and_metrics_reach_the_picker_which_routes_and_publishes(
    nats_url: str, tmp_path: Path
) -> None:
    common = {"nats_url": nats_url, "pool": POOL, "log_format": "console"}
    async with run_servers(count=2, config=SimConfig(time_scale=0.0)) as sims:
        addresses = sorted(s.address for s in sims)
        pool_file = tmp_path / "pool.yaml"
        pool_file.write_text(
            f"pool: {POOL}\nendpoints:\n" + "".join(f"  - {a}\n" for a in addresses)
        )
        ingest = IngestSettings(pool_file=pool_file, admin_port=free_port(), **common)
        collector = CollectorSettings(admin_port=free_port(), **common)
        picker = PickerSettings(admin_port=free_port(), grpc_port=free_port(), **common)

        routed: list[Event] = []
        async with (
            NatsEventBus(nats_url, name="observer") as observer,
            service(lambda stop: run_ingest(ingest, stop)),
            service(lambda stop: run_collector(collector, stop)),
            service(lambda stop: run_picker(picker, stop)),
        ):
            for settings in (ingest, collector, picker):
                await wait_ready(settings.admin_port)
            await observer.follow(EVENTS, pool_filter(POOL), routed.append, deliver=Deliver.NEW)

            # The picker's view holds both endpoints, with metrics from the sims.
            async with httpx.AsyncClient() as client:
                for _ in range(100):
                    view = (
                        await client.get(f"http://127.0.0.1:{picker.admin_port}/debug/view")
                    ).json()
                    if all(e["metrics"] for e in view["endpoints"]) and len(view["endpoints"]) == 2:
                        break
                    await asyncio.sleep(0.05)
            assert [e["address"] for e in view["endpoints"]] == addresses
            assert all(e["metrics"]["kv_num_blocks"] for e in view["endpoints"])

            body = orjson.dumps({"model": "sim-llama", "prompt": "hi", "max_tokens": 2})
            async with grpc.aio.insecure_channel(f"127.0.0.1:{picker.grpc_port}") as channel:
                responses = await exchange(
                    channel,
                    [
                        headers_message(
                            {":method": "POST", ":path": "/v1/completions", "x-request-id": "r-1"},
                            end_of_stream=False,
                            mode=Mode.FULL_DUPLEX_STREAMED,
                        ),
                        body_message(body, end_of_stream=True),
                    ],
                )
            target = set_headers(responses[0].request_headers.response.header_mutation)[
                "x-gateway-destination-endpoint"
            ]
            assert target in addresses

            # Both facts reach subscribers: the decision, then the end of the stream
            # (no response was seen, so the completion carries status 0).
            for _ in range(100):
                if len(routed) >= 2:
                    break
                await asyncio.sleep(0.05)
            decision, completion = routed
            assert isinstance(decision, RequestRouted)
            assert (decision.request_id, decision.target, decision.model) == (
                "r-1",
                target,
                "sim-llama",
            )
            assert isinstance(completion, RequestCompleted)
            assert (completion.request_id, completion.status) == ("r-1", 0)
