"""Hugging Face ``tokenizer.json`` files with the chat template of ``tokenizer_config.json``.

What vLLM does with a Hugging Face tokenizer: a completion prompt is encoded with the
tokenizer's special tokens (its post-processor adds BOS where the model wants one); a
chat is rendered by the model's jinja2 chat template, with the generation prompt, and
the text encoded without adding special tokens (the template wrote them). The template
comes from ``chat_template.jinja`` beside the tokenizer when present, else from
``tokenizer_config.json``'s ``chat_template`` (a string, or the one named ``default`` in
a list); it is rendered in a sandbox with ``trim_blocks`` and ``lstrip_blocks``, the
``tojson`` filter, ``raise_exception``, ``strftime_now`` and ``{% generation %}``
blocks, and the special tokens of
``tokenizer_config.json`` as variables (``bos_token``, ``eos_token``, ...).

Needs the ``tokenizers`` extra. Encoding is pure CPU; safe from any thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import jinja2
import jinja2.ext
import jinja2.nodes
import jinja2.parser
import jinja2.sandbox
import tokenizers

from gie.tokenize.chat_messages import openai_messages
from gie.tokenize.prompt_input import PromptInput
from gie.tokenize.text_prefix import encode_prefix

__all__ = ["HfTokenizer"]

_SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token")


class _GenerationBlocks(jinja2.ext.Extension):
    """``{% generation %}...{% endgeneration %}`` (marks the assistant's part for
    training masks in some templates): rendered as its body."""

    tags = {"generation"}

    def parse(self, parser: jinja2.parser.Parser) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.Scope(body, lineno=lineno)


def _raise_exception(message: str) -> NoReturn:
    raise jinja2.TemplateError(message)


def _tojson(
    value: object,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    """The ``tojson`` filter as Hugging Face chat templates expect it (no HTML escaping,
    keys in their order)."""
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _token_text(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _template_of(config: dict[str, object], folder: Path) -> str | None:
    jinja_file = folder / "chat_template.jinja"
    if jinja_file.is_file():
        return jinja_file.read_text(encoding="utf-8")
    template = config.get("chat_template")
    if isinstance(template, list):
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default")
    return template if isinstance(template, str) else None


class HfTokenizer:
    """:class:`~gie.tokenize.contracts.Tokenizer` over a ``tokenizer.json`` (and the chat
    template of the ``tokenizer_config.json`` beside it)."""

    def __init__(self, path: Path) -> None:
        """``path``: a ``tokenizer.json`` file or the folder holding it. ``ValueError``
        when the tokenizer or its config cannot be read (the message names the file)."""
        file = path / "tokenizer.json" if path.is_dir() else path
        try:
            self._tokenizer = tokenizers.Tokenizer.from_file(str(file))
        except Exception as exc:  # the Rust library raises plain Exception
            raise ValueError(f"{file.name}: not a tokenizer.json file: {exc}") from exc
        config_file = file.parent / "tokenizer_config.json"
        config: dict[str, object] = {}
        if config_file.is_file():
            try:
                loaded = json.loads(config_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(f"{config_file.name}: not JSON: {exc}") from exc
            if not isinstance(loaded, dict):
                raise ValueError(f"{config_file.name}: not a JSON object")
            config = loaded
        source = _template_of(config, file.parent)
        env = jinja2.sandbox.ImmutableSandboxedEnvironment(
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[jinja2.ext.loopcontrols, _GenerationBlocks],
        )
        env.filters["tojson"] = _tojson
        env.globals["raise_exception"] = _raise_exception
        env.globals["strftime_now"] = _strftime_now
        try:
            self._template = None if source is None else env.from_string(source)
        except jinja2.TemplateError as exc:
            raise ValueError(f"chat template does not compile: {exc}") from exc
        self._specials = {name: _token_text(config.get(name)) for name in _SPECIAL_TOKENS}
        self.name = f"hf:{file.parent.name}/{file.name}"

    def encode_text(self, text: str) -> list[int]:
        """A completion prompt's ids, special tokens added as the tokenizer defines."""
        return list(self._tokenizer.encode(text, add_special_tokens=True).ids)

    def render_chat(self, messages: Sequence[object], tools: Sequence[object] = ()) -> str:
        """The chat template's text for ``messages`` with the generation prompt."""
        if self._template is None:
            raise ValueError(f"{self.name} has no chat template (tokenizer_config.json)")
        try:
            return self._template.render(
                messages=openai_messages(messages),
                tools=list(tools) or None,
                add_generation_prompt=True,
                **self._specials,
            )
        except (jinja2.TemplateError, TypeError, KeyError, AttributeError) as exc:
            # what a template does with messages it did not expect (a missing key, None)
            raise ValueError(f"chat template of {self.name} failed: {exc}") from exc

    def _encode_rendered(self, text: str) -> list[int]:
        return list(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def encode(self, prompt: PromptInput, *, max_tokens: int | None = None) -> list[int]:
        """Ids of ``prompt``; a long text (or rendered chat) only as far as needed."""
        if prompt.token_ids is not None:
            return list(prompt.token_ids)
        if prompt.messages is not None:
            rendered = self.render_chat(prompt.messages, prompt.tools)
            return encode_prefix(self._encode_rendered, rendered, max_tokens)
        return encode_prefix(self.encode_text, prompt.text, max_tokens)
