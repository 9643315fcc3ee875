"""Statistics, the servers' counters, CPU accounting from /proc."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from bench.loadgen import Load, RequestResult
from bench.loadgen.arrivals import poisson_offsets
from bench.measure import ServerCounters, parse_counters, percentile, summarise, take_snapshot
from bench.measure.cpu import CpuSnapshot
from bench.processes import group_alive, stop_group


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 90, None),
        ([5.0], 99, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 90, 4.6),
        ([3.0, 1.0, 2.0], 0, 1.0),
        ([3.0, 1.0, 2.0], 100, 3.0),
    ],
    ids=["empty", "single", "median-even", "p90", "min", "max"],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_poisson_offsets_scale_one_process_by_the_rate() -> None:
    slow = poisson_offsets(2000, rate=2.0, seed=1)
    fast = poisson_offsets(2000, rate=8.0, seed=1)
    assert slow[0] == 0.0
    assert fast == pytest.approx([t / 4 for t in slow])
    assert slow[-1] / len(slow) == pytest.approx(0.5, rel=0.1)  # mean gap 1 / rate
    assert poisson_offsets(5, rate=1.0, seed=2) != poisson_offsets(5, rate=1.0, seed=1)
    with pytest.raises(ValueError, match="rate"):
        poisson_offsets(3, rate=0.0, seed=1)


def test_parse_counters_sums_label_sets_and_ignores_the_rest() -> None:
    text = """# HELP vllm:prefix_cache_hits_total Prefix-cache hits, in tokens.
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{model_name="m"} 30.0
vllm:prefix_cache_queries_total{model_name="m"} 120.0
vllm:request_success_total{finished_reason="length",model_name="m"} 3.0
vllm:request_success_total{finished_reason="stop",model_name="m"} 2.0
vllm:num_requests_waiting{model_name="m"} 7.0
vllm:generation_tokens_total 64
"""
    counters = parse_counters(text)
    assert counters == ServerCounters(
        prefix_hits=30, prefix_queries=120, requests=5, generation_tokens=64
    )
    assert counters.minus(ServerCounters(prefix_hits=10, requests=1)).requests == 4


def _result(index: int, *, ok: bool, served: str, ttft: float, sent: float) -> RequestResult:
    return RequestResult(
        index=index,
        group="g",
        status=200 if ok else 503,
        served_by=served,
        sent_at=sent,
        lateness_s=0.0,
        ttft_s=ttft if ok else None,
        latency_s=1.0,
        output_tokens=10 if ok else 0,
        prompt_tokens=100,
        cached_tokens=50,
        error=None if ok else "HTTP 503: busy",
    )


def test_summarise_one_point() -> None:
    results = [
        _result(0, ok=True, served="a:1", ttft=0.1, sent=0.0),
        _result(1, ok=True, served="b:2", ttft=0.3, sent=1.0),
        _result(2, ok=False, served="b:2", ttft=0.0, sent=1.0),
    ]
    cpu = CpuSnapshot(
        groups={"envoy": 0.5, "picker": 1.5, "nats": 0.25, "sims": 2.0},
        own=0.75,
        machine_busy=1.0,
        machine_total=4.0,
        wall=2.0,
    )
    point = summarise(
        load=Load(rate=2.0),
        results=results,
        counters=[
            ServerCounters(prefix_hits=10, prefix_queries=40, requests=1),
            ServerCounters(prefix_hits=30, prefix_queries=40, requests=1),
        ],
        servers=["a:1", "b:2"],
        cpu=cpu,
        router_groups=["picker", "envoy"],
        support_groups=["nats"],
        sims_group="sims",
    )
    assert (point.requests, point.succeeded) == (3, 2)
    assert point.success_rate == pytest.approx(2 / 3)
    assert point.duration_s == pytest.approx(2.0)  # first send 0.0, last finish 2.0
    assert point.tokens_per_s == pytest.approx(10.0)
    assert point.ttft_p50_s == pytest.approx(0.2)
    assert point.hit_rate == pytest.approx(0.5)
    assert point.client_hit_rate == pytest.approx(0.5)
    assert point.served == {"a:1": 1, "b:2": 1}
    assert point.spread == [1, 1]
    assert point.spread_cv == 0.0
    assert point.router_cpu_s == pytest.approx(2.0)
    assert point.router_parts == {"picker": 1.5, "envoy": 0.5}
    assert point.support_cpu_s == pytest.approx(0.25)
    assert point.sims_cpu_s == pytest.approx(2.0)
    assert point.machine_cpu == pytest.approx(0.25)
    assert point.errors == {"HTTP 503: busy": 1}


def test_cpu_of_a_busy_process_group_is_counted() -> None:
    # Busy for 0.5 s of its own CPU time (however loaded the machine), then idle.
    busy_then_idle = (
        "import sys, time\nwhile time.process_time() < 0.5: pass\n"
        "print('done', flush=True)\ntime.sleep(30)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", busy_then_idle], start_new_session=True, stdout=subprocess.PIPE
    )
    groups = {"busy": child.pid, "absent": 2**22 + 1}
    try:
        before = take_snapshot(groups)
        started = time.monotonic()
        assert child.stdout is not None and child.stdout.readline() == b"done\n"
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        delta = take_snapshot(groups).since(before)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert delta.groups["busy"] > 0.2
    assert delta.groups["absent"] == 0.0
    assert 0.0 < delta.machine_utilisation <= 1.0
    assert delta.wall >= 1.0


def _members(pgid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += os.getpgid(int(entry.name)) == pgid
            except ProcessLookupError:
                continue
    return count


async def test_stop_group_stops_the_leader_and_its_children() -> None:
    script = "import subprocess, sys, time\n"
    script += "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    script += "time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)  # noqa: ASYNC220
    for _ in range(100):
        if _members(child.pid) == 2:
            break
        await asyncio.sleep(0.05)
    assert _members(child.pid) == 2
    assert await stop_group(child, grace_s=2.0)
    assert not group_alive(child.pid)
    assert child.returncode is not None  # the leader was reaped


def test_side_traffic_is_left_out_of_the_routers_hit_rate() -> None:
    routed = [_result(0, ok=True, served="a:1", ttft=0.1, sent=0.0)]  # 50 of 100 cached
    side = [
        replace(_result(0, ok=True, served="b:2", ttft=0.2, sent=0.0), cached_tokens=90),
        replace(_result(1, ok=True, served="b:2", ttft=0.4, sent=0.5), cached_tokens=0),
        _result(2, ok=False, served="b:2", ttft=0.0, sent=0.5),  # never counted by a server
    ]
    cpu = CpuSnapshot(groups={"oracle": 0.5}, own=0.1, machine_busy=1.0, machine_total=4.0, wall=1)
    point = summarise(
        load=Load(rate=2.0),
        results=routed,
        side=side,
        # The servers counted the routed request and the two side requests that ran.
        counters=[
            ServerCounters(prefix_hits=50, prefix_queries=100, requests=1),
            ServerCounters(prefix_hits=90, prefix_queries=200, requests=2),
        ],
        servers=["a:1", "b:2"],
        cpu=cpu,
        router_groups=["oracle"],
        support_groups=[],
        sims_group="sims",
    )
    assert point.hit_rate == pytest.approx(0.5)
    assert point.spread == [1, 2]  # the servers' view: every request they ran
    assert (point.side_requests, point.side_success_rate) == (3, pytest.approx(2 / 3))
    assert point.side_hit_rate == pytest.approx(90 / 200)
    assert point.side_ttft_p90_s == pytest.approx(0.38)


def test_a_fully_busy_machine_is_busy_one_not_more() -> None:
    # Seen on a saturated machine: the two sums of the same ticks rounded differently.
    cpu = CpuSnapshot(
        groups={}, own=0.0, machine_busy=4.170000000001892, machine_total=4.169999999998254, wall=2
    )
    assert cpu.machine_utilisation == 1.0
