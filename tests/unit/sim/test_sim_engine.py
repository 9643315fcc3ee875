"""The async engine: exact timings on a virtual clock, streaming order, CPU frugality."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gie.clock import ManualClock, SystemClock
from gie_sim import Engine, SimConfig, render_metrics
from gie_sim.engine import MIN_SLEEP_S

CFG = SimConfig(
    block_size=4,
    num_gpu_blocks=256,
    max_num_seqs=2,
    max_num_batched_tokens=512,
    prefill_tokens_per_s=1000.0,
    decode_itl_ms=10.0,
    decode_itl_per_seq_ms=1.0,
)


def _metric(page: str, name: str) -> float:
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    raise KeyError(name)


async def test_cached_prefix_gives_shorter_ttft_on_the_virtual_clock() -> None:
    async with Engine(CFG, ManualClock()) as engine:
        shared = list(range(1, 65))  # 64 tokens
        warm = engine.submit(shared, 1)
        await warm.wait_finished()
        hit = engine.submit(shared, 1)
        await hit.wait_finished()
        miss = engine.submit(list(range(500, 564)), 1)
        await miss.wait_finished()

    assert hit.cached_tokens == 60  # the last block is recomputed (it holds the last token)
    assert hit.ttft == pytest.approx(0.010 + 0.001 + 0.004)
    assert miss.ttft == pytest.approx(0.010 + 0.001 + 0.064)
    assert warm.ttft == pytest.approx(miss.ttft)


async def test_extra_requests_wait_and_show_up_in_the_metrics_page() -> None:
    async with Engine(CFG, ManualClock()) as engine:
        reqs = [engine.submit([i, i + 1, i + 2], 4) for i in range(0, 15, 3)]
        await reqs[0].wait_first_token()
        page = render_metrics(CFG, engine.snapshot())
        assert _metric(page, "vllm:num_requests_running") == 2
        assert _metric(page, "vllm:num_requests_waiting") == 3
        assert _metric(page, "vllm:kv_cache_usage_perc") > 0
        await asyncio.gather(*(req.wait_finished() for req in reqs))
        page = render_metrics(CFG, engine.snapshot())

    assert _metric(page, "vllm:num_requests_waiting") == 0
    assert _metric(page, "vllm:kv_cache_usage_perc") == 0
    assert _metric(page, "vllm:request_success_total") == 5
    assert _metric(page, "vllm:generation_tokens_total") == 20


async def test_itl_grows_with_batch_and_a_joining_prefill_delays_decodes() -> None:
    cfg = CFG.model_copy(update={"max_num_seqs": 8})
    async with Engine(cfg, ManualClock()) as engine:
        alone = engine.submit([1, 2], 4)
        await alone.wait_finished()
        batch = [engine.submit([i], 4) for i in range(10, 14)]
        await asyncio.gather(*(req.wait_finished() for req in batch))

        decoding = engine.submit([7, 8], 30)
        await decoding.wait_first_token()
        joiner = engine.submit(list(range(100, 200)), 2)  # 100-token prefill
        await asyncio.gather(decoding.wait_finished(), joiner.wait_finished())

    assert alone.inter_token_latencies == pytest.approx([0.011] * 3)
    assert batch[0].inter_token_latencies == pytest.approx([0.014] * 3)
    # The decode step that also ran the joiner's prefill took 10 + 2 + 100 ms.
    first = joiner.first_token_time
    assert first is not None and first in decoding.token_times
    index = decoding.token_times.index(first)
    assert decoding.inter_token_latencies[index - 1] == pytest.approx(0.112)


async def test_time_scale_zero_streams_everything_in_order_immediately() -> None:
    cfg = SimConfig(time_scale=0.0, max_num_seqs=4)
    async with Engine(cfg, SystemClock()) as engine:
        reqs = [engine.submit(list(range(i, i + 50)), 100) for i in range(8)]
        seen: list[int] = []
        sent = 0
        while not reqs[-1].finished:
            await reqs[-1].wait_progress(sent)
            seen.append(reqs[-1].generated)
            sent = reqs[-1].generated
        await asyncio.wait_for(asyncio.gather(*(r.wait_finished() for r in reqs)), 5)

    assert all(req.generated == 100 and req.finish_reason == "length" for req in reqs)
    assert seen == sorted(seen) and len(seen) > 1  # tokens arrived progressively
    assert reqs[-1].admitted_time is not None


class _CountingClock(SystemClock):
    def __init__(self) -> None:
        self.sleeps = 0

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        await super().sleep(seconds)


async def test_tiny_time_scale_batches_steps_per_wakeup() -> None:
    # Steps of 11 ms scaled by 0.005 are 55 us: far below a millisecond.
    cfg = CFG.model_copy(update={"time_scale": 0.005})
    clock = _CountingClock()
    async with Engine(cfg, clock) as engine:
        req = engine.submit([1, 2, 3], 400)
        await asyncio.wait_for(req.wait_finished(), 10)

    simulated = (req.finish_time or 0.0) - (req.admitted_time or 0.0)
    assert req.generated == 400
    # Never more than one real sleep per MIN_SLEEP_S of simulated time (400 steps -> <= 24).
    assert clock.sleeps <= simulated / MIN_SLEEP_S + 2
    assert clock.sleeps < 400 / 10


async def test_stop_aborts_in_flight_requests() -> None:
    engine = Engine(CFG, ManualClock())
    engine.start()
    reqs = [engine.submit([1, 2, 3], 200) for _ in range(3)]
    await reqs[0].wait_first_token()
    await engine.stop()
    assert [req.finish_reason for req in reqs] == ["abort"] * 3
    assert engine.snapshot().kv_cache_usage == 0.0
