"""An InferenceModelRewrite splits a model's traffic between two served names.

Envoy → picker → simulated servers that each answer to ``llama`` and ``llama-canary``
(``--served-model-name``, as vLLM). A ModelRewriteUpserted sending 80 % of ``llama``
to ``llama`` and 20 % to ``llama-canary`` is published on the stack's NATS; clients
keep asking for ``llama``; the responses (whose ``model`` is the name the server was
asked for) and the servers' per-name counters show the split.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from gie.bus import NatsEventBus
from gie.events import ModelRewriteUpserted, RewriteRule, RewriteTarget
from gie.events.subjects import rewrite_subject
from gie_cli.devstack import PartStartError, StackOptions, start_stack
from gie_cli.devstack.stack import RunningStack

pytestmark = pytest.mark.e2e

REQUESTS = 1_000
CANARY_SHARE = 0.2
# Binomial standard deviation of the canary count: sqrt(1000 * 0.2 * 0.8) = 12.6.
TOLERANCE = 60


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[list[str]]:
    """Two simulated servers in their own process, each serving both names."""
    ready = tmp_path / "sims.json"
    command = [sys.executable, "-m", "gie_sim", "--count", "2", "--time-scale", "0"]
    command += ["--served-model-name", "llama", "llama-canary", "--ready-file", str(ready)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            if ready.exists():
                break
            if proc.poll() is not None:
                raise AssertionError(f"gie-sim exited: {proc.communicate()[1].decode()}")
            time.sleep(0.05)  # a sync fixture: nothing else runs meanwhile
        info = json.loads(ready.read_text())
        assert info["models"] == ["llama", "llama-canary"]
        yield list(info["servers"])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest_asyncio.fixture(loop_scope="session")
async def stack(tmp_path: Path, sims: list[str]) -> AsyncIterator[RunningStack]:
    options = StackOptions(
        state_dir=tmp_path / "stack",
        endpoints=tuple(sims),
        services=("ingest", "metrics-collector", "picker"),
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        yield running
    finally:
        await running.stop()


def part_address(stack: RunningStack, name: str, key: str) -> str:
    return next(p.addresses[key] for p in stack.state.parts if p.name == name)


async def publish_canary(stack: RunningStack) -> None:
    pool = stack.state.pool
    async with NatsEventBus(part_address(stack, "nats", "client"), name="e2e-rewrites") as bus:
        await bus.publish(
            rewrite_subject(pool, "llama-canary"),
            ModelRewriteUpserted(
                source="e2e",
                pool=pool,
                name="llama-canary",
                created=datetime.now(UTC),
                rules=(
                    RewriteRule(
                        matches=("llama",),
                        targets=(
                            RewriteTarget(model="llama", weight=80),
                            RewriteTarget(model="llama-canary", weight=20),
                        ),
                    ),
                ),
            ),
        )


def served_counts(page: str) -> Counter[str]:
    return Counter(
        {
            sample.labels["model_name"]: int(sample.value)
            for family in text_string_to_metric_families(page)
            if family.name == "gie_sim_requests"
            for sample in family.samples
        }
    )


@pytest.mark.asyncio(loop_scope="session")
async def test_a_weighted_rewrite_splits_traffic_between_served_names(
    stack: RunningStack, sims: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30.0, trust_env=False) as client:
        before = (await client.post("/v1/completions", json=body())).json()["model"]
        assert before == "llama"  # no rewrite yet: the model as asked
        await publish_canary(stack)
        admin = part_address(stack, "picker", "admin")
        for _ in range(200):
            if (await client.get(f"{admin}/debug/view")).json()["model_rewrites"]:
                break
            await asyncio.sleep(0.05)
        semaphore = asyncio.Semaphore(8)

        async def one() -> str:
            async with semaphore:
                response = await client.post("/v1/completions", json=body())
                assert response.status_code == 200, response.text
                model: str = response.json()["model"]
                return model

        answered = Counter(await asyncio.gather(*(one() for _ in range(REQUESTS))))
        served: Counter[str] = Counter()
        for server in sims:
            served += served_counts((await client.get(f"http://{server}/metrics")).text)

    print(f"split over {REQUESTS} requests: {dict(answered)}")
    assert set(answered) == {"llama", "llama-canary"}
    assert abs(answered["llama-canary"] - REQUESTS * CANARY_SHARE) <= TOLERANCE, answered
    # The servers saw the same split (plus the request sent before the rewrite).
    assert served == answered + Counter({"llama": 1})


def body() -> dict[str, object]:
    return {"model": "llama", "prompt": "hello", "max_tokens": 1}
