"""Turning a buffered HTTP request into what admission and scheduling need.

Supported bodies (OpenAI-compatible):

* ``/v1/completions``: ``prompt`` is a string or a list of strings (joined).
* ``/v1/chat/completions``: ``messages`` (``content`` a string or a list of
  parts with ``text``), optional ``tools``; serialised into one prompt text.

Both may carry ``cache_salt`` (isolates prefix-cache sharing; null is none) and
``stream``. Any JSON body, whatever the path, needs ``model`` and ``prompt`` or
``messages`` (400 otherwise). A request without a body (``GET /v1/models``) is
routed without a model.

The model is rewritten by the gateway's model-name-rewrite header, else by the
pool's InferenceModelRewrites; only the ``model`` value of the body changes, the
other bytes stay as the client sent them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import orjson

from gie.epp_protocol import MODEL_REWRITE_HEADER
from gie.json_depth import too_deep
from gie.tokenize import PromptInput, prompt_input_of

# Longest model name a request may give (in its body, or the rewrite header): names are
# metric labels and event fields, so a megabyte of them would be too.
MAX_MODEL_NAME = 256


class RequestError(Exception):
    """The request cannot be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class InvalidHeaderError(RequestError):
    """A request header's value cannot be used: 400, with ``header`` named in the message."""

    def __init__(self, header: str, message: str) -> None:
        super().__init__(400, message)
        self.header = header


@dataclass(frozen=True, slots=True)
class InferenceRequest:
    """One parsed request. ``body`` is what goes upstream (after any rewrite)."""

    request_id: str
    path: str
    model: str  # as the client asked
    target_model: str  # after the model-name rewrite
    body: bytes
    prompt: str = ""
    cache_salt: str = ""
    stream: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    prompt_input: PromptInput | None = None  # the prompt as a model server reads it

    @property
    def body_changed(self) -> bool:
        return self.model != self.target_model


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def chat_prompt(messages: list[object], tools: object) -> str:
    """A stable text rendering of a chat: equal conversation prefixes give equal text prefixes."""
    parts: list[str] = []
    if isinstance(tools, list) and tools:
        try:
            parts.append("<tools>" + orjson.dumps(tools, option=orjson.OPT_SORT_KEYS).decode())
        except orjson.JSONEncodeError as exc:  # nested beyond orjson's 254 levels
            raise RequestError(400, f"'tools' cannot be rendered: {exc}") from exc
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise RequestError(400, f"messages[{index}] must be an object")
        role = message.get("role")
        if not isinstance(role, str) or not role:
            raise RequestError(400, f"messages[{index}] has no 'role' string")
        parts.append(f"<{role}>{_text_of(message.get('content'))}")
    return "\n".join(parts)


def _prompt_of(payload: dict[str, object]) -> str:
    if "messages" in payload:
        messages = payload["messages"]
        if not isinstance(messages, list) or not messages:
            raise RequestError(400, "'messages' must be a non-empty list")
        return chat_prompt(messages, payload.get("tools"))
    prompt = payload["prompt"]
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
        return "".join(str(p) for p in prompt)
    if isinstance(prompt, list) and all(_is_token(t) for t in prompt):
        return " ".join(str(t) for t in prompt)  # token ids
    if isinstance(prompt, list) and all(
        isinstance(ids, list) and all(_is_token(t) for t in ids) for ids in prompt
    ):
        return "\n".join(" ".join(str(t) for t in ids) for ids in prompt)  # a batch of them
    raise RequestError(
        400, "'prompt' must be a string, a list of strings, of token ids or of token-id lists"
    )


def _is_token(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# A ``"model": "<JSON string>"`` member; the string group is the value with its quotes.
_MODEL_KEY = b'"model"'
_MODEL_MEMBER = re.compile(rb'"model"\s*:\s*("(?:[^"\\]|\\.)*")')


def with_model(body: bytes, payload: dict[str, object], target: str) -> bytes:
    """``body`` with its top-level ``model`` set to ``target``, the rest byte for byte.

    The value is replaced in place when the body holds the JSON string ``"model"``
    once, as a member whose value is the parsed model: then it is the top-level
    member, unless that key was spelled with ``\\u`` escapes (a body with escapes
    is read back to make sure). Otherwise (nested ``model`` members, an escaped key) the
    payload is serialised again.
    """
    if body.count(_MODEL_KEY) == 1:
        match = _MODEL_MEMBER.match(body, body.find(_MODEL_KEY))
        if match is not None and orjson.loads(match.group(1)) == payload["model"]:
            start, end = match.span(1)
            spliced = body[:start] + orjson.dumps(target) + body[end:]
            # Without a backslash no key is escaped (a quick test; ``\\u`` is slow to find).
            if b"\\" not in body or orjson.loads(spliced).get("model") == target:
                return spliced
    try:
        return orjson.dumps({**payload, "model": target})
    except orjson.JSONEncodeError as exc:  # nests deeper than orjson writes (254 levels)
        raise RequestError(
            400, f"request body cannot be rewritten for model {target!r}: {exc}"
        ) from exc


def parse_inference_request(
    *,
    request_id: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    model_rewrite: str = "",
    rewrite_for: Callable[[str], str | None] | None = None,
) -> InferenceRequest:
    """Parse and check an OpenAI-style body; apply the model rewrite to it.

    ``model_rewrite`` (the gateway's header) wins; else ``rewrite_for(model)``
    (the pool's InferenceModelRewrites) names the target, None for no rewrite.
    """
    headers = headers or {}
    if not body:
        return InferenceRequest(request_id, path, "", "", body, headers=headers)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if depth := too_deep(body):
            raise RequestError(400, f"request body {depth}") from exc
        raise RequestError(400, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise RequestError(400, "request body must be a JSON object")
    model = payload.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "request body has no 'model' string")
    if len(model) > MAX_MODEL_NAME:
        raise RequestError(400, f"'model' is longer than {MAX_MODEL_NAME} characters")
    if len(model_rewrite) > MAX_MODEL_NAME:
        raise InvalidHeaderError(
            MODEL_REWRITE_HEADER,
            f"{MODEL_REWRITE_HEADER} is longer than {MAX_MODEL_NAME} characters",
        )
    if "prompt" not in payload and "messages" not in payload:
        raise RequestError(400, "request body has neither 'prompt' nor 'messages'")
    prompt = _prompt_of(payload)
    salt = payload.get("cache_salt")
    if salt is None:
        salt = ""
    elif not isinstance(salt, str):
        raise RequestError(400, "'cache_salt' must be a string")
    target = model_rewrite or (rewrite_for(model) if rewrite_for is not None else None) or model
    if target != model:
        body = with_model(body, payload, target)
    return InferenceRequest(
        request_id=request_id,
        path=path,
        model=model,
        target_model=target,
        body=body,
        prompt=prompt,
        cache_salt=salt,
        stream=payload.get("stream") is True,
        headers=headers,
        prompt_input=prompt_input_of(payload),
    )
