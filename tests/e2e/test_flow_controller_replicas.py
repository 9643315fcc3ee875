"""The local stack with two flow-controller replicas behind the picker.

Both replicas are recorded processes with their own ports, both hold shards of the one
pool, and the picker sends its Admit calls to both: requests held while the pool is
saturated all go on once it has room again. Stopping the stack stops both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from gie_cli.devstack import PartStartError, StackOptions, check_stack, start_stack, stop_stack
from gie_cli.devstack.processes import is_ours
from gie_cli.devstack.stack import RunningStack
from tests.e2e.test_admission_and_fallbacks import set_sims, wait_saturation
from tests.support.flow_replicas import eventually

pytestmark = pytest.mark.e2e

REPLICAS = ("flow-controller", "flow-controller-1")
SHARDS = 4
HELD = 8
CONFIG = f"""\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
saturationDetector: {{queueDepthThreshold: 5, metricsStalenessThreshold: 2s}}
flowControl:
  shardCount: {SHARDS}
plugins:
- type: queue-scorer
"""
BODY = {"model": "sim-llama", "prompt": "hello", "max_tokens": 1}


@pytest_asyncio.fixture(loop_scope="session")
async def stack(tmp_path: Path) -> AsyncIterator[RunningStack]:
    config = tmp_path / "epp.yaml"
    config.write_text(CONFIG)
    options = StackOptions(
        state_dir=tmp_path / "stack",
        sims=2,
        time_scale=0.0,
        config_file=config,
        flow_controllers=len(REPLICAS),
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        yield running
    finally:
        await running.stop()


async def metric_total(client: httpx.AsyncClient, admin: str, name: str) -> float:
    page = (await client.get(f"{admin}/metrics")).text
    for family in text_string_to_metric_families(page):
        if family.name == name:
            return sum(s.value for s in family.samples if s.name in (name, f"{name}_count"))
    return 0.0


@pytest.mark.asyncio(loop_scope="session")
async def test_two_replicas_own_shards_and_both_answer_the_picker(stack: RunningStack) -> None:
    status = (await check_stack(stack.state)).to_json()["services"]
    assert all(status[name]["healthy"] for name in REPLICAS), status
    assert len({status[name]["pid"] for name in REPLICAS}) == len(REPLICAS)
    grpc = [status[name]["addresses"]["grpc"] for name in REPLICAS]
    admins = [status[name]["addresses"]["admin"] for name in REPLICAS]
    assert len(set(grpc)) == len(set(admins)) == len(REPLICAS)

    async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:

        async def balanced() -> bool:
            owned = [await metric_total(client, a, "gie_flow_control_owned_shards") for a in admins]
            return owned == [SHARDS / len(REPLICAS)] * len(REPLICAS)

        await eventually(balanced, timeout_s=20.0, what="each replica owning half the shards")

        # Saturated: every request goes through Admit and is held in the shared queue.
        await set_sims(stack, "/sim/overrides", {"waiting": 50})
        await wait_saturation(stack, "over queue depth")
        sends = [
            asyncio.create_task(
                client.post(
                    f"{stack.gateway}/v1/completions",
                    json=BODY,
                    headers={"x-gateway-inference-fairness-id": f"tenant-{n % 3}"},
                )
            )
            for n in range(HELD)
        ]
        await asyncio.sleep(1.0)
        assert not any(send.done() for send in sends)
        await set_sims(stack, "/sim/overrides", {})
        responses = await asyncio.gather(*sends)
        assert [r.status_code for r in responses] == [200] * HELD

        name = "inference_extension_flow_control_request_queue_duration_seconds"
        calls = [await metric_total(client, a, name) for a in admins]
    assert sum(calls) == HELD
    assert all(count > 0 for count in calls), calls


@pytest.mark.asyncio(loop_scope="session")
async def test_down_stops_every_replica(tmp_path: Path) -> None:
    options = StackOptions(
        state_dir=tmp_path / "stack", sims=1, time_scale=0.0, flow_controllers=len(REPLICAS)
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)
    records = [running.state.process(name) for name in REPLICAS]
    assert all(is_ours(record) for record in records)
    outcomes = await stop_stack(options.state_dir)
    assert outcomes is not None
    assert set(REPLICAS) <= {name for name, _ in outcomes}
    assert not any(is_ours(record) for record in records)
