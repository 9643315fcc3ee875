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
from gie_sim.scheduler import context_length_message
from gie_sim.tokenizer import MAX_TOKEN_ID, count_tokens, encode

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
    return model, stream, _include_usage(body, stream)


def _include_usage(body: Mapping[str, object], stream: bool) -> bool:
    """vLLM's rule: a stream ends with a usage chunk only when ``stream_options`` asks
    for it (``include_usage``, true unless given false or null); non-empty
    ``stream_options`` need ``stream``."""
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise _bad("'stream_options' must be an object.", "stream_options")
    if options and not stream:
        raise _bad("'stream_options' can only be defined when `stream=True`.", "stream_options")
    if options.get("include_usage", True) is None:  # an explicit null is false, as in vLLM
        return False
    return _optional_bool(options, "include_usage", True)


def _check_length(
    prompt_len: int, max_tokens: int, config: SimConfig, *, at_least: bool = False
) -> None:
    """The engine's 400 for a request over the context length, given before the prompt
    is tokenized in full (a huge prompt would hold the event loop for seconds)."""
    if prompt_len + max_tokens > config.max_model_len:
        message = context_length_message(
            config.max_model_len, prompt_len, max_tokens, at_least=at_least
        )
        raise ApiError(400, message, "max_tokens")


def _check_not_empty(tokens: list[int], field: str) -> None:
    if not tokens:
        raise _bad(f"The prompt is empty: '{field}' tokenizes to no tokens.", field)


def _too_deep(where: str, param: str) -> ApiError:
    return _bad(f"'{where}' nests too deeply to render as JSON.", param)


def _token_ids(items: list[object], max_tokens: int, config: SimConfig) -> list[int]:
    _check_length(len(items), max_tokens, config)
    ids: list[int] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= MAX_TOKEN_ID:
            raise _bad(f"Token ids in 'prompt' must be integers in [0, {MAX_TOKEN_ID}].", "prompt")
        ids.append(item)
    return ids


def _encode_real(prompt: PromptInput, max_tokens: int, config: SimConfig, field: str) -> list[int]:
    """Ids of ``prompt`` by the configured real tokenizer, read no further than the
    context can take: past that, the request is refused."""
    bound = max(0, config.max_model_len - max_tokens) + 1
    try:
        tokens = config.prompt_tokenizer().encode(prompt, max_tokens=bound)
    except ValueError as exc:
        raise _bad(str(exc), field) from exc
    _check_not_empty(tokens, field)
    _check_length(len(tokens), max_tokens, config, at_least=len(tokens) >= bound)
    return tokens


def _encode_text(text: str, max_tokens: int, config: SimConfig) -> list[int]:
    if config.tokenizer != "chars":
        return _encode_real(PromptInput(text=text), max_tokens, config, "prompt")
    _check_length(count_tokens(text, config.chars_per_token), max_tokens, config)
    return encode(text, config.chars_per_token)


def parse_completion(body: Mapping[str, object], config: SimConfig) -> ParsedRequest:
    """``POST /v1/completions``. A list of strings is concatenated into one prompt."""
    model, stream, include_usage = _common(body, config)
    max_tokens = _optional_positive_int(body, "max_tokens") or config.default_max_tokens
    prompt = body.get("prompt")
    if prompt is None:
        raise _bad("Missing required field 'prompt'.", "prompt")
    if isinstance(prompt, str):
        tokens = _encode_text(prompt, max_tokens, config)
    elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        tokens = _encode_text("".join(str(p) for p in prompt), max_tokens, config)
    elif isinstance(prompt, list) and prompt and not isinstance(prompt[0], str):
        tokens = _token_ids(prompt, max_tokens, config)
    else:
        raise _bad(
            "'prompt' must be a string, a non-empty list of strings or a list of token ids.",
            "prompt",
        )
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


def _tool_calls_json(tool_calls: object, where: str) -> str:
    try:
        return canonical_json(tool_calls)
    except ValueError:  # nested beyond the interpreter's recursion limit
        raise _too_deep(f"{where}.tool_calls", "messages") from None


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
            content += _tool_calls_json(tool_calls, where)
        messages.append(ChatMessage(role, content))
    return messages


def _chat_max_tokens(body: Mapping[str, object], config: SimConfig) -> int:
    return (
        _optional_positive_int(body, "max_completion_tokens")
        or _optional_positive_int(body, "max_tokens")
        or config.default_max_tokens
    )


def _encode_chat(
    messages: list[ChatMessage], tools: list[object], max_tokens: int, config: SimConfig
) -> list[int]:
    """The chars tokenizer's ids of the chat template's text."""
    try:
        text = render_chat(messages, tools)
    except ValueError:  # the tools' JSON nests beyond the interpreter's recursion limit
        raise _too_deep("tools", "tools") from None
    _check_length(count_tokens(text, config.chars_per_token, add_bos=False), max_tokens, config)
    return encode(text, config.chars_per_token, add_bos=False)


def _encode_chat_real(
    body: Mapping[str, object], tools: list[object], max_tokens: int, config: SimConfig
) -> list[int]:
    """A real tokenizer's ids of the body's messages as they are (its template reads
    every field)."""
    raw = cast("list[object]", body["messages"])
    prompt = PromptInput(messages=raw, tools=tools)
    try:
        return _encode_real(prompt, max_tokens, config, "messages")
    except RecursionError:  # the template's JSON of tools (or of tool calls) nests too deeply
        field = "tools" if tools else "messages"
        raise _too_deep(field, field) from None


def parse_chat(body: Mapping[str, object], config: SimConfig) -> ParsedRequest:
    """``POST /v1/chat/completions``: messages (and tools) rendered by the chat template."""
    model, stream, include_usage = _common(body, config)
    max_tokens = _chat_max_tokens(body, config)
    messages = _messages(body)
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _bad("'tools' must be a list.", "tools")
    if config.tokenizer == "chars":
        tokens = _encode_chat(messages, tools or [], max_tokens, config)
    else:
        tokens = _encode_chat_real(body, tools or [], max_tokens, config)
    return ParsedRequest("chat", model, tokens, max_tokens, stream, include_usage)
