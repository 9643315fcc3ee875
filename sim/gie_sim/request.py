"""State of one simulated generation request, shared by the scheduler and HTTP handlers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from gie_sim.kv_cache import BlockHash

__all__ = ["FinishReason", "SimRequest"]

FinishReason = str
"""``"length"`` when all ``max_tokens`` were generated, ``"abort"`` when cancelled."""


@dataclass(eq=False)
class SimRequest:
    """A request as the engine sees it.

    Times are on the engine clock's time line (seconds). ``token_times[i]`` is when the
    ``i``-th output token was produced; ``token_times[0]`` is the first token, produced at
    the end of the step that finished the prompt's prefill.
    """

    request_id: str
    prompt_len: int
    max_tokens: int
    arrival_time: float
    block_hashes: list[BlockHash] = field(repr=False)
    prompt_tokens: Sequence[int] = field(default=(), repr=False)

    # Filled in by the scheduler.
    blocks: list[int] = field(default_factory=list, repr=False)
    reserved_blocks: int = 0
    cached_tokens: int = 0
    prefill_remaining: int = 0
    generated: int = 0
    token_times: list[float] = field(default_factory=list, repr=False)
    admitted_time: float | None = None
    finish_time: float | None = None
    finish_reason: FinishReason | None = None

    _progress: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    # ----------------------------------------------------------------- derived
    @property
    def finished(self) -> bool:
        return self.finish_reason is not None

    @property
    def first_token_time(self) -> float | None:
        return self.token_times[0] if self.token_times else None

    @property
    def ttft(self) -> float | None:
        """Time to first token, from arrival."""
        first = self.first_token_time
        return None if first is None else first - self.arrival_time

    @property
    def inter_token_latencies(self) -> list[float]:
        times = self.token_times
        return [b - a for a, b in itertools.pairwise(times)]

    # ----------------------------------------------------------------- waiting
    def notify(self) -> None:
        """Wake whoever waits for progress (called by the engine after each change)."""
        self._progress.set()

    async def wait_progress(self, seen_tokens: int) -> None:
        """Return once more than ``seen_tokens`` tokens exist or the request finished."""
        while self.generated <= seen_tokens and not self.finished:
            self._progress.clear()
            await self._progress.wait()

    async def wait_first_token(self) -> None:
        await self.wait_progress(0)

    async def wait_finished(self) -> None:
        while not self.finished:
            self._progress.clear()
            await self._progress.wait()
