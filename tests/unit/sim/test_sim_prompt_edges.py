"""Prompts at the edges: JSON nested too deeply, no tokens at all, far too long.

Each is a 400 naming the field, never a crash (500); a prompt over the context length is
refused before it is tokenized in full, with the engine's own message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gie.tokenize import PromptInput
from gie_sim import SimConfig, openai_api
from gie_sim.chat_template import ChatMessage, render_chat
from gie_sim.openai_api import ApiError, ParsedRequest, parse_chat, parse_completion
from gie_sim.scheduler import RequestRejected, Scheduler
from gie_sim.tokenizer import count_tokens, encode
from tests.support.tokenizer_files import write_hf_tokenizer

Parser = Callable[[Mapping[str, object], SimConfig], ParsedRequest]

CFG = SimConfig()
SMALL = SimConfig(max_model_len=1000)
USER = {"role": "user", "content": "hi"}


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


DEEP = _nested(5000)  # beyond any interpreter's recursion limit


def _refusal(parse: Parser, body: Mapping[str, object], config: SimConfig) -> ApiError:
    with pytest.raises(ApiError) as info:
        parse(body, config)
    assert info.value.status == 400
    return info.value


@pytest.fixture(scope="module")
def hf_config(tmp_path_factory: pytest.TempPathFactory) -> SimConfig:
    folder = write_hf_tokenizer(tmp_path_factory.mktemp("hf") / "tokenizer")
    return SimConfig(tokenizer="hf", tokenizer_path=str(folder))


@pytest.fixture(scope="module")
def bare_hf_config(tmp_path_factory: pytest.TempPathFactory) -> SimConfig:
    """A tokenizer adding no BOS, whose chat template renders nothing."""
    folder = write_hf_tokenizer(tmp_path_factory.mktemp("bare") / "tokenizer")
    _edit_json(folder / "tokenizer.json", post_processor=None)
    _edit_json(
        folder / "tokenizer_config.json", chat_template="{% for m in messages %}{% endfor %}"
    )
    return SimConfig(tokenizer="hf", tokenizer_path=str(folder))


def _edit_json(file: Path, **fields: object) -> None:
    value = json.loads(file.read_text(encoding="utf-8"))
    value.update(fields)
    file.write_text(json.dumps(value), encoding="utf-8")


# ----------------------------------------------------------------- nested too deeply
DEEP_BODIES = {
    "tools": ({"messages": [USER], "tools": [DEEP]}, "tools", "'tools'"),
    "tool_calls": (
        {"messages": [USER, {"role": "assistant", "content": None, "tool_calls": DEEP}]},
        "messages",
        "'messages[1].tool_calls'",
    ),
}


@pytest.mark.parametrize("case", DEEP_BODIES.values(), ids=list(DEEP_BODIES))
def test_json_nested_too_deeply_is_a_400_naming_the_field(
    case: tuple[dict[str, object], str, str],
) -> None:
    body, param, where = case
    error = _refusal(parse_chat, body, CFG)
    assert error.param == param
    assert error.message == f"{where} nests too deeply to render as JSON."


@pytest.mark.parametrize("case", DEEP_BODIES.values(), ids=list(DEEP_BODIES))
def test_json_nested_too_deeply_for_a_real_template_is_a_400_too(
    case: tuple[dict[str, object], str, str], hf_config: SimConfig
) -> None:
    body, param, where = case
    error = _refusal(parse_chat, body, hf_config)
    assert error.param == param
    assert where in error.message


# ----------------------------------------------------------------- no tokens
@pytest.mark.parametrize(
    ("parse", "body", "field"),
    [
        (parse_completion, {"prompt": ""}, "prompt"),
        (parse_completion, {"prompt": ["", ""]}, "prompt"),
        (parse_chat, {"messages": [USER]}, "messages"),
    ],
    ids=["text", "texts", "chat"],
)
def test_a_prompt_of_no_tokens_is_a_400_naming_the_field(
    parse: Parser, body: dict[str, object], field: str, bare_hf_config: SimConfig
) -> None:
    error = _refusal(parse, body, bare_hf_config)
    assert error.param == field
    assert error.message == f"The prompt is empty: '{field}' tokenizes to no tokens."


# ----------------------------------------------------------------- too long
def _engine_message(config: SimConfig, prompt_len: int, max_tokens: int) -> str:
    with pytest.raises(RequestRejected) as info:
        Scheduler(config).check(prompt_len, max_tokens)
    return str(info.value)


def _not_called(*_args: object, **_kwargs: object) -> list[int]:
    raise AssertionError("the whole prompt was tokenized")


@given(st.text(max_size=40), st.integers(min_value=0, max_value=6), st.booleans())
def test_the_token_count_of_a_text_is_that_of_its_encoding(
    text: str, chars_per_token: int, add_bos: bool
) -> None:
    expected = len(encode(text, chars_per_token, add_bos=add_bos))
    assert count_tokens(text, chars_per_token, add_bos=add_bos) == expected


LONG_CHAT = [{"role": "user", "content": "x" * 4000}]
LONG_CHAT_TOKENS = len(encode(render_chat([ChatMessage("user", "x" * 4000)]), add_bos=False))


@pytest.mark.parametrize(
    ("parse", "body", "prompt_len"),
    [
        (parse_completion, {"prompt": "x" * 4000}, 1001),  # BOS + 4000 / 4
        (parse_completion, {"prompt": ["x" * 2000, "x" * 2001]}, 1002),
        (parse_completion, {"prompt": [-1] * 990}, 990),  # not even the ids are read
        (parse_chat, {"messages": LONG_CHAT, "max_tokens": 4}, LONG_CHAT_TOKENS),
    ],
    ids=["text", "texts", "ids", "chat"],
)
def test_a_prompt_over_the_context_is_refused_before_it_is_tokenized(
    parse: Parser,
    body: dict[str, object],
    prompt_len: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(openai_api, "encode", _not_called)
    error = _refusal(parse, body, SMALL)
    assert error.param == "max_tokens"
    max_tokens = body.get("max_tokens", 16)
    assert isinstance(max_tokens, int)
    assert error.message == _engine_message(SMALL, prompt_len, max_tokens)


class _BoundedTokenizer:
    """One id per character; honours ``max_tokens`` (stops there) and records it."""

    name = "bounded"

    def __init__(self) -> None:
        self.bounds: list[int | None] = []

    def encode(self, prompt: PromptInput, *, max_tokens: int | None = None) -> list[int]:
        self.bounds.append(max_tokens)
        return [ord(char) for char in prompt.text[:max_tokens]]


def test_a_real_tokenizer_reads_no_further_than_the_context_takes(
    hf_config: SimConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SimConfig(tokenizer="hf", tokenizer_path=hf_config.tokenizer_path, max_model_len=1000)
    tokenizer = _BoundedTokenizer()
    monkeypatch.setattr(SimConfig, "prompt_tokenizer", lambda _self: tokenizer)

    fits = parse_completion({"prompt": "y" * 990, "max_tokens": 10}, config)
    assert len(fits.prompt_tokens) == 990
    error = _refusal(parse_completion, {"prompt": "y" * 10**6, "max_tokens": 10}, config)
    assert tokenizer.bounds == [991, 991]  # max_model_len - max_tokens + 1
    assert error.param == "max_tokens"
    assert error.message == (
        "This model's maximum context length is 1000 tokens. However, you requested at "
        "least 1001 tokens (at least 991 in the prompt, 10 in the completion). Please "
        "reduce the length of the prompt or completion."
    )


def test_a_real_tokenizer_gives_the_whole_prompt_within_the_context(
    hf_config: SimConfig,
) -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 200
    whole = hf_config.prompt_tokenizer().encode(PromptInput(text=text))
    config = SimConfig(
        tokenizer="hf", tokenizer_path=hf_config.tokenizer_path, max_model_len=len(whole) + 16
    )
    assert parse_completion({"prompt": text}, config).prompt_tokens == whole
    error = _refusal(parse_completion, {"prompt": text + " fox"}, config)
    assert error.param == "max_tokens"
    assert "maximum context length" in error.message
