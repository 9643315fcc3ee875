"""The load generator against real simulated servers in this process (loopback only)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest_asyncio

from bench.loadgen import Load, drive, drive_side
from bench.workloads.kv_pressure import KvPressure
from bench.workloads.multi_turn_chat import MultiTurnChat
from bench.workloads.shared_prefix import SharedPrefix
from gie_sim import SimConfig, SimServer, run_servers


@pytest_asyncio.fixture(loop_scope="session")
async def server() -> AsyncIterator[SimServer]:
    async with run_servers(count=1, config=SimConfig(time_scale=0.02)) as servers:
        yield servers[0]


def _prefix_workload() -> SharedPrefix:
    return SharedPrefix(groups=2, prompts_per_group=3, system_prompt_tokens=200, output_tokens=8)


async def test_open_loop_streams_and_times_every_request(server: SimServer) -> None:
    workload = _prefix_workload().generate(seed=1, model="sim-llama")
    results = await drive(server.url, workload.requests, Load(rate=50.0), drain_timeout_s=10)
    assert [r.index for r in results] == list(range(6))
    for result in results:
        assert result.ok, result.error
        assert result.served_by == server.address
        assert result.output_tokens == 8
        assert result.ttft_s is not None
        assert 0 < result.ttft_s < result.latency_s
    # Later prompts of a group hit the cache the first one filled.
    assert sum(r.cached_tokens for r in results) > 0
    assert sorted(r.sent_at for r in results) == [r.sent_at for r in results]  # Poisson order


async def test_chat_turns_wait_for_the_previous_turn(server: SimServer) -> None:
    workload = MultiTurnChat(sessions=2, turns=3, reply_tokens=4).generate(
        seed=1, model="sim-llama"
    )
    results = await drive(server.url, workload.requests, Load(rate=1000.0), drain_timeout_s=10)
    assert all(r.ok for r in results)
    for request in workload.requests:
        if request.after is not None:
            previous = results[request.after]
            assert results[request.index].sent_at >= previous.finished_at - 1e-3


async def test_closed_loop_keeps_at_most_n_in_flight(server: SimServer) -> None:
    workload = _prefix_workload().generate(seed=2, model="sim-llama")
    results = await drive(server.url, workload.requests, Load(concurrency=2))
    assert all(r.ok for r in results)
    for result in results:
        in_flight = [r for r in results if r.sent_at <= result.sent_at < r.finished_at]
        assert len(in_flight) <= 2


async def test_errors_and_stragglers_become_failed_results() -> None:
    async with run_servers(count=1, config=SimConfig(time_scale=5.0)) as (slow,):
        workload = _prefix_workload().generate(seed=3, model="sim-llama")
        requests = list(workload.requests[:2])
        requests[1] = replace(requests[1], body={**requests[1].body, "model": "no-such-model"})
        results = await drive(slow.url, requests, Load(rate=100.0), drain_timeout_s=0.3)
    straggler, unknown_model = results
    assert not straggler.ok
    assert straggler.error is not None and straggler.error.startswith("unfinished")
    assert unknown_model.status == 404
    assert unknown_model.error is not None and "no-such-model" in unknown_model.error


async def test_connection_refused_is_a_failed_result() -> None:
    workload = _prefix_workload().generate(seed=4, model="sim-llama")
    results = await drive("http://127.0.0.1:9", workload.requests[:1], Load(rate=10.0))
    (result,) = results
    assert result.status is None
    assert result.error is not None and "Connect" in result.error


async def test_side_traffic_goes_straight_to_each_requests_server() -> None:
    spec = KvPressure(
        groups=2,
        prompts_per_group=4,
        system_prompt_tokens=100,
        question_tokens=8,
        output_tokens=2,
        side_per_group=2,
        side_one_off=3,
    )
    workload = spec.generate(seed=1, model="sim-llama")
    async with run_servers(count=2, config=SimConfig(time_scale=0.0)) as servers:
        addresses = [s.address for s in servers]
        results = await drive_side(
            addresses, workload.side, Load(rate=40.0), main_requests=len(workload), seed=1
        )
    assert len(results) == len(workload.side) == 7
    assert all(r.ok for r in results), [r.error for r in results]
    expected = sorted(addresses[(r.server or 0) % 2] for r in workload.side)
    assert sorted(r.served_by or "" for r in results) == expected
    # The group's requests sent to one server hit the prefix its first one cached there.
    assert sum(r.cached_tokens for r in results if r.group.startswith("side-group-")) > 0
