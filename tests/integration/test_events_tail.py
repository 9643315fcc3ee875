"""``gie events tail`` against a real nats-server: N events then exit, batches
unpacked, filters by pool and type, JSON with headers, and a clear error for a
start older than the stream keeps."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
import orjson
import pytest
from jsonschema import Draft202012Validator

from gie.bus import NatsEventBus
from gie.events.subjects import escape_token, routing_subject
from tests.support.consume_events import completed
from tests.support.routing_events import routed

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "gie" / "v1"


def validate_published(event: dict[str, object]) -> None:
    """``event`` against the committed JSON Schema of its type."""
    schema = orjson.loads((SCHEMAS / f"{event['type']}.json").read_bytes())
    Draft202012Validator(schema).validate(event)


async def gie(
    *args: str, timeout_s: float = 30.0, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gie_cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture(scope="module")
async def pools(nats_url: str) -> tuple[str, str]:
    """Pool A: a batch of three RequestRouted, then two RequestCompleted; pool B: one."""
    pool_a, pool_b = f"tail/{uuid.uuid4().hex[:8]}", f"tail/{uuid.uuid4().hex[:8]}"
    async with NatsEventBus(nats_url, name="tail-test", ce_source="/gie/tests/tail") as bus:
        await bus.ensure_streams()
        assert bus.publish_batch_nowait(
            routing_subject(pool_a, "routed"), [routed(pool_a, n) for n in range(3)]
        )
        for n in range(2):
            await bus.publish(routing_subject(pool_a, "completed"), completed(pool_a, n))
        await bus.publish(routing_subject(pool_b, "completed"), completed(pool_b, 9))
    return pool_a, pool_b


async def test_tail_prints_n_events_of_a_pool_as_json_and_exits(
    nats_url: str, pools: tuple[str, str]
) -> None:
    pool_a, _ = pools
    code, out, err = await gie(
        "events", "tail", "--nats-url", nats_url, "--pool", pool_a, "--since", "5m",
        "--count", "4", "--json",
    )  # fmt: skip
    assert code == 0, err
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert [line["event"]["type"] for line in lines] == ["RequestRouted"] * 3 + ["RequestCompleted"]
    assert [line["event"]["request_id"] for line in lines] == ["r0", "r1", "r2", "r0"]
    batch_seq = lines[0]["seq"]
    assert [line["seq"] for line in lines[:3]] == [batch_seq] * 3  # one message, three events
    assert lines[3]["seq"] > batch_seq
    assert {line["stream"] for line in lines} == {"GIE_EVENTS"}
    assert lines[3]["subject"] == routing_subject(pool_a, "completed")
    headers = lines[3]["headers"]
    assert headers["ce-type"] == "io.gie.routing.RequestCompleted.v1"
    assert headers["ce-source"] == "/gie/tests/tail"
    assert headers["ce-id"] == headers["Nats-Msg-Id"] == lines[3]["event"]["event_id"]
    assert lines[0]["headers"]["ce-gieevents"] == "3"
    for line in lines:
        validate_published(line["event"])


async def test_tail_filters_by_type_and_prints_lines(nats_url: str, pools: tuple[str, str]) -> None:
    pool_a, pool_b = pools
    code, out, err = await gie(
        "events", "tail", "--nats-url", nats_url, "--since", "5m", "--count", "3",
        "--type", "RequestCompleted",
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    mine = [line for line in lines if pool_a in line or pool_b in line]
    assert len(lines) == 3
    assert all(" RequestCompleted " in line for line in lines)
    assert all("status=200" in line for line in mine)
    code, out, err = await gie(
        "events", "tail", "--nats-url", nats_url, "--pool", pool_b, "--since", "5m",
        "--count", "1", "--type", "RequestCompleted", "--type", "RequestRouted",
    )  # fmt: skip
    assert code == 0, err
    assert f"{pool_b} RequestCompleted " in out and "request_id=r9" in out


async def test_tail_refuses_a_start_older_than_the_stream_keeps(nats_url: str) -> None:
    token = escape_token(f"old/{uuid.uuid4().hex[:8]}")
    stream = f"OLD_{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[f"gie.v1.{token}.old.>"], max_msgs=2)
        before = datetime.now(UTC).isoformat()
        for n in range(4):
            await js.publish(f"gie.v1.{token}.old.x", orjson.dumps({"n": n}))
        code, out, err = await gie(
            "events", "tail", "--nats-url", nats_url, "--stream", stream, "--since", before,
            "--count", "1",
        )  # fmt: skip
        await js.delete_stream(stream)
    finally:
        await nc.close()
    assert code != 0 and out == ""
    assert "gone (410)" in err and stream in err


async def test_tail_names_a_bad_since(nats_url: str) -> None:
    code, _, err = await gie("events", "tail", "--nats-url", nats_url, "--since", "yesterday")
    assert code != 0
    assert "'yesterday'" in err and "duration" in err


async def test_tail_without_a_nats_url_or_a_stack_says_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"GIE_NATS_URL", "GIE_STATE_DIR"}}
    code, out, err = await gie("events", "tail", "--state-dir", str(tmp_path), env=env)
    assert code == 1 and out == ""
    assert "no NATS URL" in err and "--nats-url" in err and "gie up" in err
