"""Turning a buffered HTTP request into what routing needs."""

from __future__ import annotations

from dataclasses import dataclass

import orjson


class RequestError(Exception):
    """The request cannot be routed; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class InferenceRequest:
    request_id: str
    path: str
    model: str
    body: bytes


def parse_inference_request(*, request_id: str, path: str, body: bytes) -> InferenceRequest:
    """Read the model and check the prompt of an OpenAI-style JSON body.

    A request without a body (``GET /v1/models``) is routed without a model.
    """
    if not body:
        return InferenceRequest(request_id=request_id, path=path, model="", body=body)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise RequestError(400, "request body must be a JSON object")
    model = payload.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "request body has no 'model' string")
    if "prompt" not in payload and "messages" not in payload:
        raise RequestError(400, "request body has neither 'prompt' nor 'messages'")
    return InferenceRequest(request_id=request_id, path=path, model=model, body=body)
