"""From the picker's parsed request to what scheduling sees."""

from __future__ import annotations

from gie_picker.requestcontrol.request import InferenceRequest
from gie_picker.scheduling.contracts import SchedulingRequest


def scheduling_request(request: InferenceRequest, *, priority: int = 0) -> SchedulingRequest:
    """The scheduling view of ``request``; ``priority`` is its objective's."""
    return SchedulingRequest(
        request_id=request.request_id,
        model=request.target_model,
        headers=request.headers,
        body_bytes=len(request.body),
        prompt=request.prompt,
        cache_salt=request.cache_salt,
        priority=priority,
        prompt_input=request.prompt_input,
    )
