"""Builders for OpenAI-compatible response bodies and SSE frames (vLLM's shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from gie_sim.openai_api import RequestKind

__all__ = [
    "SSE_DONE",
    "ResponseContext",
    "models_list",
    "sse_frame",
    "usage",
]

SSE_DONE = b"data: [DONE]\n\n"


def usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> dict[str, object]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens},
    }


def sse_frame(payload: dict[str, object]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


@dataclass(frozen=True, slots=True)
class ResponseContext:
    """Identity shared by every body of one response."""

    kind: RequestKind
    request_id: str
    created: int
    model: str

    def _envelope(self, object_name: str) -> dict[str, object]:
        return {
            "id": self.request_id,
            "object": object_name,
            "created": self.created,
            "model": self.model,
        }

    def full(
        self, text: str, finish_reason: str | None, usage_body: dict[str, object]
    ) -> dict[str, object]:
        """Non-streaming response."""
        if self.kind == "chat":
            choice: dict[str, object] = {
                "index": 0,
                "message": {"role": "assistant", "content": text, "tool_calls": []},
                "logprobs": None,
                "finish_reason": finish_reason,
                "stop_reason": None,
            }
            body = self._envelope("chat.completion")
        else:
            choice = {
                "index": 0,
                "text": text,
                "logprobs": None,
                "finish_reason": finish_reason,
                "stop_reason": None,
            }
            body = self._envelope("text_completion")
        body["choices"] = [choice]
        body["usage"] = usage_body
        return body

    def token_chunk(self, index: int, text: str, finish_reason: str | None) -> dict[str, object]:
        """Streaming chunk carrying the ``index``-th generated token."""
        if self.kind == "chat":
            delta: dict[str, object] = {"content": text}
            if index == 0:
                delta = {"role": "assistant", "content": text}
            choice: dict[str, object] = {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
            body = self._envelope("chat.completion.chunk")
        else:
            choice = {
                "index": 0,
                "text": text,
                "logprobs": None,
                "finish_reason": finish_reason,
                "stop_reason": None,
            }
            body = self._envelope("text_completion")
        body["choices"] = [choice]
        return body

    def usage_chunk(self, usage_body: dict[str, object]) -> dict[str, object]:
        """Final streaming chunk: no choices, only usage."""
        body = self._envelope("chat.completion.chunk" if self.kind == "chat" else "text_completion")
        body["choices"] = []
        body["usage"] = usage_body
        return body


def models_list(
    names: Sequence[str], root: str, max_model_len: int, created: int
) -> dict[str, object]:
    """``GET /v1/models``: one entry per served name, as vLLM lists them."""
    return {
        "object": "list",
        "data": [
            {
                "id": name,
                "object": "model",
                "created": created,
                "owned_by": "vllm",
                "root": root,
                "parent": None,
                "max_model_len": max_model_len,
            }
            for name in names
        ],
    }
