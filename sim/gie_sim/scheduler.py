"""Continuous-batching scheduler: pure, synchronous, clock-free.

The engine calls :meth:`Scheduler.schedule` to plan a step at time ``start`` and, once the
step's duration has elapsed, :meth:`Scheduler.complete` with the step's end time. Tests can
do the same by hand and get exact, deterministic timings.

Per step (like vLLM V1 with chunked prefill):

1. every running sequence that finished its prefill decodes one token;
2. running sequences still prefilling take prompt chunks from the remaining token budget
   (``max_num_batched_tokens``);
3. waiting requests are admitted first-come-first-served while a sequence slot is free, the
   budget is not exhausted and the KV cache can hold them. If the head of the queue does not
   fit, nobody behind it is admitted.

Admission reserves KV blocks for the whole request (prompt + ``max_tokens``) up front, so
running requests are never preempted; blocks are still *allocated* one at a time as the
sequence grows, so ``kv_cache_usage_perc`` follows the real footprint.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from gie_sim.config import SimConfig
from gie_sim.kv_cache import PrefixCache, blocks_for_tokens
from gie_sim.request import SimRequest

__all__ = ["EngineStats", "RequestRejected", "Scheduler", "StepPlan", "context_length_message"]


class RequestRejected(ValueError):
    """The request can never be served with this configuration (HTTP 400)."""


def context_length_message(
    max_model_len: int, prompt_len: int, max_tokens: int, *, at_least: bool = False
) -> str:
    """What a request over the context length is told (``at_least``: ``prompt_len`` is
    a lower bound, the prompt having been tokenized only that far)."""
    more = "at least " if at_least else ""
    return (
        f"This model's maximum context length is {max_model_len} tokens. "
        f"However, you requested {more}{prompt_len + max_tokens} tokens ({more}{prompt_len} "
        f"in the prompt, {max_tokens} in the completion). Please reduce the length "
        "of the prompt or completion."
    )


@dataclass
class EngineStats:
    """Monotonic counters, in the units vLLM uses."""

    prefix_cache_queries: int = 0  # prompt tokens looked up in the prefix cache
    prefix_cache_hits: int = 0  # of which found cached
    prompt_tokens: int = 0
    generation_tokens: int = 0
    request_success: int = 0


@dataclass
class StepPlan:
    """What one engine step computes, and how long it takes (scaled seconds)."""

    start: float
    duration: float
    decodes: list[SimRequest] = field(default_factory=list)
    prefills: list[tuple[SimRequest, int]] = field(default_factory=list)

    @property
    def num_seqs(self) -> int:
        return len(self.decodes) + len(self.prefills)

    @property
    def prefill_tokens(self) -> int:
        return sum(chunk for _, chunk in self.prefills)


class Scheduler:
    """Waiting queue, running batch and KV cache of one simulated server."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.cache = PrefixCache(config.num_gpu_blocks, config.block_size)
        self.stats = EngineStats()
        self._waiting: deque[SimRequest] = deque()
        self._running: list[SimRequest] = []
        self._reserved = 0  # blocks promised to running requests, not yet allocated

    # ----------------------------------------------------------------- queue state
    @property
    def num_waiting(self) -> int:
        return len(self._waiting)

    @property
    def num_running(self) -> int:
        return len(self._running)

    @property
    def has_work(self) -> bool:
        return bool(self._running or self._waiting)

    def _total_blocks(self, req: SimRequest) -> int:
        # The last sampled token is never fed back, so it needs no KV slot.
        return blocks_for_tokens(req.prompt_len + req.max_tokens - 1, self.config.block_size)

    # ----------------------------------------------------------------- requests
    def check(self, prompt_len: int, max_tokens: int) -> None:
        """Raise :class:`RequestRejected` if such a request could never run."""
        cfg = self.config
        if prompt_len + max_tokens > cfg.max_model_len:
            raise RequestRejected(context_length_message(cfg.max_model_len, prompt_len, max_tokens))
        needed = blocks_for_tokens(prompt_len + max_tokens - 1, cfg.block_size)
        if needed > cfg.num_gpu_blocks:
            raise RequestRejected(
                f"The request needs {needed} KV-cache blocks but the server only has "
                f"{cfg.num_gpu_blocks}. Please reduce the length of the prompt or completion."
            )

    def add(self, req: SimRequest) -> None:
        self.check(req.prompt_len, req.max_tokens)
        self._waiting.append(req)

    def abort(self, req: SimRequest, now: float) -> None:
        """Drop a request wherever it is and give its KV blocks back."""
        if req.finished:
            return
        if req.admitted_time is None:
            self._waiting.remove(req)
        else:
            self._running.remove(req)
            self._release(req)
        req.finish_reason = "abort"
        req.finish_time = now
        req.notify()

    def abort_all(self, now: float) -> None:
        for req in [*self._running, *self._waiting]:
            self.abort(req, now)

    def _release(self, req: SimRequest) -> None:
        self.cache.release(req.blocks)
        req.blocks = []
        self._reserved -= req.reserved_blocks
        req.reserved_blocks = 0

    def _try_admit(self, req: SimRequest, now: float) -> bool:
        bs = self.config.block_size
        # vLLM always recomputes the last prompt token, so at most prompt_len - 1 are cached.
        hits = self.cache.match(req.block_hashes[: (req.prompt_len - 1) // bs])
        total = self._total_blocks(req)
        needed = self.cache.count_unpinned(hits) + total - len(hits)
        if self.cache.num_free - self._reserved < needed:
            return False
        self.cache.acquire(hits)
        prompt_blocks = blocks_for_tokens(req.prompt_len, bs)
        req.blocks = hits + self.cache.allocate(prompt_blocks - len(hits))
        self.cache.register_prompt(req.blocks, req.block_hashes, req.prompt_tokens, len(hits))
        req.reserved_blocks = total - prompt_blocks
        self._reserved += req.reserved_blocks
        req.cached_tokens = len(hits) * bs
        req.prefill_remaining = req.prompt_len - req.cached_tokens
        req.admitted_time = now
        self.stats.prefix_cache_queries += req.prompt_len
        self.stats.prefix_cache_hits += req.cached_tokens
        self.stats.prompt_tokens += req.prompt_len
        return True

    def _grow(self, req: SimRequest) -> None:
        """Make room for the KV of the token fed in this decode step."""
        needed = blocks_for_tokens(req.prompt_len + req.generated, self.config.block_size)
        if len(req.blocks) < needed:
            req.blocks.extend(self.cache.allocate(1))
            req.reserved_blocks -= 1
            self._reserved -= 1

    # ----------------------------------------------------------------- stepping
    def schedule(self, start: float) -> StepPlan | None:
        """Plan the next step starting at ``start``; ``None`` when there is nothing to do."""
        cfg = self.config
        plan = StepPlan(start=start, duration=0.0)
        budget = cfg.max_num_batched_tokens
        for req in self._running:
            if req.prefill_remaining == 0:
                self._grow(req)
                plan.decodes.append(req)
                budget -= 1
        for req in self._running:
            if req.prefill_remaining > 0 and budget > 0:
                chunk = min(req.prefill_remaining, budget)
                plan.prefills.append((req, chunk))
                budget -= chunk
        while self._waiting and budget > 0 and len(self._running) < cfg.max_num_seqs:
            req = self._waiting[0]
            if not self._try_admit(req, start):
                break
            self._waiting.popleft()
            self._running.append(req)
            chunk = min(req.prefill_remaining, budget)
            plan.prefills.append((req, chunk))
            budget -= chunk
        if plan.num_seqs == 0:
            return None
        plan.duration = cfg.step_seconds(plan.num_seqs, plan.prefill_tokens)
        return plan

    def complete(self, plan: StepPlan, end: float) -> None:
        """Apply the results of ``plan``: one token per decode, finished prefills' first token."""
        any_finished = False
        for req in plan.decodes:
            if not req.finished:
                any_finished |= self._emit(req, end)
        for req, chunk in plan.prefills:
            if req.finished:
                continue
            req.prefill_remaining -= chunk
            if req.prefill_remaining == 0:
                any_finished |= self._emit(req, end)
        if any_finished:
            self._running = [req for req in self._running if not req.finished]

    def _emit(self, req: SimRequest, now: float) -> bool:
        req.generated += 1
        req.token_times.append(now)
        self.stats.generation_tokens += 1
        done = req.generated >= req.max_tokens
        if done:
            self._release(req)
            req.finish_reason = "length"
            req.finish_time = now
            self.stats.request_success += 1
        req.notify()
        return done
