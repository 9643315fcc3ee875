"""Adapter: the shortest-queue picker behind the director's scheduler protocol."""

from __future__ import annotations

from collections.abc import Sequence

from gie.view import EndpointState
from gie_picker.request import InferenceRequest, RequestError
from gie_picker.scheduling.shortest_queue import ShortestQueuePicker


class ShortestQueueScheduler:
    def __init__(self, picker: ShortestQueuePicker) -> None:
        self._picker = picker

    def schedule(
        self, request: InferenceRequest, candidates: Sequence[EndpointState]
    ) -> tuple[str, ...]:
        chosen = self._picker.pick(list(candidates))
        if chosen is None:
            raise RequestError(503, "no endpoint available")
        return (chosen.address,)
