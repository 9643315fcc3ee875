"""Request validation: every bad input is a 400/404 naming the problem, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gie_sim.chat_template import ChatMessage, render_chat
from gie_sim.config import SimConfig
from gie_sim.openai_api import ApiError, parse_chat, parse_completion, parse_json
from gie_sim.tokenizer import BOS_TOKEN_ID, encode

CFG = SimConfig()


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_bad_json_bodies(raw: bytes, fragment: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_json(raw)
    assert info.value.status == 400
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({}, 400, "'prompt'"),
        ({"prompt": 5}, 400, "'prompt'"),
        ({"prompt": []}, 400, "'prompt'"),
        ({"prompt": [1, "a"]}, 400, "Token ids"),
        ({"prompt": [-1]}, 400, "Token ids"),
        ({"prompt": "x", "max_tokens": 0}, 400, "'max_tokens'"),
        ({"prompt": "x", "max_tokens": "5"}, 400, "'max_tokens'"),
        ({"prompt": "x", "max_tokens": True}, 400, "'max_tokens'"),
        ({"prompt": "x", "stream": "yes"}, 400, "'stream'"),
        ({"prompt": "x", "stream_options": []}, 400, "'stream_options'"),
        (
            {"prompt": "x", "stream": True, "stream_options": {"include_usage": 1}},
            400,
            "'include_usage'",
        ),
        ({"prompt": "x", "stream_options": {"include_usage": True}}, 400, "'stream_options'"),
        ({"prompt": "x", "n": 2}, 400, "n=1"),
        ({"prompt": "x", "model": 3}, 400, "'model'"),
        ({"prompt": "x", "model": "gpt-4"}, 404, "gpt-4"),
    ],
)
def test_bad_completion_requests(body: dict[str, object], status: int, fragment: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_completion(body, CFG)
    assert info.value.status == status
    assert fragment in info.value.message
    assert info.value.body()["error"] == {
        "message": info.value.message,
        "type": "NotFoundError" if status == 404 else "BadRequestError",
        "param": info.value.param,
        "code": status,
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "'messages'"),
        ({"messages": []}, "'messages'"),
        ({"messages": ["hi"]}, "messages[0]"),
        ({"messages": [{"content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 7}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, "text"),
        ({"messages": [{"role": "user", "content": "x"}], "tools": {}}, "'tools'"),
        ({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": -1}, "max_"),
    ],
)
def test_bad_chat_requests(body: dict[str, object], fragment: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_chat(body, CFG)
    assert info.value.status == 400
    assert fragment in info.value.message


def test_completion_prompt_forms() -> None:
    text = "x" * 40
    parsed = parse_completion({"prompt": text, "model": "sim-llama"}, CFG)
    assert parsed.prompt_tokens == encode(text)
    assert len(parsed.prompt_tokens) == 11  # BOS + 40 / 4
    assert parsed.prompt_tokens[0] == BOS_TOKEN_ID
    assert (parsed.max_tokens, parsed.stream, parsed.include_usage) == (16, False, False)

    joined = parse_completion({"prompt": ["x" * 20, "x" * 20]}, CFG)
    assert joined.prompt_tokens == parsed.prompt_tokens
    ids = parse_completion({"prompt": [5, 6, 7], "max_tokens": 3, "stream": True}, CFG)
    assert (ids.prompt_tokens, ids.max_tokens, ids.stream) == ([5, 6, 7], 3, True)


@pytest.mark.parametrize(
    ("options", "include_usage"),
    [
        ({}, False),  # no stream_options: no usage chunk
        ({"stream_options": None}, False),
        ({"stream_options": {}}, True),  # vLLM's include_usage defaults to true once given
        ({"stream_options": {"include_usage": True}}, True),
        ({"stream_options": {"include_usage": False}}, False),
        ({"stream_options": {"include_usage": None}}, False),
    ],
)
def test_usage_is_streamed_only_when_the_client_asks(
    options: dict[str, object], include_usage: bool
) -> None:
    body = {"prompt": "x", "stream": True, **options}
    assert parse_completion(body, CFG).include_usage is include_usage
    chat = {"messages": [{"role": "user", "content": "x"}], "stream": True, **options}
    assert parse_chat(chat, CFG).include_usage is include_usage


@pytest.mark.parametrize("stream", [{}, {"stream": False}])
def test_stream_options_need_a_stream(stream: dict[str, object]) -> None:
    body = {"prompt": "x", "stream_options": {"include_usage": True}, **stream}
    with pytest.raises(ApiError) as info:
        parse_completion(body, CFG)
    assert (info.value.status, info.value.param) == (400, "stream_options")
    assert info.value.message == "'stream_options' can only be defined when `stream=True`."
    # As in vLLM, empty (or null) options are no options.
    empty: tuple[dict[str, object] | None, ...] = ({}, None)
    for options in empty:
        parse_completion({"prompt": "x", "stream_options": options, **stream}, CFG)


def test_chat_uses_template_tools_and_text_parts() -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    plain = parse_chat({"messages": messages, "max_tokens": 4}, CFG)
    rendered = render_chat([ChatMessage("system", "be brief"), ChatMessage("user", "hi")])
    assert plain.prompt_tokens == encode(rendered, add_bos=False)
    assert plain.max_tokens == 4

    parts = [
        {"role": "system", "content": [{"type": "text", "text": "be brief"}]},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url"}]},
    ]
    assert parse_chat({"messages": parts}, CFG).prompt_tokens == plain.prompt_tokens

    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with_tools = parse_chat({"messages": messages, "tools": [tool]}, CFG)
    assert len(with_tools.prompt_tokens) > len(plain.prompt_tokens)
    preferred = {"messages": messages, "max_tokens": 4, "max_completion_tokens": 9}
    assert parse_chat(preferred, CFG).max_tokens == 9


def test_conversations_sharing_a_prefix_share_leading_tokens() -> None:
    first = [{"role": "system", "content": "s" * 400}, {"role": "user", "content": "one"}]
    second = [{"role": "system", "content": "s" * 400}, {"role": "user", "content": "two"}]
    a = parse_chat({"messages": first}, CFG).prompt_tokens
    b = parse_chat({"messages": second}, CFG).prompt_tokens
    common = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
    assert common > 100


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_field_names = st.sampled_from(
    [
        "model",
        "prompt",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "stream",
        "stream_options",
        "tools",
        "n",
        "role",
        "content",
        "text",
        "type",
        "include_usage",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_field_names, _json_values, max_size=6))
def test_arbitrary_bodies_either_parse_or_raise_api_error(body: dict[str, object]) -> None:
    for parse in (parse_completion, parse_chat):
        try:
            parsed = parse(body, CFG)
        except ApiError as exc:
            assert exc.status in (400, 404)
        else:
            assert parsed.prompt_tokens
            assert parsed.max_tokens >= 1
