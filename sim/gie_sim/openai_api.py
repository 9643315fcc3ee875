"""Validation of OpenAI-style request bodies into what the engine needs.

Everything a client can send is checked here; problems raise :class:`ApiError`, which the
server turns into an OpenAI error JSON (``{"error": {"message", "type", "param", "code"}}``).
Fields the simulator does not model (temperature, stop, logprobs, ...) are accepted and
ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

import orjson

from gie.tokenize import PromptInput
from gie_sim.chat_template import ChatMessage, canonical_json, render_chat
from gie_sim.config import SimConfig
from gie_sim.tokenizer import MAX_TOKEN_ID, encode

__all__ = [
    "ApiError",
    "ParsedRequest",
    "RequestKind",
    "parse_chat",
    "parse_completion",
    "parse_json",
]

RequestKind = Literal["completion", "chat"]

_ERROR_TYPES = {400: "BadRequestError", 404: "NotFoundError", 503: "ServiceUnavailableError"}


class ApiError(Exception):
    """A client-visible error with an HTTP status."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "message": self.message,
                "type": _ERROR_TYPES.get(self.status, "Error"),
                "param": self.param,
                "code": self.status,
            }
        }


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    kind: RequestKind
    model: str  # the served name the request gave (the first one when it gave none)
    prompt_tokens: list[int]
    max_tokens: int
    stream: bool
    include_usage: bool


def _bad(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, param)


def parse_json(raw: bytes) -> dict[str, object]:
    """Decode a request body that must be a JSON object."""
    if not raw.strip():
        raise _bad("Request body is empty; expected a JSON object.")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _bad(f"Request body must be a JSON object, got {type(value).__name__}.")
    return value


def _optional_bool(body: Mapping[str, object], key: str, default: bool) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad(f"'{key}' must be a boolean.", key)
    return value


def _optional_positive_int(body: Mapping[str, object], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"'{key}' must be an integer.", key)
    if value < 1:
        raise _bad(f"'{key}' must be at least 1, got {value}.", key)
    return value


def _common(body: Mapping[str, object], config: SimConfig) -> tuple[str, bool, bool]:
    """Check the fields shared by both endpoints; return (model, stream, include_usage)."""
    model = body.get("model")
    if model is None:
        model = config.served_models[0]
    if not isinstance(model, str):
        raise _bad("'model' must be a string.", "model")
    if model not in config.served_models:
        raise ApiError(404, f"The model `{model}` does not exist.", "model")
    n = body.get("n")
    if n is not None and n != 1:
        raise _bad("Only n=1 is supported by the simulator.", "n")
    stream = _optional_bool(body, "stream", False)
    options = body.get("stream_options")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise _bad("'stream_options' must be an object.", "stream_options")
    # Deviation from vLLM: usage is streamed unless explicitly disabled.
    include_usage = _optional_bool(options, "include_usage", True)
    return model, stream, include_usage


def _token_ids(items: list[object]) -> list[int]:
    ids: list[int] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= MAX_TOKEN_ID:
            raise _bad(f"Token ids in 'prompt' must be integers in [0, {MAX_TOKEN_ID}].", "prompt")
        ids.append(item)
    return ids


def _encode_real(prompt: PromptInput, config: SimConfig, field: str) -> list[int]:
    try:
        return config.prompt_tokenizer().encode(prompt)
    except ValueError as exc:
        raise _bad(str(exc), field) from exc


def _encode_text(text: str, config: SimConfig) -> list[int]:
    if config.tokenizer == "chars":
        return encode(text, config.chars_per_token)
    return _encode_real(PromptInput(text=text), config, "prompt")


def parse_completion(body: Mapping[str, object], config: SimConfig) -> ParsedRequest:
    """``POST /v1/completions``. A list of strings is concatenated into one prompt."""
    model, stream, include_usage = _common(body, config)
    prompt = body.get("prompt")
    if prompt is None:
        raise _bad("Missing required field 'prompt'.", "prompt")
    if isinstance(prompt, str):
        tokens = _encode_text(prompt, config)
    elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        tokens = _encode_text("".join(str(p) for p in prompt), config)
    elif isinstance(prompt, list) and prompt and not isinstance(prompt[0], str):
        tokens = _token_ids(prompt)
    else:
        raise _bad(
            "'prompt' must be a string, a non-empty list of strings or a list of token ids.",
            "prompt",
        )
    max_tokens = _optional_positive_int(body, "max_tokens") or config.default_max_tokens
    return ParsedRequest("completion", model, tokens, max_tokens, stream, include_usage)


def _content_text(content: object, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _bad(f"'{where}' must be a string or a list of content parts.", where)
    texts: list[str] = []
    for index, part in enumerate(content):
        if not isinstance(part, dict):
            raise _bad(f"'{where}[{index}]' must be an object.", where)
        text = part.get("text")
        if part.get("type", "text") == "text":
            if not isinstance(text, str):
                raise _bad(f"'{where}[{index}].text' must be a string.", where)
            texts.append(text)
        # Non-text parts (images, audio) are ignored: the simulator has no encoder.
    return "\n".join(texts)


def _messages(body: Mapping[str, object]) -> list[ChatMessage]:
    raw = body.get("messages")
    if raw is None:
        raise _bad("Missing required field 'messages'.", "messages")
    if not isinstance(raw, list) or not raw:
        raise _bad("'messages' must be a non-empty list.", "messages")
    messages: list[ChatMessage] = []
    for index, item in enumerate(raw):
        where = f"messages[{index}]"
        if not isinstance(item, dict):
            raise _bad(f"'{where}' must be an object.", "messages")
        role = item.get("role")
        if not isinstance(role, str) or not role:
            raise _bad(f"'{where}.role' must be a non-empty string.", "messages")
        content = _content_text(item.get("content"), f"{where}.content")
        tool_calls = item.get("tool_calls")
        if tool_calls is not None:
            content += canonical_json(tool_calls)
        messages.append(ChatMessage(role, content))
    return messages


def parse_chat(body: Mapping[str, object], config: SimConfig) -> ParsedRequest:
    """``POST /v1/chat/completions``: messages (and tools) rendered by the chat template."""
    model, stream, include_usage = _common(body, config)
    messages = _messages(body)
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _bad("'tools' must be a list.", "tools")
    if config.tokenizer == "chars":
        tokens = encode(render_chat(messages, tools or ()), config.chars_per_token, add_bos=False)
    else:  # the body's messages as they are: a real template reads every field
        raw = cast("list[object]", body["messages"])
        tokens = _encode_real(PromptInput(messages=raw, tools=tools or ()), config, "messages")
    max_tokens = (
        _optional_positive_int(body, "max_completion_tokens")
        or _optional_positive_int(body, "max_tokens")
        or config.default_max_tokens
    )
    return ParsedRequest("chat", model, tokens, max_tokens, stream, include_usage)
