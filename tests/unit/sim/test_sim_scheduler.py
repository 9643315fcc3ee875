"""Continuous batching and the timing model, driven step by step without any clock."""

from __future__ import annotations

import pytest

from gie_sim.config import SimConfig
from gie_sim.kv_cache import hash_blocks
from gie_sim.request import SimRequest
from gie_sim.scheduler import RequestRejected, Scheduler

# Round numbers: a step costs 10 ms + 1 ms per sequence + 1 ms per prefill token.
CFG = SimConfig(
    block_size=4,
    num_gpu_blocks=64,
    max_num_seqs=4,
    max_num_batched_tokens=64,
    prefill_tokens_per_s=1000.0,
    decode_itl_ms=10.0,
    decode_itl_per_seq_ms=1.0,
)


def _req(
    tokens: list[int], max_tokens: int, config: SimConfig = CFG, name: str = "r"
) -> SimRequest:
    return SimRequest(
        request_id=name,
        prompt_len=len(tokens),
        max_tokens=max_tokens,
        arrival_time=0.0,
        block_hashes=hash_blocks(tokens, config.block_size),
    )


def _run(sched: Scheduler, now: float = 0.0, max_steps: int = 10_000) -> float:
    for _ in range(max_steps):
        plan = sched.schedule(now)
        if plan is None:
            return now
        now += plan.duration
        sched.complete(plan, now)
    raise AssertionError("scheduler did not drain")


@pytest.mark.parametrize(
    ("num_seqs", "prefill_tokens", "expected_ms"),
    [
        (1, 0, 11.0),
        (4, 0, 14.0),
        (1, 100, 111.0),
        (0, 0, 0.0),
    ],
)
def test_step_duration_formula(num_seqs: int, prefill_tokens: int, expected_ms: float) -> None:
    assert CFG.step_seconds(num_seqs, prefill_tokens) == pytest.approx(expected_ms / 1000)


def test_default_profile_is_an_8b_model_on_one_h100() -> None:
    cfg = SimConfig()
    assert cfg.step_seconds(1, 0) == pytest.approx(0.007)
    assert cfg.step_seconds(128, 0) == pytest.approx(0.0197)
    assert cfg.num_gpu_blocks * cfg.block_size == 416_000
    assert cfg.max_num_seqs == 256


def test_time_scale_multiplies_durations() -> None:
    assert CFG.model_copy(update={"time_scale": 0.5}).step_seconds(1, 0) == pytest.approx(0.0055)
    assert CFG.model_copy(update={"time_scale": 0.0}).step_seconds(4, 999) == 0.0


@pytest.mark.parametrize(
    ("prompt_len", "expected_cached"),
    [
        pytest.param(33, 32, id="all full blocks"),
        pytest.param(32, 28, id="last token always recomputed"),
        pytest.param(4, 0, id="single block prompt never hits"),
    ],
)
def test_repeated_prompt_reuses_leading_full_blocks(prompt_len: int, expected_cached: int) -> None:
    sched = Scheduler(CFG)
    tokens = list(range(1, prompt_len + 1))
    first, second = _req(tokens, 2), _req(tokens, 2)
    sched.add(first)
    end = _run(sched)
    sched.add(second)
    _run(sched, end)

    assert (first.cached_tokens, second.cached_tokens) == (0, expected_cached)
    assert sched.stats.prefix_cache_queries == 2 * prompt_len
    assert sched.stats.prefix_cache_hits == expected_cached


def test_cached_prefix_shortens_time_to_first_token() -> None:
    sched = Scheduler(CFG)
    shared = list(range(1, 34))  # 33 tokens
    other = list(range(1000, 1033))  # same length, nothing in common
    warm = _req(shared, 1)
    sched.add(warm)
    now = _run(sched)

    hit, miss = _req(shared, 1), _req(other, 1)
    sched.add(hit)
    t0 = now
    now = _run(sched, now)
    hit_ttft = now - t0
    sched.add(miss)
    t0 = now
    now = _run(sched, now)
    miss_ttft = now - t0

    assert hit.cached_tokens == 32
    assert hit_ttft == pytest.approx(0.010 + 0.001 + 0.001)  # only 1 token to prefill
    assert miss_ttft == pytest.approx(0.010 + 0.001 + 0.033)
    assert warm.ttft is not None and warm.ttft == pytest.approx(miss_ttft)


def test_requests_beyond_max_num_seqs_wait() -> None:
    sched = Scheduler(CFG)
    reqs = [_req([i, i + 1], 3, name=f"r{i}") for i in range(0, 12, 2)]
    for req in reqs:
        sched.add(req)
    plan = sched.schedule(0.0)
    assert plan is not None
    assert (sched.num_running, sched.num_waiting) == (4, 2)
    sched.complete(plan, plan.duration)
    _run(sched, plan.duration)
    assert all(req.finish_reason == "length" and req.generated == 3 for req in reqs)
    # FCFS: the two extras were admitted only after the first batch finished.
    first_batch_end = max(req.finish_time or 0.0 for req in reqs[:4])
    assert all((req.admitted_time or 0.0) >= first_batch_end for req in reqs[4:])


def test_kv_cache_capacity_blocks_admission_and_no_preemption() -> None:
    cfg = CFG.model_copy(update={"num_gpu_blocks": 10})
    sched = Scheduler(cfg)
    big = _req(list(range(20)), 17, cfg)  # (20 + 16) tokens -> 9 blocks reserved
    small = _req(list(range(100, 108)), 2, cfg)  # needs 3 blocks, only 1 left
    sched.add(big)
    sched.add(small)
    plan = sched.schedule(0.0)
    assert plan is not None
    assert (sched.num_running, sched.num_waiting) == (1, 1)
    assert sched.cache.usage == pytest.approx(5 / 10)  # only the prompt's blocks so far
    _run(sched)
    assert big.generated == 17 and small.generated == 2
    assert sched.cache.usage == 0.0


def test_chunked_prefill_splits_long_prompts_over_steps() -> None:
    cfg = CFG.model_copy(update={"max_num_batched_tokens": 8})
    sched = Scheduler(cfg)
    req = _req(list(range(20)), 1, cfg)
    sched.add(req)
    _run(sched)
    # chunks of 8, 8 and 4 tokens, one sequence each step
    assert req.ttft == pytest.approx(0.019 + 0.019 + 0.015)


def test_itl_grows_with_batch_size() -> None:
    def itl(batch: int) -> list[float]:
        sched = Scheduler(CFG)
        reqs = [_req([i], 5, name=str(i)) for i in range(batch)]
        for req in reqs:
            sched.add(req)
        _run(sched)
        return reqs[0].inter_token_latencies

    assert itl(1) == pytest.approx([0.011] * 4)
    assert itl(4) == pytest.approx([0.014] * 4)


@pytest.mark.parametrize(
    ("prompt_len", "max_tokens", "message"),
    [
        (CFG.max_model_len, 1, "maximum context length"),
        (300, 10, "KV-cache blocks"),
    ],
)
def test_impossible_requests_are_rejected(prompt_len: int, max_tokens: int, message: str) -> None:
    cfg = CFG.model_copy(update={"num_gpu_blocks": 8})
    with pytest.raises(RequestRejected, match=message):
        Scheduler(cfg).check(prompt_len, max_tokens)


def test_abort_frees_blocks_and_queue_slots() -> None:
    sched = Scheduler(CFG)
    running, waiting = _req(list(range(10)), 50), _req(list(range(20, 30)), 50)
    sched.add(running)
    plan = sched.schedule(0.0)
    assert plan is not None
    sched.add(waiting)
    sched.abort(running, 0.001)
    sched.abort(waiting, 0.001)
    sched.complete(plan, plan.duration)  # the in-flight step ignores aborted requests
    assert running.finish_reason == waiting.finish_reason == "abort"
    assert running.generated == 0
    assert (sched.num_running, sched.num_waiting, sched.cache.usage) == (0, 0, 0.0)
    assert sched.schedule(1.0) is None
