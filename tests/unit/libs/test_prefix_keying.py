"""The pool's prefix-hash secret: loading it, and what it changes in the hashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gie.prefix import (
    ROOT_KEY,
    PrefixKey,
    PrefixKeyError,
    load_prefix_key,
    root_key,
    token_block_keys,
)

TOKENS = list(range(1, 33))  # two blocks of 16


def test_a_key_file_is_read_and_its_surrounding_whitespace_ignored(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("0123456789abcdef0123456789abcdef\n")
    (tmp_path / "b").write_text("  0123456789abcdef0123456789abcdef")
    a, b = load_prefix_key(tmp_path / "a"), load_prefix_key(tmp_path / "b")
    assert a.key_id == b.key_id and not a.is_public_default
    assert token_block_keys(TOKENS, 16, key=a) == token_block_keys(TOKENS, 16, key=b)


def test_no_file_means_the_public_default(tmp_path: Path) -> None:
    key = load_prefix_key(None)
    assert key.is_public_default and key.key_id == PrefixKey.public_default().key_id


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"short", "at least 16"),
        (b"   \n", "has 0 bytes"),
        (b"x" * 5000, "exceeds 4096 bytes"),
    ],
    ids=["too-short", "blank", "too-long"],
)
def test_a_bad_key_file_is_an_error_naming_the_file(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    with pytest.raises(PrefixKeyError, match=problem) as caught:
        load_prefix_key(path)
    assert str(path) in str(caught.value)


def test_a_missing_key_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PrefixKeyError, match="unreadable"):
        load_prefix_key(tmp_path / "absent")


def test_the_secret_never_shows_in_the_repr() -> None:
    assert "topsecret" not in repr(PrefixKey(b"topsecret-topsecret"))


def test_token_keys_depend_on_the_secret_and_chain_over_blocks() -> None:
    one, two = PrefixKey(b"first pool secret..."), PrefixKey(b"second pool secret..")
    keys = token_block_keys(TOKENS, 16, key=one)
    assert len(keys) == 2 and not set(keys) & set(token_block_keys(TOKENS, 16, key=two))
    # chaining: the second block's key continues from the first's
    assert token_block_keys(TOKENS[16:], 16, key=one, parent=keys[0]) == keys[1:]


def test_an_adapter_roots_its_own_chain() -> None:
    key = PrefixKey(b"a pool secret here..")
    assert root_key(None, key=key) == ROOT_KEY
    lora = root_key("my-adapter", key=key)
    assert lora != ROOT_KEY
    assert token_block_keys(TOKENS, 16, key=key, parent=lora) != token_block_keys(
        TOKENS, 16, key=key
    )
