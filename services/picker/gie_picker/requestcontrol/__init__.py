"""Request control: one request's way through the picker, from its body to its events.

:mod:`~gie_picker.requestcontrol.request` parses the buffered HTTP body into an
:class:`InferenceRequest` (or a :class:`RequestError` carrying the status to
answer with), its model rewritten by the header or by the pool's
InferenceModelRewrites (:class:`ModelRewrites`, a table rebuilt when they
change, from :mod:`~gie_picker.requestcontrol.model_rewrite`);
:class:`~gie_picker.requestcontrol.director.Director` admits it
(subset hint, shedding or the flow gate of :mod:`gie_picker.admission`),
schedules it and publishes ``RequestRouted``, then ``RequestCompleted`` with the
:class:`Usage` that :mod:`~gie_picker.requestcontrol.usage` reads from the
response. :mod:`gie_picker.extproc` drives it for every Envoy stream.

Only the request and usage types are re-exported here: they are what admission
and scheduling build on, and the director builds on those, so import
:class:`~gie_picker.requestcontrol.director.Director` from its module
(re-exporting it here would make the packages import each other in a cycle).

Concurrency: the director belongs to the event loop that feeds the pool view,
and is called only from it; parsing a request is a pure function, and a
:class:`UsageParser` serves one response.
"""

from __future__ import annotations

from gie_picker.requestcontrol.model_rewrite import ModelRewrites
from gie_picker.requestcontrol.request import (
    InferenceRequest,
    RequestError,
    chat_prompt,
    parse_inference_request,
)
from gie_picker.requestcontrol.usage import Usage, UsageParser, usage_from

__all__ = [
    "InferenceRequest",
    "ModelRewrites",
    "RequestError",
    "Usage",
    "UsageParser",
    "chat_prompt",
    "parse_inference_request",
    "usage_from",
]
