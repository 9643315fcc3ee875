"""With the local stack up and a few requests sent, ``gie events tail`` (NATS found
from the stack's state dir) prints the picker's routing events with their
CloudEvents headers, the request's trace context and the picker's sequence."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from jsonschema import Draft202012Validator

from tests.e2e.conftest import E2EStack

pytestmark = pytest.mark.e2e

TYPES = {"RequestRouted": "routed", "RequestCompleted": "completed"}
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "gie" / "v1"


def traceparent() -> str:
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"


@pytest.mark.asyncio(loop_scope="session")
async def test_tail_shows_the_routing_events_of_requests_sent(e2e_stack: E2EStack) -> None:
    sent: dict[str, str] = {}
    async with httpx.AsyncClient(
        base_url=e2e_stack.gateway, timeout=30.0, trust_env=False
    ) as client:
        for _ in range(3):
            request_id, trace = uuid.uuid4().hex, traceparent()
            response = await client.post(
                "/v1/completions",
                json={"model": "sim-llama", "prompt": "hello", "max_tokens": 3},
                headers={"x-request-id": request_id, "traceparent": trace},
            )
            assert response.status_code == 200
            sent[request_id] = trace
            await asyncio.sleep(0.2)  # each event goes out alone: with its trace context

    env = {k: v for k, v in os.environ.items() if k != "GIE_NATS_URL"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gie_cli", "events", "tail", "--state-dir",
        str(e2e_stack.state_dir), "--pool", e2e_stack.state.pool, "--since", "1m",
        "--count", "200", "--json", "--type", "RequestRouted", "--type", "RequestCompleted",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    lines: list[dict[str, Any]] = []
    assert proc.stdout is not None
    try:
        while len([line for line in lines if line["event"]["request_id"] in sent]) < 6:
            raw = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert raw, (await proc.stderr.read()).decode() if proc.stderr else "tail ended"
            lines.append(orjson.loads(raw))
    finally:
        proc.terminate()
        await proc.wait()
    mine = [line for line in lines if line["event"]["request_id"] in sent]
    for line in mine:
        event, headers = line["event"], line["headers"]
        assert headers["ce-specversion"] == "1.0"
        assert headers["ce-type"] == f"io.gie.routing.{event['type']}.v1"
        assert headers["ce-source"].startswith("/gie/picker/")
        assert headers["ce-dataschema"].endswith(f"/{event['type']}.json")
        assert (
            line["subject"]
            == f"gie.v1.{line['subject'].split('.')[2]}.routing.{TYPES[event['type']]}"
        )
        assert isinstance(event["publisher_seq"], int) and event["publisher_seq"] >= 1
        schema = orjson.loads((SCHEMAS / f"{event['type']}.json").read_bytes())
        Draft202012Validator(schema).validate(event)  # what schemas/ promises
        if headers.get("ce-gieevents") is None:  # sent alone: its own id and trace
            assert headers["ce-id"] == headers["Nats-Msg-Id"] == event["event_id"]
            assert headers["traceparent"] == sent[event["request_id"]]
    assert any("traceparent" in line["headers"] for line in mine)
