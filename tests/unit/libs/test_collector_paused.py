"""``collector_paused``: no cyclic collection inside the block, the previous state after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gie.lifecycle import collector_paused


@pytest.fixture
def collector_state() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_state")
@pytest.mark.parametrize("enabled", [True, False], ids=["was-enabled", "was-disabled"])
def test_collection_is_off_inside_and_as_before_after_even_on_an_error(enabled: bool) -> None:
    if enabled:
        gc.enable()
    else:
        gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled() is enabled
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("replay failed")
    assert gc.isenabled() is enabled


@pytest.mark.usefixtures("collector_state")
def test_garbage_without_cycles_is_still_freed_inside() -> None:
    gc.enable()
    freed: list[str] = []

    class Event:
        def __del__(self) -> None:
            freed.append("event")

    with collector_paused():
        Event()  # dropped at once: reference counting frees it
        assert freed == ["event"]
        kept = [[] for _ in range(20_000)]  # past the young generation's threshold
        # Nothing collected the young generation (a pass empties its count).
        assert gc.get_count()[0] >= len(kept)
