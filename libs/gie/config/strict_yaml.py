"""YAML for configuration files: a key repeated in one mapping is an error, and the
document's size, nesting depth, alias count and expanded size are bounded.

PyYAML keeps the last of repeated keys without a word, so a mistyped list item
(two ``type:`` lines where a ``- `` was missing) would load as something the
operator never wrote. Kubernetes' strict decoding rejects duplicates; so do we,
with the line and column of the repeated key.

The limits keep a hostile or broken document from exhausting the process: a
document larger than ``max_bytes``, nested deeper than ``max_depth`` collections
(PyYAML's composer recurses per level and would die of a RecursionError), using
more than ``max_aliases`` aliases, or holding more than ``max_nodes`` values once its
aliases are expanded (the "billion laughs": a few dozen aliased lists that expand to
gigabytes once the document is walked, by validation or by writing it out). Each raises
:class:`YamlLimitError`, a ``yaml.YAMLError`` naming the limit, so callers that
report YAML errors report it the same way.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode

__all__ = [
    "MAX_ALIASES",
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "YamlLimitError",
    "safe_load_bounded",
    "safe_load_strict",
]

_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # Kubernetes stores a ConfigMap of at most 1 MiB
MAX_DEPTH = 64
MAX_ALIASES = 256
MAX_NODES = 1_000_000


class YamlLimitError(yaml.YAMLError):
    """The document exceeds a size, depth or alias limit (the message names it)."""


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader counting nesting depth and aliases while it composes nodes."""

    max_depth = MAX_DEPTH
    max_aliases = MAX_ALIASES
    max_nodes = MAX_NODES

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values under it, aliases expanded

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > self.max_aliases:
                raise YamlLimitError(f"document uses more than {self.max_aliases} aliases")
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise YamlLimitError(f"document nests deeper than {self.max_depth} levels")
            node: Node | None = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None and id(node) not in self._sizes:
            self._sizes[id(node)] = size = 1 + sum(map(self._size, _children(node)))
            if size > self.max_nodes:
                raise YamlLimitError(
                    f"document expands to more than {self.max_nodes} values (aliases expanded)"
                )
        return node

    def _size(self, node: Node) -> int:
        return self._sizes.get(id(node), 1)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    return []


class _UniqueKeyLoader(_BoundedLoader):
    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            # The node's own keys only: a merged mapping (``<<: *base``) was checked
            # when it was built, and a key written here overrides its value.
            seen: set[object] = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    repeated = key in seen
                    seen.add(key)
                except TypeError:
                    continue  # an unhashable key: the base loader reports it
                if repeated:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"duplicate key {key!r}",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


def _load(
    loader: type[_BoundedLoader],
    text: str | bytes,
    *,
    max_bytes: int,
    max_depth: int,
    max_aliases: int,
    max_nodes: int,
) -> Any:
    size = len(text.encode() if isinstance(text, str) else text)
    if size > max_bytes:
        raise YamlLimitError(f"document of {size} bytes exceeds the limit of {max_bytes} bytes")
    bounded = type(
        loader.__name__,
        (loader,),
        {"max_depth": max_depth, "max_aliases": max_aliases, "max_nodes": max_nodes},
    )
    return yaml.load(text, Loader=bounded)


def safe_load_strict(
    text: str | bytes,
    *,
    max_bytes: int = MAX_CONFIG_BYTES,
    max_depth: int = MAX_DEPTH,
    max_aliases: int = MAX_ALIASES,
    max_nodes: int = MAX_NODES,
) -> Any:
    """``yaml.safe_load``, except that a key repeated in a mapping raises a
    MarkedYAMLError and a document over a limit raises :class:`YamlLimitError`."""
    return _load(
        _UniqueKeyLoader,
        text,
        max_bytes=max_bytes,
        max_depth=max_depth,
        max_aliases=max_aliases,
        max_nodes=max_nodes,
    )


def safe_load_bounded(
    text: str | bytes,
    *,
    max_bytes: int,
    max_depth: int = MAX_DEPTH,
    max_aliases: int = MAX_ALIASES,
    max_nodes: int = MAX_NODES,
) -> Any:
    """``yaml.safe_load`` within the limits (repeated keys: the last wins, as PyYAML)."""
    return _load(
        _BoundedLoader,
        text,
        max_bytes=max_bytes,
        max_depth=max_depth,
        max_aliases=max_aliases,
        max_nodes=max_nodes,
    )
