"""Configuration YAML: a key repeated in one mapping is an error with its position;
merge keys (``<<``) work as in PyYAML, a key written beside them overriding theirs."""

from __future__ import annotations

import pytest
import yaml

from gie.config.strict_yaml import safe_load_strict


def test_a_repeated_key_is_an_error_at_the_repeat() -> None:
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        safe_load_strict("plugins:\n- type: a\n  name: x\n  type: b\n")
    assert caught.value.problem == "duplicate key 'type'"
    mark = caught.value.problem_mark
    assert mark is not None and (mark.line + 1, mark.column + 1) == (4, 3)


def test_merge_keys_load_and_a_written_key_overrides_the_merged_one() -> None:
    text = "plugins:\n- &scorer {type: queue-scorer, name: q1}\n- <<: *scorer\n  name: q2\n"
    assert safe_load_strict(text) == yaml.safe_load(text)
    assert safe_load_strict(text)["plugins"][1] == {"type": "queue-scorer", "name": "q2"}


def test_a_key_repeated_beside_a_merge_is_still_an_error() -> None:
    with pytest.raises(yaml.MarkedYAMLError, match="duplicate key 'a'"):
        safe_load_strict("b: &b {a: 1}\nx: {<<: *b, a: 3, a: 4}\n")


def test_everything_else_loads_as_safe_load_does() -> None:
    text = "a: [1, 2.5, 'x', null, true]\nb: {c: {d: 2026-12-04}}\n"
    assert safe_load_strict(text) == yaml.safe_load(text)
