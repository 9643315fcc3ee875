"""The picker's default tokenizer gives the simulator's token ids for every prompt shape."""

from __future__ import annotations

import pytest

from gie.tokenize import CharsTokenizer, encode_prefix, prompt_input_of
from gie_sim.config import SimConfig
from gie_sim.openai_api import parse_chat, parse_completion

BODIES = [
    pytest.param({"prompt": "Once upon a time, a router " * 10}, id="completion-text"),
    pytest.param({"prompt": ["first part ", "second part"]}, id="completion-list"),
    pytest.param({"prompt": [1, 2, 3, 4000000000]}, id="completion-token-ids"),
    pytest.param(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hi"},
            ]
        },
        id="chat",
    ),
    pytest.param(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "image_url"},
                        {"type": "text", "text": "b"},
                    ],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "1", "type": "function"}],
                },
            ],
            "tools": [{"type": "function", "function": {"name": "f"}}],
        },
        id="chat-parts-tools",
    ),
]


@pytest.mark.parametrize("body", BODIES)
def test_picker_and_simulator_agree_on_token_ids(body: dict[str, object]) -> None:
    config = SimConfig()
    full = {"model": config.model, **body}
    parse = parse_chat if "messages" in body else parse_completion
    prompt = prompt_input_of(full)
    assert prompt is not None
    assert CharsTokenizer().encode(prompt) == parse(full, config).prompt_tokens


def test_a_prefix_is_enough_when_only_leading_tokens_are_needed() -> None:
    prompt = prompt_input_of({"prompt": "x" * 4000})
    assert prompt is not None
    full = CharsTokenizer().encode(prompt)
    short = CharsTokenizer().encode(prompt, max_tokens=100)
    assert len(short) >= 100
    assert short == full[: len(short)]


def test_a_body_without_a_usable_prompt_has_none() -> None:
    assert prompt_input_of({"prompt": [True, "x"]}) is None
    assert prompt_input_of({"messages": []}) is None


def test_a_long_text_without_spaces_is_cut_at_punctuation_not_encoded_whole() -> None:
    """Chinese or Japanese prompts have no spaces but do have clause and sentence
    marks: only about as much as the scorer needs is encoded, with the same ids."""
    clause = "前缀缓存让服务器复用已经计算过的注意力键值\uff0c从而降低首个词元的延迟。"
    text = (clause * 6_000)[:200_000]
    lengths: list[int] = []

    def one_id_a_character(part: str) -> list[int]:
        lengths.append(len(part))
        return [ord(c) for c in part]

    ids = encode_prefix(one_id_a_character, text, 4_096)
    assert ids == [ord(c) for c in text[:4_096]]
    assert max(lengths) < 20_000  # not the 200,000 characters
