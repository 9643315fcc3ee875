"""``python -m bench.prefix_keying [--rounds N] [--calls N]``: see the package docstring."""

from __future__ import annotations

import argparse
import array
import os
import statistics
import time
from collections.abc import Callable

import xxhash

from gie.prefix import PrefixKey, block_hashes, token_block_keys

_BLOCKS = 256
_TEXT_BLOCK = 64
_TOKEN_BLOCK = 16


def _unkeyed_text(text: bytes) -> list[int]:
    """The approximate index's former chain: xxhash64, seeded with the model."""
    previous = xxhash.xxh64_intdigest(b"model")
    view = memoryview(text)
    out = []
    for start in range(0, _BLOCKS * _TEXT_BLOCK, _TEXT_BLOCK):
        previous = xxhash.xxh64_intdigest(
            bytes(view[start : start + _TEXT_BLOCK]) + previous.to_bytes(8, "little")
        )
        out.append(previous)
    return out


def _unkeyed_tokens(tokens: list[int]) -> list[int]:
    """The precise index's former chain: xxh3-64 seeded with the parent key."""
    raw = memoryview(array.array("Q", tokens).tobytes())
    step = _TOKEN_BLOCK * 8
    parent, out = 0, []
    for start in range(0, _BLOCKS * step, step):
        parent = xxhash.xxh3_64_intdigest(raw[start : start + step], parent)
        out.append(parent)
    return out


def _cpu_us(run: Callable[[], object], *, rounds: int, calls: int) -> tuple[float, float, float]:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(calls):
            run()
        samples.append((time.process_time() - start) / calls * 1e6)
    return statistics.median(samples), min(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.prefix_keying")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    key = PrefixKey(os.urandom(32))
    prompt = os.urandom(100_000).hex().encode()  # 200 KB
    text = prompt[: _BLOCKS * _TEXT_BLOCK]
    tokens = list(prompt[: _BLOCKS * _TOKEN_BLOCK])
    arms: list[tuple[str, Callable[[], object]]] = [
        ("text blocks, xxhash64 (unkeyed, before)", lambda: _unkeyed_text(text)),
        (
            "text blocks, keyed BLAKE2b (now)",
            lambda: block_hashes(
                text, key=key, model="model", block_size=_TEXT_BLOCK, max_blocks=_BLOCKS
            ),
        ),
        ("token blocks, xxh3-64 (unkeyed, before)", lambda: _unkeyed_tokens(tokens)),
        (
            "token blocks, keyed BLAKE2b (now)",
            lambda: token_block_keys(tokens, _TOKEN_BLOCK, key=key, max_blocks=_BLOCKS),
        ),
    ]
    print(f"load average {os.getloadavg()[0]:.1f}; CPU per 200 KB prompt ({_BLOCKS} blocks)")
    for name, run in arms:
        median, low, high = _cpu_us(run, rounds=args.rounds, calls=args.calls)
        print(f"  {name:42s} {median:7.0f} µs (min {low:.0f}, max {high:.0f})")


if __name__ == "__main__":
    main()
