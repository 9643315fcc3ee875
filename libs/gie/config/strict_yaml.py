"""YAML for configuration files: a key repeated in one mapping is an error.

PyYAML keeps the last of repeated keys without a word, so a mistyped list item
(two ``type:`` lines where a ``- `` was missing) would load as something the
operator never wrote. Kubernetes' strict decoding rejects duplicates; so do we,
with the line and column of the repeated key.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

__all__ = ["safe_load_strict"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
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


def safe_load_strict(text: str | bytes) -> Any:
    """``yaml.safe_load``, except that a key repeated in a mapping raises a MarkedYAMLError."""
    return yaml.load(text, Loader=_UniqueKeyLoader)
