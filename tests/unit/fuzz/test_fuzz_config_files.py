"""Configuration files: any YAML gives a configuration or a ConfigError, and a document
over a size, depth, alias or expansion limit is refused naming the limit."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gie.config.strict_yaml import (
    MAX_ALIASES,
    MAX_CONFIG_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    YamlLimitError,
    safe_load_strict,
)
from gie_picker.config import load_config
from gie_picker.config.errors import ConfigError
from tests.unit.fuzz.conftest import FUZZ, json_values

_plugin_types = st.sampled_from(
    ["queue-scorer", "prefix-cache-scorer", "max-score-picker", "nope", "single-profile-handler"]
)
_configs = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": st.sampled_from(["inference.networking.x-k8s.io/v1alpha1", "x"])
        | json_values,
        "kind": st.sampled_from(["EndpointPickerConfig"]) | json_values,
        "plugins": st.lists(
            st.fixed_dictionaries(
                {"type": _plugin_types}, optional={"name": json_values, "parameters": json_values}
            )
            | json_values,
            max_size=3,
        ),
        "schedulingProfiles": json_values,
        "saturationDetector": json_values,
        "featureGates": json_values,
    },
)


@FUZZ
@given(document=_configs)
def test_any_picker_config_loads_or_is_a_config_error(document: dict[str, object]) -> None:
    try:
        load_config(yaml.safe_dump(document, allow_unicode=True) + "\n# yaml text\n")
    except ConfigError as exc:
        assert str(exc)


@FUZZ
@given(text=st.text(alphabet="[]{}:,-&*!|>'\"#\n ab1", max_size=80))
def test_any_yaml_text_loads_or_is_a_yaml_error(text: str) -> None:
    try:
        safe_load_strict(text)
    except yaml.YAMLError as exc:
        assert str(exc)


def _laughs(levels: int) -> str:
    return "l0: &l0 [a, a]\n" + "".join(
        f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}]\n" for i in range(1, levels)
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"deeper than {MAX_DEPTH}"),
        ("a: " + "[" * 100_000, f"deeper than {MAX_DEPTH}"),
        (_laughs(40), f"more than {MAX_NODES} values"),
        (
            "a: &a 1\n" + "".join(f"b{i}: *a\n" for i in range(MAX_ALIASES + 1)),
            f"more than {MAX_ALIASES} aliases",
        ),
        ("#" * (MAX_CONFIG_BYTES + 1), f"limit of {MAX_CONFIG_BYTES} bytes"),
    ],
    ids=["deep", "very-deep", "billion-laughs", "many-aliases", "too-large"],
)
def test_a_document_over_a_limit_is_refused_naming_it(text: str, words: str) -> None:
    with pytest.raises(YamlLimitError, match=words):
        safe_load_strict(text)
    with pytest.raises(ConfigError, match=words):  # and the picker reports it as config
        load_config(text + "\n")
