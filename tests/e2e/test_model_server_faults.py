"""Model-server faults under load through the real gateway (issue: fault tolerance).

Two simulators, each its own process, and a picker that names a primary and a
fallback (``maxNumOfEndpoints: 2``). One simulator is broken while clients send
completions: it refuses connections, resets them, answers 503, hangs, or is
SIGKILLed. Envoy moves a refused, reset or 503 request to the picker's next
endpoint, so no client sees those faults; within 2 s the picker stops naming the
broken server first (from its completion records and its scrapes), which is what
saves requests from a hung server, for which no retry helps.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from gie_cli.devstack import PartRecord, PartStartError, StackOptions, start_stack
from gie_cli.devstack.stack import RunningStack
from tests.e2e.model_server_load import (
    BODY,
    Outcome,
    Run,
    destinations,
    drive,
    first_left_out,
)

pytestmark = pytest.mark.e2e

CONFIG = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: max-score-picker
  parameters: {maxNumOfEndpoints: 2}
schedulingProfiles:
- name: default
  plugins:
  - {pluginRef: queue-scorer, weight: 1}
  - {pluginRef: max-score-picker}
"""
FAULT_AT_S = 1.0
KNOWN_WITHIN_S = 2.0  # the picker stops naming a broken server first this soon


async def _start(tmp_path: Path) -> RunningStack:
    config = tmp_path / "epp.yaml"
    config.write_text(CONFIG)
    options = StackOptions(
        state_dir=tmp_path / "stack",
        sims=2,
        sim_processes=True,
        time_scale=0.05,
        config_file=config,
    )
    try:
        return await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)


@pytest_asyncio.fixture(loop_scope="session")
async def stack(tmp_path: Path) -> AsyncIterator[RunningStack]:
    """A fresh stack per test: no ejection carries over from one to the next."""
    running = await _start(tmp_path)
    try:
        yield running
    finally:
        await running.stop()


def _sims(running: RunningStack) -> list[PartRecord]:
    return [part for part in running.state.parts if part.kind == "sim"]


async def _set_api_faults(sim: PartRecord, body: dict[str, object]) -> None:
    """Through the sim process's admin listener: it answers while the server refuses."""
    url = f"{sim.addresses['sim-admin']}/sim/servers/{sim.addresses['endpoint']}/api-faults"
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        (await client.post(url, json=body)).raise_for_status()


async def _ejections(running: RunningStack) -> dict[str, float]:
    admin = next(p.addresses["admin"] for p in running.state.parts if p.name == "picker")
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        text = (await client.get(f"{admin}/metrics")).text
    return {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "gie_picker_endpoint_ejections"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


async def _primaries(running: RunningStack, outcomes: list[Outcome]) -> dict[str, str]:
    """Request id -> the endpoint the picker named first."""
    log = running.store.logs / "envoy-access.log"
    named = await destinations(log, {o.request_id for o in outcomes if o.status})
    return {request_id: endpoints[0] for request_id, endpoints in named.items()}


async def _left_out_in_time(name: str, running: RunningStack, run: Run, broken: str) -> float:
    """Assert the picker left ``broken`` out within 2 s of the fault and named it first
    for no request sent while it was out (the first ejection lasts at least 2 s; a
    server left out by its scrapes stays out while they fail). Returns the time."""
    at = first_left_out(running.state.process("picker").log, broken, run.fault_wall - 0.5)
    assert at is not None, f"{name}: the picker never left {broken} out"
    to_ejection = at - run.fault_wall
    primaries = await _primaries(running, run.outcomes)
    out_from, out_until = to_ejection + 0.1, to_ejection + 1.9
    named = [
        o.sent_s
        for o in run.outcomes
        if out_from <= o.sent_s <= out_until and primaries.get(o.request_id) == broken
    ]
    failed = [o for o in run.outcomes if o.status != 200]
    print(
        f"{name}: sent {len(run.outcomes)}, failed {len(failed)}, "
        f"left out {to_ejection:.2f} s after the fault"
    )
    assert to_ejection < KNOWN_WITHIN_S, name
    assert named == [], f"{name}: named first while left out, at {named}"
    return to_ejection


async def _stream_completes(gateway: str) -> bool:
    body = {**BODY, "stream": True, "max_tokens": 8}
    async with (
        httpx.AsyncClient(base_url=gateway, timeout=10.0, trust_env=False) as client,
        client.stream("POST", "/v1/completions", json=body) as response,
    ):
        text = (await response.aread()).decode()
    return response.status_code == 200 and text.rstrip().endswith("data: [DONE]")


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    ("mode", "reasons"),
    [
        ("refuse", {"retried", "connect_failure", "scrape"}),
        ("reset", {"retried", "reset"}),
        ("http503", {"retried", "http_5xx"}),
    ],
)
async def test_a_failing_server_costs_no_request_and_is_left_out(
    stack: RunningStack, mode: str, reasons: set[str]
) -> None:
    broken, _ = _sims(stack)
    endpoint = broken.addresses["endpoint"]
    before = await _ejections(stack)
    try:
        run = await drive(
            stack.gateway,
            fault=lambda: _set_api_faults(broken, {"mode": mode}),
            fault_at_s=FAULT_AT_S,
            duration_s=FAULT_AT_S + KNOWN_WITHIN_S + 1.5,
        )
        # Streams started once the fault is known are not cut by it either.
        streams = [await _stream_completes(stack.gateway) for _ in range(5)]
    finally:
        await _set_api_faults(broken, {"mode": "none"})
    # Every request succeeded: Envoy sent each one the broken server failed onwards.
    failed = [(o.sent_s, o.status, o.error) for o in run.outcomes if o.status != 200]
    assert failed == [], failed
    assert all(streams)
    assert endpoint not in {o.served_by for o in run.outcomes if o.sent_s >= 0.1}
    # Within 2 s the picker left the broken server out, and said why in its metrics.
    await _left_out_in_time(mode, stack, run, endpoint)
    after = await _ejections(stack)
    grown = {reason for reason in after if after[reason] > before.get(reason, 0.0)}
    assert grown & reasons, (before, after)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_hung_server_stops_being_chosen_within_two_seconds(stack: RunningStack) -> None:
    broken, _ = _sims(stack)
    endpoint = broken.addresses["endpoint"]
    before = await _ejections(stack)
    try:
        run = await drive(
            stack.gateway,
            fault=lambda: _set_api_faults(broken, {"mode": "hang"}),
            fault_at_s=FAULT_AT_S,
            duration_s=FAULT_AT_S + KNOWN_WITHIN_S + 1.5,
            clients=4,
            timeout_s=1.0,  # a client gives up on a hung request and sends the next
        )
    finally:
        await _set_api_faults(broken, {"mode": "none"})
    # Requests the picker sent to the hung server before it knew hang (no retry can
    # help: the server accepted them); every request sent 2 s after the fault succeeds.
    hung = [o.sent_s for o in run.outcomes if o.status != 200]
    late = [(o.sent_s, o.error) for o in run.outcomes if o.status != 200 and o.sent_s >= 2.0]
    print(f"hang: {len(hung)} requests hung, the last sent {max(hung, default=0):.2f} s after")
    assert late == [], late
    await _left_out_in_time("hang", stack, run, endpoint)
    after = await _ejections(stack)
    assert after.get("scrape", 0.0) > before.get("scrape", 0.0), (before, after)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_killed_server_costs_no_new_request(stack: RunningStack) -> None:
    broken, _ = _sims(stack)
    pid = stack.state.process(broken.process).pid

    async def kill() -> None:
        os.kill(pid, signal.SIGKILL)

    run = await drive(
        stack.gateway,
        fault=kill,
        fault_at_s=FAULT_AT_S,
        duration_s=FAULT_AT_S + KNOWN_WITHIN_S + 1.5,
    )
    # Only a request the killed server was answering may fail (its response started).
    failed = [(o.sent_s, o.status, o.error) for o in run.outcomes if o.status != 200]
    assert [f for f in failed if f[0] > 0] == [], failed
    await _left_out_in_time("sigkill", stack, run, broken.addresses["endpoint"])
