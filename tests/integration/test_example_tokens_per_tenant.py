"""The tokens-per-tenant example against a real nats-server: completions joined with
the flow-controller's events by request id, one tenant per fairness id."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from examples.tokens_per_tenant import consume, report
from gie.bus import NatsEventBus
from gie.events import RequestDispatched
from gie.events.subjects import flow_subject, routing_subject
from tests.support.consume_events import completed

pytestmark = pytest.mark.integration

REPOSITORY = Path(__file__).resolve().parents[2]


def dispatched(pool: str, n: int, tenant: str) -> RequestDispatched:
    return RequestDispatched(
        source="fc", pool=pool, request_id=f"r{n}", fairness_id=tenant, priority=0, shard=0
    )


async def publish_traffic(nats_url: str, pool: str) -> None:
    async with NatsEventBus(nats_url, name="tenants") as bus:
        await bus.ensure_streams()
        for n, tenant in ((1, "acme"), (2, "acme"), (3, "globex")):
            await bus.publish(flow_subject(pool, "dispatched"), dispatched(pool, n, tenant))
        for n, tokens in ((1, 10), (2, 20), (3, 5), (4, 7)):  # r4: no flow control
            await bus.publish(routing_subject(pool, "completed"), completed(pool, n, tokens=tokens))


async def test_tokens_are_summed_per_tenant(nats_url: str) -> None:
    pool = f"tenants/{uuid.uuid4().hex[:8]}"
    start = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    await publish_traffic(nats_url, pool)
    totals = await asyncio.wait_for(consume(nats_url, pool=pool, since=start, limit=7), 15)
    usage = {
        tenant: (u.requests, u.prompt_tokens, u.completion_tokens)
        for tenant, u in totals.usage.items()
    }
    assert usage == {"acme": (2, 30, 30), "globex": (1, 5, 5), "default-flow": (1, 7, 7)}
    assert report(totals).splitlines()[1].split() == ["acme", "2", "30", "30"]


async def test_the_example_runs_as_a_program(nats_url: str) -> None:
    pool = f"tenants/{uuid.uuid4().hex[:8]}"
    await publish_traffic(nats_url, pool)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "examples.tokens_per_tenant", "--nats-url", nats_url,
        "--pool", pool, "--since", "1m", "--limit", "7",
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "globex" in out.decode() and "default-flow" in out.decode()


async def test_without_a_limit_it_prints_as_it_goes_and_on_ctrl_c(nats_url: str) -> None:
    """The command docs/events.md shows has no --limit: it runs until stopped, printing
    the totals every --every seconds and once more on Ctrl-C (SIGINT)."""
    pool = f"tenants/{uuid.uuid4().hex[:8]}"
    await publish_traffic(nats_url, pool)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "examples.tokens_per_tenant", "--nats-url", nats_url,
        "--pool", pool, "--since", "1m", "--every", "0.5",
        cwd=REPOSITORY,
        # A shell starting a job in the background (as CI may) leaves SIGINT ignored, and
        # an ignored signal stays ignored across exec: give the program Ctrl-C back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = b""
    try:
        while b"globex" not in seen:
            seen += await asyncio.wait_for(proc.stdout.readline(), 20)
    finally:
        proc.send_signal(signal.SIGINT)
    rest, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    last = rest.decode().strip().splitlines()
    assert last[0].split() == ["tenant", "requests", "prompt", "completion"]
    assert "Traceback" not in err.decode()
