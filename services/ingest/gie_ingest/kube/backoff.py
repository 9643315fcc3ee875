"""Exponential backoff with full jitter, for retrying failed watches."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays that double from ``initial`` up to ``maximum``; each is drawn uniformly
    from ``[delay/2, delay]`` (``jitter`` returns a number in ``[0, 1)``; inject a
    fixed one in tests). ``reset()`` after a success starts over."""

    def __init__(
        self,
        *,
        initial_s: float = 0.2,
        maximum_s: float = 30.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._initial = initial_s
        self._maximum = maximum_s
        self._jitter = jitter
        self._attempt = 0

    def next(self) -> float:
        delay: float = min(self._maximum, self._initial * 2.0**self._attempt)
        self._attempt = min(self._attempt + 1, 32)
        return delay / 2 + delay / 2 * self._jitter()

    def reset(self) -> None:
        self._attempt = 0
