"""What the real services write on NATS is what schemas/ promises.

ingest, metrics-collector and picker run on real NATS with simulated model servers;
one request is routed. Then every message the pool's subjects hold in both streams is
read raw (as a third party would: nats-py, no gie code) and checked against the
AsyncAPI document: its subject belongs to a channel, its payload is one event (or a
batch where the channel allows it) of a type that channel carries, each event
validates against that type's JSON Schema, and its headers (CloudEvents binary mode)
against that message's header schema.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import grpc
import httpx
import nats
import orjson
import pytest
import yaml
from jsonschema import Draft202012Validator
from nats.js.errors import NotFoundError

from gie.bus import ALL_STREAMS
from gie.events.subjects import pool_prefix
from gie_cli.devstack.ports import free_port
from gie_ingest.app import run as run_ingest
from gie_ingest.settings import IngestSettings
from gie_metrics_collector.app import run as run_collector
from gie_metrics_collector.settings import CollectorSettings
from gie_picker.app import run as run_picker
from gie_picker.settings import PickerSettings
from gie_sim import SimConfig, run_servers
from tests.support.extproc_client import Mode, body_message, exchange, headers_message
from tests.support.running import service, wait_ready

pytestmark = pytest.mark.integration

POOL = "it/contract"
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
DOCUMENT: dict[str, Any] = yaml.safe_load((SCHEMAS / "asyncapi.yaml").read_text())


def channel_of(subject: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The channel a concrete subject belongs to, and its parameter values."""
    for channel in DOCUMENT["channels"].values():
        pattern = re.escape(channel["address"]).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^.]+)", pattern)
        match = re.fullmatch(pattern, subject)
        if match:
            return channel, match.groupdict()
    raise AssertionError(f"{subject} is on no channel of asyncapi.yaml")


def allowed_messages(channel: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The messages the channel may carry on a subject with these parameter values."""
    messages = {}
    for ref in channel["messages"].values():
        message = DOCUMENT["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
        kind = message.get("x-gie-subject-kind")
        if kind is None or kind == values.get("kind"):
            messages[message["name"]] = message
    return messages


def headers_validator(message: dict[str, Any]) -> Draft202012Validator:
    """The header schema of an AsyncAPI message, its references to the document resolved."""

    def resolve(part: dict[str, Any]) -> dict[str, Any]:
        ref = part.get("$ref")
        return DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else part

    return Draft202012Validator({"allOf": [resolve(p) for p in message["headers"]["allOf"]]})


def event_validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / "gie" / "v1" / f"{name}.json").read_text()))


async def stored_messages(nats_url: str) -> list[tuple[str, bytes, dict[str, str]]]:
    """(subject, payload, headers) of every message of the pool in every stream, in order."""
    found: list[tuple[str, bytes, dict[str, str]]] = []
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for stream in ALL_STREAMS:
            seq = 1
            while True:  # the next message of the pool at or after seq, until none is left
                try:
                    message = await js.get_msg(
                        stream.name, seq, f"{pool_prefix(POOL)}.>", next=True
                    )
                except NotFoundError:
                    break
                found.append(
                    (message.subject or "", message.data or b"", dict(message.headers or {}))
                )
                seq = (message.seq or seq) + 1
    finally:
        await nc.close()
    return found


async def route_one_request(nats_url: str, tmp_path: Path) -> None:
    common = {"nats_url": nats_url, "pool": POOL, "log_format": "console"}
    async with run_servers(count=2, config=SimConfig(time_scale=0.0)) as sims:
        pool_file = tmp_path / "pool.yaml"
        pool_file.write_text(
            f"pool: {POOL}\nendpoints:\n" + "".join(f"  - {s.address}\n" for s in sims)
        )
        ingest = IngestSettings(pool_file=pool_file, admin_port=free_port(), **common)
        collector = CollectorSettings(admin_port=free_port(), **common)
        picker = PickerSettings(admin_port=free_port(), grpc_port=free_port(), **common)
        async with (
            service(lambda stop: run_ingest(ingest, stop)),
            service(lambda stop: run_collector(collector, stop)),
            service(lambda stop: run_picker(picker, stop)),
        ):
            for settings in (ingest, collector, picker):
                await wait_ready(settings.admin_port)
            async with httpx.AsyncClient() as client:
                for _ in range(100):
                    url = f"http://127.0.0.1:{picker.admin_port}/debug/view"
                    endpoints = (await client.get(url)).json()["endpoints"]
                    if len(endpoints) == 2 and all(e["metrics"] for e in endpoints):
                        break
                    await asyncio.sleep(0.05)
            body = orjson.dumps({"model": "sim-llama", "prompt": "hi", "max_tokens": 2})
            async with grpc.aio.insecure_channel(f"127.0.0.1:{picker.grpc_port}") as channel:
                await exchange(
                    channel,
                    [
                        headers_message(
                            {":method": "POST", ":path": "/v1/completions", "x-request-id": "c-1"},
                            end_of_stream=False,
                            mode=Mode.FULL_DUPLEX_STREAMED,
                        ),
                        body_message(body, end_of_stream=True),
                    ],
                )
            for _ in range(100):  # the completion is published when the stream ends
                subjects = {subject for subject, _, _ in await stored_messages(nats_url)}
                if any(subject.endswith(".routing.completed") for subject in subjects):
                    break
                await asyncio.sleep(0.05)


async def test_every_stored_message_of_real_services_keeps_the_contract(
    nats_url: str, tmp_path: Path
) -> None:
    await route_one_request(nats_url, tmp_path)
    seen: set[str] = set()
    for subject, payload, headers in await stored_messages(nats_url):
        channel, values = channel_of(subject)
        allowed = allowed_messages(channel, values)
        data = json.loads(payload)
        if isinstance(data, list):
            assert {f"{event['type']}Batch" for event in data} <= allowed.keys(), subject
            message = allowed[f"{data[0]['type']}Batch"]
            assert headers["ce-gieevents"] == str(len(data))
        else:
            message = allowed[data["type"]]
            assert headers["ce-id"] == data["event_id"] or subject.split(".")[3] in {
                "endpoint",
                "objective",
            }  # the ingest reconciler's deterministic ids
        headers_validator(message).validate(headers)
        assert headers["ce-id"] == headers["Nats-Msg-Id"]
        events = data if isinstance(data, list) else [data]
        for event in events:
            assert event["type"] in allowed, f"{event['type']} on {subject}"
            event_validator(event["type"]).validate(event)
            seen.add(event["type"])
    assert {
        "EndpointUpserted",
        "EndpointMetricsObserved",
        "RequestRouted",
        "RequestCompleted",
    } <= seen
