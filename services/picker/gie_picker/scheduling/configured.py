"""The configured scheduler behind the director's ``EndpointScheduler`` protocol."""

from __future__ import annotations

from collections.abc import Sequence

from gie.view import EndpointState
from gie_picker.requestcontrol.request import InferenceRequest, RequestError
from gie_picker.scheduling.adapter import scheduling_request
from gie_picker.scheduling.errors import NoEndpointError
from gie_picker.scheduling.scheduler import Scheduler


class ConfiguredScheduler:
    """Runs the EndpointPickerConfig's profiles; no endpoint left becomes a 503."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def schedule(
        self, request: InferenceRequest, candidates: Sequence[EndpointState], *, priority: int
    ) -> tuple[str, ...]:
        try:
            result = self._scheduler.schedule(
                scheduling_request(request, priority=priority), candidates
            )
        except NoEndpointError as exc:
            raise RequestError(503, f"no endpoint fits the request: {exc}") from exc
        return result.endpoints
