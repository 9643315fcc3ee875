from __future__ import annotations

import re

import orjson
import pytest

from gie_picker.requestcontrol.request import (
    InvalidHeaderError,
    RequestError,
    parse_inference_request,
)


def parse(body: object, **kwargs: str) -> object:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return parse_inference_request(request_id="r", path="/v1/x", body=raw, **kwargs)


@pytest.mark.parametrize(
    ("body", "prompt"),
    [
        ({"model": "m", "prompt": "hello"}, "hello"),
        ({"model": "m", "prompt": ["ab", "cd"]}, "abcd"),
        ({"model": "m", "prompt": [1, 2, 3]}, "1 2 3"),
        ({"model": "m", "prompt": [[1, 2], [3]]}, "1 2\n3"),
        (
            {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            "<user>hi",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {"role": "system", "content": [{"type": "text", "text": "be brief"}]},
                    {"role": "user", "content": "hi"},
                ],
            },
            "<system>be brief\n<user>hi",
        ),
    ],
    ids=["string", "list", "token-ids", "token-id-batch", "chat", "chat-parts"],
)
def test_prompts_are_extracted(body: dict[str, object], prompt: str) -> None:
    request = parse(body)
    assert request.prompt == prompt  # type: ignore[attr-defined]


def test_chat_prefixes_share_a_text_prefix() -> None:
    turn1 = [{"role": "user", "content": "hello"}]
    turn2 = [*turn1, {"role": "assistant", "content": "hi"}, {"role": "user", "content": "more"}]
    first = parse({"model": "m", "messages": turn1})
    second = parse({"model": "m", "messages": turn2})
    assert second.prompt.startswith(first.prompt)  # type: ignore[attr-defined]


def test_tools_are_part_of_the_prompt() -> None:
    with_tools = parse(
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"a": 1}]}
    )
    assert '<tools>[{"a":1}]' in with_tools.prompt  # type: ignore[attr-defined]


def test_model_rewrite_changes_the_body_and_keeps_the_rest() -> None:
    request = parse(
        {"model": "m", "prompt": "p", "cache_salt": "s", "stream": True}, model_rewrite="m-v2"
    )
    assert (request.model, request.target_model) == ("m", "m-v2")  # type: ignore[attr-defined]
    assert request.body_changed  # type: ignore[attr-defined]
    payload = orjson.loads(request.body)  # type: ignore[attr-defined]
    assert payload == {"model": "m-v2", "prompt": "p", "cache_salt": "s", "stream": True}
    assert request.cache_salt == "s" and request.stream  # type: ignore[attr-defined]


def test_a_null_cache_salt_is_no_salt() -> None:
    request = parse({"model": "m", "prompt": "p", "cache_salt": None})
    assert request.cache_salt == ""  # type: ignore[attr-defined]


def test_no_rewrite_keeps_the_exact_bytes() -> None:
    raw = b'{"model":  "m", "prompt": "p"}'
    request = parse(raw)
    assert request.body == raw  # type: ignore[attr-defined]
    assert not request.body_changed  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        ({"prompt": "p"}, "no 'model'"),
        ({"model": "", "prompt": "p"}, "no 'model'"),
        ({"model": "m"}, "neither 'prompt' nor 'messages'"),
        ({"model": "m", "messages": []}, "non-empty list"),
        ({"model": "m", "messages": ["x"]}, "messages[0] must be an object"),
        ({"model": "m", "messages": [{"content": "x"}]}, "messages[0] has no 'role'"),
        ({"model": "m", "prompt": {"a": 1}}, "'prompt' must be"),
        ({"model": "m", "prompt": "p", "cache_salt": 3}, "'cache_salt' must be a string"),
        ({"model": "m", "prompt": [[1], ["a"]]}, "'prompt' must be"),
        ({"model": "m", "prompt": [True]}, "'prompt' must be"),
        ({"model": "m" * 257, "prompt": "p"}, "'model' is longer than 256 characters"),
    ],
    ids=[
        "json",
        "array",
        "no-model",
        "empty-model",
        "no-prompt",
        "empty-messages",
        "message-not-object",
        "no-role",
        "prompt-object",
        "salt-number",
        "token-id-batch-with-text",
        "boolean-token",
        "model-too-long",
    ],
)
def test_bad_bodies_are_400_naming_the_problem(body: object, message: str) -> None:
    with pytest.raises(RequestError, match=re.escape(message)) as caught:
        parse(body)
    assert caught.value.status == 400


REWRITE_BODIES = [
    # Only the model's value changes: spacing and number spelling stay the client's.
    (
        b'{"model":  "m", "prompt": "p",  "temperature": 1.50}',
        b'{"model":  "m-v2", "prompt": "p",  "temperature": 1.50}',
    ),
    # A nested "model" member (tool schema, metadata) is left alone.
    (
        b'{"metadata": {"model": "other"}, "model": "m", "prompt": "p"}',
        None,
    ),
    # A nested member holding the same name, the top-level key spelled with escapes.
    (
        b'{"metadata": {"model": "m"}, "mod\\u0065l": "m", "prompt": "p"}',
        None,
    ),
    # Escapes inside the model's value.
    (b'{"model": "m\\"q", "prompt": "p"}', b'{"model": "m-v2", "prompt": "p"}'),
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    REWRITE_BODIES,
    ids=["in-place", "nested-other-model", "escaped-key-nested-same", "escaped-value"],
)
def test_a_rewrite_changes_only_the_top_level_model(raw: bytes, expected: bytes | None) -> None:
    request = parse(raw, model_rewrite="m-v2")
    body = request.body  # type: ignore[attr-defined]
    before, after = orjson.loads(raw), orjson.loads(body)
    assert after == {**before, "model": "m-v2"}  # nested members keep their value
    if expected is not None:
        assert body == expected


def test_pool_rewrites_name_the_target_and_the_header_wins() -> None:
    raw = b'{"model": "m", "prompt": "p"}'
    targets = {"m": "m-canary"}
    routed = parse_inference_request(
        request_id="r", path="/v1/x", body=raw, rewrite_for=targets.get
    )
    assert (routed.model, routed.target_model) == ("m", "m-canary")
    assert routed.body == b'{"model": "m-canary", "prompt": "p"}'
    header = parse_inference_request(
        request_id="r", path="/v1/x", body=raw, model_rewrite="m-pinned", rewrite_for=targets.get
    )
    assert header.target_model == "m-pinned"


def test_a_model_without_a_rewrite_keeps_its_bytes() -> None:
    raw = b'{"model": "other", "prompt": "p"}'
    request = parse_inference_request(
        request_id="r", path="/v1/x", body=raw, rewrite_for={"m": "m-canary"}.get
    )
    assert (request.target_model, request.body, request.body_changed) == ("other", raw, False)


def test_a_model_name_of_256_characters_is_accepted_and_a_longer_rewrite_header_refused() -> None:
    parse({"model": "m" * 256, "prompt": "p"})
    with pytest.raises(
        InvalidHeaderError, match="x-gateway-model-name-rewrite is longer"
    ) as caught:
        parse({"model": "m", "prompt": "p"}, model_rewrite="r" * 257)
    assert (caught.value.status, caught.value.header) == (400, "x-gateway-model-name-rewrite")


def test_a_body_too_deep_to_write_again_under_a_rewrite_is_a_400() -> None:
    """orjson reads 1024 levels but writes 254: a deep body whose model cannot be
    replaced in place (a nested "model" too) is refused, not an internal error."""
    deep = b'{"model":"m","prompt":"p","x":' + b"[" * 300 + b"]" * 300 + b',"y":{"model":"q"}}'
    with pytest.raises(RequestError, match="cannot be rewritten") as caught:
        parse(deep, model_rewrite="m2")
    assert caught.value.status == 400
