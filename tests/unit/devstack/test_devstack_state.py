"""StateStore: stack.json round-trips, is absent when no stack, and is locked while starting."""

from __future__ import annotations

from pathlib import Path

import pytest

from gie_cli.devstack import (
    DevstackError,
    PartRecord,
    ProcessRecord,
    StackAlreadyRunningError,
    StackState,
    StateStore,
    default_state_dir,
)


def _state(root: Path) -> StackState:
    return (
        StackState(state_dir=root, data_dir=root / "data-x", pool="default/sim-pool")
        .with_process(
            ProcessRecord(
                name="sims",
                pid=4242,
                argv=["/usr/bin/python3", "-m", "gie_sim", "--count", "2"],
                start_ticks=123456,
                log=root / "logs" / "sims.log",
            )
        )
        .with_parts(
            PartRecord(
                name="sim-0",
                kind="sim",
                process="sims",
                addresses={"endpoint": "127.0.0.1:40001"},
                health_url="http://127.0.0.1:40001/health",
            ),
            PartRecord(
                name="sim-1",
                kind="sim",
                process="sims",
                addresses={"endpoint": "127.0.0.1:40002"},
                health_url="http://127.0.0.1:40002/health",
            ),
        )
        .model_copy(update={"gateway": "http://127.0.0.1:18080"})
    )


def test_round_trip(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "stack")
    state = _state(store.root)
    store.save(state)
    assert store.file.name == "stack.json"
    assert store.load() == state
    assert store.load().process("sims").pid == 4242  # type: ignore[union-attr]


def test_no_stack_loads_as_none_and_remove_is_idempotent(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    assert store.load() is None
    store.save(_state(tmp_path))
    store.remove()
    store.remove()
    assert store.load() is None


def test_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(_state(tmp_path))
    store.save(_state(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.json"]


def test_unknown_fields_are_rejected(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(_state(tmp_path))
    store.file.write_text(store.file.read_text().replace('"pool"', '"surprise": 1, "pool"'))
    with pytest.raises(DevstackError, match="surprise"):
        store.load()


def test_second_starter_is_refused_while_locked(tmp_path: Path) -> None:
    first, second = StateStore(tmp_path), StateStore(tmp_path)
    with (
        first.exclusive(),
        pytest.raises(StackAlreadyRunningError, match="starting a stack"),
        second.exclusive(),
    ):
        pass
    with second.exclusive():  # released
        pass


@pytest.mark.parametrize(
    ("env", "expected"),
    [(None, Path(".gie/stack")), ("/somewhere/else", Path("/somewhere/else"))],
    ids=["default", "GIE_STATE_DIR"],
)
def test_default_state_dir(
    env: str | None, expected: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    if env is None:
        monkeypatch.delenv("GIE_STATE_DIR", raising=False)
    else:
        monkeypatch.setenv("GIE_STATE_DIR", env)
    assert default_state_dir() == (tmp_path / expected if env is None else expected)
