"""No published event field can hold request content.

Events are public: anyone allowed to read the stream sees every field. gie publishes
sizes and counts of prompts (``prompt_bytes``, ``prompt_tokens``), keyed hashes and
ids, never the text, messages, token ids or bodies themselves. This test reads every
schema in ``schemas/`` (current, frozen releases, the AsyncAPI document's headers) and
rejects a property whose name says it would carry content, so such a field cannot be
added without this test (and its review) changing first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.schemas.conftest import ROOT

SCHEMAS = ROOT / "schemas"

# A name that is, or ends in, one of these words names content.
CONTENT_WORDS = frozenset(
    {
        "prompt",
        "prompts",
        "content",
        "contents",
        "message",
        "messages",
        "text",
        "texts",
        "body",
        "bodies",
        "completion",
        "completions",
        "input",
        "inputs",
        "output",
        "outputs",
        "tools",
        "query",
        "response",
        "header",
        "headers",
        "cookie",
        "authorization",
    }
)
# Token ids (``token_ids``, ``prompt_token_ids``) are content too, whatever precedes them.
CONTENT_SUFFIXES = ("token_ids", "tokens_ids", "token_id_list")


def holds_content(name: str) -> bool:
    lowered = name.lower().replace("-", "_")
    if lowered.endswith(CONTENT_SUFFIXES):
        return True
    return lowered in CONTENT_WORDS or lowered.rsplit("_", 1)[-1] in CONTENT_WORDS


def property_names(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every property name declared anywhere in a JSON Schema (nested ones included)."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name in properties:
                yield name, f"{where}.properties.{name}"
        for key, value in node.items():
            yield from property_names(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from property_names(value, f"{where}[{index}]")


def published_schemas() -> list[Path]:
    files = [p for p in sorted(SCHEMAS.rglob("*.json")) if "vendor" not in p.parts]
    return [*files, SCHEMAS / "asyncapi.yaml"]


def load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("prompt", True),
        ("messages", True),
        ("content", True),
        ("text", True),
        ("token_ids", True),
        ("prompt_token_ids", True),
        ("prompt_text", True),
        ("request_body", True),
        ("Authorization", True),
        ("prompt_tokens", False),
        ("prompt_bytes", False),
        ("completion_tokens", False),
        ("input_tokens", False),
        ("block_hashes", False),
        ("fairness_id", False),
    ],
)
def test_the_rule_tells_content_from_counts(name: str, content: bool) -> None:
    assert holds_content(name) is content


def test_the_walk_finds_nested_properties() -> None:
    schema = {"properties": {"a": {"items": {"properties": {"messages": {}}}}}}
    assert [n for n, _ in property_names(schema, "x")] == ["a", "messages"]


def test_the_walk_covers_every_published_schema() -> None:
    paths = published_schemas()
    assert any("frozen" in p.parts for p in paths)
    assert {p.stem for p in paths} >= {"RequestRouted", "KvBlocksStored", "asyncapi"}


@pytest.mark.parametrize("path", published_schemas(), ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_no_published_field_can_hold_content(path: Path) -> None:
    found = [where for name, where in property_names(load(path), path.name) if holds_content(name)]
    assert found == [], f"fields that could carry request content: {found}"
