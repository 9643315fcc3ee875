"""The pydantic internals the event hot path uses are where it expects them.

``Event.trusted`` builds events by setting a model instance's state directly, and
the plain-JSON writer decides from a model's decorators whether orjson can write
its bytes. pydantic is bounded above in pyproject.toml because of this: when a new
release moves one of these, the test of that internal fails by name (its id), and
``gie.events.base`` / ``gie.events.plain_json`` are adapted before the bound is
raised.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from gie.events import RequestRouted

PYDANTIC = importlib.metadata.version("pydantic")


def _routed() -> RequestRouted:
    return RequestRouted(
        source="picker-a", pool="ns/pool", request_id="r1", model="m",
        target="10.0.0.1:8000", picker="picker-a",
    )  # fmt: skip


def _instance_state() -> bool:
    # trusted() sets exactly these four on a bare instance.
    slots = set(getattr(BaseModel, "__slots__", ()))
    return {
        "__dict__",
        "__pydantic_fields_set__",
        "__pydantic_extra__",
        "__pydantic_private__",
    } <= slots


def _fields_in_dict() -> bool:
    # The validated state is a plain dict of every field in declared order.
    return list(_routed().__dict__) == list(RequestRouted.model_fields)


def _decorators() -> bool:
    decorators = getattr(RequestRouted, "__pydantic_decorators__", None)
    return hasattr(decorators, "field_serializers") and hasattr(decorators, "model_serializers")


def _serializer_to_json() -> bool:
    serializer = getattr(RequestRouted, "__pydantic_serializer__", None)
    return callable(getattr(serializer, "to_json", None))


def _undefined_default() -> bool:
    return RequestRouted.model_fields["request_id"].default is PydanticUndefined


def _state_makes_the_model() -> bool:
    # A bare instance given validated state is equal to, and dumps as, the original.
    original = _routed()
    copy = RequestRouted.__new__(RequestRouted)
    object.__setattr__(copy, "__dict__", dict(original.__dict__))
    object.__setattr__(copy, "__pydantic_fields_set__", set(original.model_fields_set))
    object.__setattr__(copy, "__pydantic_extra__", None)
    object.__setattr__(copy, "__pydantic_private__", None)
    return copy == original and copy.model_dump_json() == original.model_dump_json()


@pytest.mark.parametrize(
    "holds",
    [
        pytest.param(_instance_state, id="BaseModel.__slots__"),
        pytest.param(_fields_in_dict, id="BaseModel.__dict__-holds-the-fields-in-order"),
        pytest.param(_decorators, id="__pydantic_decorators__.field_and_model_serializers"),
        pytest.param(_serializer_to_json, id="__pydantic_serializer__.to_json"),
        pytest.param(_undefined_default, id="FieldInfo.default-is-PydanticUndefined"),
        pytest.param(_state_makes_the_model, id="instance-state-set-directly"),
    ],
)
def test_the_internal_is_in_place(holds: Callable[[], bool]) -> None:
    assert holds(), f"pydantic {PYDANTIC} moved what this test is named after"
