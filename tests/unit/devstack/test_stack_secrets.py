"""The local stack's prefix-key secret: made once at start, private, then kept."""

from __future__ import annotations

import stat
from pathlib import Path

from gie.prefix import load_prefix_key
from gie_cli.devstack import StackOptions, StackState, StateStore
from gie_cli.devstack.secrets import PREFIX_KEY_FILE, ensure_prefix_key
from gie_cli.devstack.stack import _Starter


def test_the_key_is_made_private_and_kept(tmp_path: Path) -> None:
    path = ensure_prefix_key(tmp_path / "data")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = load_prefix_key(path)
    assert not first.is_public_default
    assert ensure_prefix_key(tmp_path / "data") == path
    assert load_prefix_key(path).key_id == first.key_id  # not regenerated


def test_two_stacks_get_different_keys(tmp_path: Path) -> None:
    one = load_prefix_key(ensure_prefix_key(tmp_path / "one"))
    two = load_prefix_key(ensure_prefix_key(tmp_path / "two"))
    assert one.key_id != two.key_id


def test_pickers_and_collectors_of_the_stack_read_the_same_key(tmp_path: Path) -> None:
    options = StackOptions(state_dir=tmp_path)
    state = StackState(
        state_dir=tmp_path, data_dir=tmp_path / "data", pool=options.pool, discovery="file"
    )
    env = _Starter(StateStore(tmp_path), state, options)._service_env(tmp_path / "pool.yaml")
    key_file = str(tmp_path / "data" / PREFIX_KEY_FILE)
    assert env["picker"]["GIE_PREFIX_KEY_FILE"] == key_file
    assert env["metrics-collector"]["GIE_PREFIX_KEY_FILE"] == key_file
    assert "GIE_PREFIX_KEY_FILE" not in env["flow-controller"]  # needs no secret
