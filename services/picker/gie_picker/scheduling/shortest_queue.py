"""Pick the endpoint with the shortest waiting queue."""

from __future__ import annotations

import random

from gie.view import EndpointState


class ShortestQueuePicker:
    """Shortest waiting queue first, then fewest running requests, ties at random.

    Endpoints without metrics yet count as empty (a new endpoint gets traffic).
    """

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def pick(self, candidates: list[EndpointState]) -> EndpointState | None:
        if not candidates:
            return None

        def load(state: EndpointState) -> tuple[int, int]:
            metrics = state.metrics
            return (metrics.waiting_queue_size, metrics.running_requests) if metrics else (0, 0)

        best = min(load(state) for state in candidates)
        return self._rng.choice([state for state in candidates if load(state) == best])
