"""The kernel's one registry: explicit registration, duplicates and unknown names refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gie.registry import DuplicateTypeError, Registry, RegistryError, UnknownTypeError

Factory = Callable[[], str]


def registry(*names: str) -> Registry[Factory]:
    made = Registry[Factory]("plugin type")
    for name in names:
        made.register(name, lambda name=name: name)
    return made


def test_a_registered_type_is_found_by_name() -> None:
    plugins = registry("queue-scorer", "kv-cache-utilization-scorer")
    assert plugins.lookup("queue-scorer")() == "queue-scorer"
    assert plugins.get("queue-scorer") is plugins.lookup("queue-scorer")
    assert plugins.types() == ["kv-cache-utilization-scorer", "queue-scorer"]
    assert "queue-scorer" in plugins and "prefix-cache-scorer" not in plugins
    assert len(plugins) == 2


def test_a_name_registered_twice_is_refused_and_the_first_kept() -> None:
    plugins = registry("queue-scorer")
    first = plugins.lookup("queue-scorer")
    with pytest.raises(DuplicateTypeError, match="plugin type 'queue-scorer' is already"):
        plugins.register("queue-scorer", lambda: "other")
    assert plugins.lookup("queue-scorer") is first


@pytest.mark.parametrize(
    ("names", "known"),
    [(("round-robin", "best-head"), "best-head, round-robin"), ((), "none")],
    ids=["lists-known", "empty"],
)
def test_an_unknown_name_is_named_with_the_known_ones(names: tuple[str, ...], known: str) -> None:
    plugins = registry(*names)
    assert plugins.get("fcfs") is None
    with pytest.raises(UnknownTypeError) as caught:
        plugins.lookup("fcfs")
    assert str(caught.value) == f"no plugin type 'fcfs' is registered (known: {known})"
    assert isinstance(caught.value, LookupError)
    assert isinstance(caught.value, RegistryError)
