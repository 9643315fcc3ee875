"""Real tokenizers from local files: picker and simulator give the model server's ids.

Mistral: the tokenizer files mistral-common ships (Tekken and SentencePiece), checked
against mistral-common's own encoding as vLLM calls it. Hugging Face: a BPE trained here
and saved as tokenizer.json, with a jinja2 chat template in tokenizer_config.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tokenizers
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
from pydantic import ValidationError

from gie.tokenize import (
    Tokenizer,
    TokenizerLoadError,
    load_tokenizer,
    mistral_common_file,
    prompt_input_of,
)
from gie.tokenize.hf_tokenizer import HfTokenizer
from gie_sim import SimConfig
from gie_sim.openai_api import ApiError, parse_chat, parse_completion
from tests.support.tokenizer_files import write_hf_tokenizer

MISTRAL_FILES = [
    "tekken_240911.json",
    "mistral_instruct_tokenizer_241114.model.v7",
    "mistral_instruct_tokenizer_240323.model.v3",
    "tokenizer.model.v1",
]
DOC = (Path(__file__).resolve().parents[3] / "docs" / "prefix-cache.md").read_text()
LONG = (DOC * 10)[:100_000]

CHAT = {
    "model": "sim-llama",
    "messages": [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "What is a KV cache?"},
        {"role": "assistant", "content": "Saved attention keys and values."},
        {"role": "user", "content": [{"type": "text", "text": "And prefix caching?"}]},
    ],
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a term up.",
            "parameters": {"type": "object", "properties": {"term": {"type": "string"}}},
        },
    }
]
BODIES = {
    "completion": {"model": "sim-llama", "prompt": "The quick brown fox jumps over the dog."},
    "completion-strings": {"model": "sim-llama", "prompt": ["The quick ", "brown fox."]},
    "chat": CHAT,
    "chat-tools": {**CHAT, "tools": TOOLS},
}


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hf_tokenizer(tmp_path_factory.mktemp("hf"))


def _spec(kind: str, name: str, hf_folder: Path) -> tuple[str, str]:
    return (kind, str(hf_folder if kind == "hf" else mistral_common_file(name)))


SPECS = [("mistral", name) for name in MISTRAL_FILES] + [("hf", "tokenizer.json")]


def _sim_ids(kind: str, path: str, body: dict[str, object]) -> list[int]:
    config = SimConfig(tokenizer=kind, tokenizer_path=path)  # type: ignore[arg-type]
    parse = parse_chat if "messages" in body else parse_completion
    return parse(body, config).prompt_tokens


@pytest.mark.parametrize(("kind", "name"), SPECS, ids=[n for _, n in SPECS])
@pytest.mark.parametrize("body", list(BODIES), ids=list(BODIES))
def test_picker_and_simulator_give_the_same_ids(
    kind: str, name: str, body: str, hf_folder: Path
) -> None:
    kind, path = _spec(kind, name, hf_folder)
    request = BODIES[body]
    prompt = prompt_input_of(request)
    assert prompt is not None
    picker_ids = load_tokenizer(kind, path).encode(prompt)
    assert len(picker_ids) > 5
    assert picker_ids == _sim_ids(kind, path, request)


@pytest.mark.parametrize("name", MISTRAL_FILES)
def test_mistral_ids_are_mistral_commons_as_vllm_calls_it(name: str) -> None:
    path = mistral_common_file(name)
    reference = MistralTokenizer.from_file(str(path))
    ours = load_tokenizer("mistral", str(path))
    text = str(BODIES["completion"]["prompt"])
    completion = prompt_input_of(BODIES["completion"])
    assert completion is not None
    assert ours.encode(completion) == reference.instruct_tokenizer.tokenizer.encode(
        text, bos=True, eos=False
    )
    request = ChatCompletionRequest.model_validate(  # type: ignore[var-annotated]
        {
            "messages": [
                {"role": "system", "content": "You are a terse assistant."},
                {"role": "user", "content": "What is a KV cache?"},
            ],
            "tools": TOOLS,
        }
    )
    chat = prompt_input_of({"messages": request.model_dump()["messages"], "tools": TOOLS})
    assert chat is not None
    expected = reference.encode_chat_completion(request).tokens
    assert ours.encode(chat) == expected
    assert expected[0] == 1  # BOS, written by the chat encoding itself


def test_hf_chat_is_the_template_text_encoded_without_added_specials(hf_folder: Path) -> None:
    tokenizer = load_tokenizer("hf", str(hf_folder))
    chat = prompt_input_of(BODIES["chat-tools"])
    assert chat is not None
    rendered = (
        "<|begin_of_text|><|start_header_id|>tools<|end_header_id|>\n\n"
        '[{"type": "function", "function": {"name": "lookup", "description": "Look a term '
        'up.", "parameters": {"type": "object", "properties": {"term": {"type": "string"}}}}}]'
        "<|eot_id|><|start_header_id|>system<|end_header_id|>\n\n"
        "You are a terse assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
        "What is a KV cache?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        "Saved attention keys and values.<|eot_id|><|start_header_id|>user<|end_header_id|>"
        "\n\nAnd prefix caching?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    raw = tokenizers.Tokenizer.from_file(str(hf_folder / "tokenizer.json"))
    assert tokenizer.encode(chat) == raw.encode(rendered, add_special_tokens=False).ids
    completion = prompt_input_of({"prompt": "The quick brown fox"})
    assert completion is not None
    ids = tokenizer.encode(completion)
    assert ids[0] == raw.token_to_id("<|begin_of_text|>")  # the post-processor's BOS
    assert ids[1:] == raw.encode("The quick brown fox", add_special_tokens=False).ids


@pytest.mark.parametrize(("kind", "name"), SPECS, ids=[n for _, n in SPECS])
@pytest.mark.parametrize(
    "text", [LONG, LONG.replace(" ", "").replace("\n", "")], ids=["prose", "no-whitespace"]
)
def test_a_long_prompt_encoded_as_far_as_needed_keeps_the_leading_ids(
    kind: str, name: str, text: str, hf_folder: Path
) -> None:
    tokenizer: Tokenizer = load_tokenizer(*_spec(kind, name, hf_folder))
    prompt = prompt_input_of({"prompt": text})
    assert prompt is not None
    whole = tokenizer.encode(prompt)
    head = tokenizer.encode(prompt, max_tokens=1000)
    assert len(whole) > 5000
    assert len(head) >= 1000
    assert head == whole[: len(head)]


@pytest.mark.parametrize(
    ("kind", "path", "field", "fragment"),
    [
        ("sentencepiece", "x.model", "kind", "unknown tokenizer kind 'sentencepiece'"),
        ("mistral", None, "path", "required for tokenizer kind 'mistral'"),
        ("hf", "/nonexistent/tokenizer.json", "path", "no such file or folder"),
        ("mistral", __file__, "path", "not a Mistral tokenizer file"),
        ("hf", __file__, "path", "not a tokenizer.json file"),
        ("chars", "tokenizer.json", "path", "the chars tokenizer reads no file"),
    ],
    ids=["unknown-kind", "no-path", "missing-file", "not-mistral", "not-hf", "chars-path"],
)
def test_bad_settings_name_the_field(
    kind: str, path: str | None, field: str, fragment: str
) -> None:
    with pytest.raises(TokenizerLoadError, match=fragment) as caught:
        load_tokenizer(kind, path)
    assert caught.value.field == field


def test_the_simulator_refuses_a_bad_tokenizer_naming_its_flag() -> None:
    with pytest.raises(ValidationError, match="tokenizer_path: no such file or folder"):
        SimConfig(tokenizer="hf", tokenizer_path="/nonexistent")
    with pytest.raises(ValidationError, match="tokenizer_path: required for tokenizer kind"):
        SimConfig(tokenizer="mistral")


def test_the_simulator_answers_400_for_a_chat_its_tokenizer_rejects() -> None:
    config = SimConfig(
        tokenizer="mistral", tokenizer_path=str(mistral_common_file(MISTRAL_FILES[1]))
    )
    body = {"messages": [{"role": "tool", "content": "orphan tool result"}]}
    with pytest.raises(ApiError) as caught:
        parse_chat(body, config)
    assert caught.value.status == 400
    assert "not encodable" in str(caught.value)


def _long_chats() -> dict[str, dict[str, object]]:
    long_text = LONG[:60_000]
    return {
        "long-system": {
            "messages": [
                {"role": "system", "content": long_text},
                {"role": "user", "content": "First question?"},
                {"role": "assistant", "content": "First answer."},
                {"role": "user", "content": "Second question?"},
            ],
            "tools": TOOLS,
        },
        "long-middle": {
            "messages": [
                {"role": "user", "content": "Read this."},
                {"role": "assistant", "content": long_text},
                {"role": "user", "content": long_text[::-1]},
            ]
        },
        "many-short": {
            "messages": [
                {
                    "role": "user" if i % 2 == 0 else "assistant",
                    "content": LONG[i * 900 : (i + 1) * 900],
                }
                for i in range(41)
            ]
        },
    }


@pytest.mark.parametrize("name", MISTRAL_FILES)
@pytest.mark.parametrize("chat", list(_long_chats()), ids=list(_long_chats()))
def test_a_long_chat_encoded_as_far_as_needed_keeps_the_leading_ids(name: str, chat: str) -> None:
    tokenizer = load_tokenizer("mistral", str(mistral_common_file(name)))
    prompt = prompt_input_of(_long_chats()[chat])
    assert prompt is not None
    whole = tokenizer.encode(prompt)
    head = tokenizer.encode(prompt, max_tokens=1000)
    assert len(whole) > 5000
    assert len(head) >= 1000
    assert head == whole[: len(head)]


def test_hf_templates_with_generation_blocks_and_tojson_options_render(tmp_path: Path) -> None:
    folder = write_hf_tokenizer(tmp_path / "hf")
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["chat_template"] = (
        "{% for m in messages %}{{ m['role'] }}: "
        "{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}{% endgeneration %}"
        "{% else %}{{ m['content'] }}{% endif %}|{% endfor %}"
        "{{ tools | tojson(indent=1) if tools }}"
    )
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    tokenizer = HfTokenizer(folder)
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    rendered = tokenizer.render_chat(messages, [{"b": 1, "a": "é"}])
    assert rendered == 'user: hi|assistant: yo|[\n {\n  "b": 1,\n  "a": "é"\n }\n]'


def test_hf_templates_see_tool_calls_and_empty_content_as_vllm_hands_them_over(
    tmp_path: Path,
) -> None:
    """vLLM parses an assistant's tool-call arguments from their JSON text before the
    template sees them, gives a message without content "", and drops an empty
    ``tool_calls``: a template rendering them otherwise would key every agentic
    conversation differently from the server from its first tool call on."""
    folder = write_hf_tokenizer(tmp_path / "hf")
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["chat_template"] = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}"
        "{% if m['tool_calls'] is defined %}"
        "{% for c in m['tool_calls'] %}<call>{{ c['function']['arguments'] | tojson }}"
        "{% endfor %}{% endif %}|{% endfor %}"
    )
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    tokenizer = HfTokenizer(folder)
    call = {"id": "call_1", "type": "function", "function": {"name": "get"}}
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {**call, "function": {"name": "get", "arguments": '{"city":  "Paris"}'}},
                {**call, "function": {"name": "get", "arguments": ""}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "assistant", "content": "Sunny.", "tool_calls": []},
    ]
    rendered = tokenizer.render_chat(messages)
    assert rendered == (
        'user: weather?|assistant: <call>{"city": "Paris"}<call>{}|tool: sunny|assistant: Sunny.|'
    )


def test_tool_call_arguments_that_are_not_json_leave_the_prompt_untokenized(
    hf_folder: Path,
) -> None:
    tokenizer = HfTokenizer(hf_folder)
    bad = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
    prompt = prompt_input_of({"messages": [{"role": "assistant", "tool_calls": [bad]}]})
    assert prompt is not None
    with pytest.raises(ValueError, match="not JSON"):
        tokenizer.encode(prompt)


@pytest.mark.parametrize("name", MISTRAL_FILES[:3])
def test_mistral_takes_openai_tool_call_ids_as_vllm_does_keeping_their_last_nine(
    name: str,
) -> None:
    tokenizer = load_tokenizer("mistral", str(mistral_common_file(name)))

    def chat(call_id: str) -> list[int]:
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"term": "kv"}'},
        }
        body = {
            "messages": [
                {"role": "user", "content": "Look kv up."},
                {"role": "assistant", "content": "", "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call_id, "content": "a cache"},
            ],
            "tools": TOOLS,
        }
        prompt = prompt_input_of(body)
        assert prompt is not None
        return tokenizer.encode(prompt)

    assert chat("call_9f8e7d6c5b4a") == chat("9f8e7d6c5b4a"[-9:])


@pytest.mark.parametrize("kind", ["completion", "chat"])
def test_a_long_chinese_prompt_encoded_as_far_as_needed_keeps_the_leading_ids(kind: str) -> None:
    tokenizer = load_tokenizer("mistral", str(mistral_common_file("tekken_240911.json")))
    text = ("前缀缓存让服务器复用已经计算过的注意力键值\uff0c从而降低首个词元的延迟。" * 5_000)[
        :150_000
    ]
    body = (
        {"prompt": text}
        if kind == "completion"
        else {"messages": [{"role": "user", "content": text}]}
    )
    prompt = prompt_input_of(body)
    assert prompt is not None
    whole = tokenizer.encode(prompt)
    head = tokenizer.encode(prompt, max_tokens=2_000)
    assert 2_000 <= len(head) < len(whole)
    assert head == whole[: len(head)]
