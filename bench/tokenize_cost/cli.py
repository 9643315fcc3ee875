"""Time tokenizing and scoring a long prompt with each tokenizer; print a table."""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from gie.events import Endpoint, KvBlocksStored, KvCacheCleared
from gie.events.hashes import pack_hashes
from gie.prefix import PrefixKey, token_block_keys
from gie.tokenize import PromptInput, mistral_common_file
from gie.view import EndpointState, InFlightView, PoolView
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.scheduling.contracts import PluginContext, SchedulingRequest
from gie_picker.scheduling.scorers import PrecisePrefixCacheParameters, PrecisePrefixCacheScorer
from gie_picker.scheduling.scorers.precise_prefix_cache_scorer import TokenizerParameters

POOL = "bench/tokenize-cost"
ENDPOINTS = [f"10.0.0.{i}:8000" for i in range(1, 9)]
BLOCK = 16
_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "from",
    "at",
    "or",
    "an",
    "which",
    "cache",
    "prefix",
    "request",
    "server",
    "token",
    "model",
    "latency",
    "routing",
    "block",
    "memory",
    "prompt",
    "engine",
    "attention",
    "kernel",
    "throughput",
    "scheduler",
    "endpoint",
    "replica",
    "gateway",
    "inference,",
    "batch.",
    "Kubernetes",
    "vLLM",
    "Mistral",
    "(tokenizer)",
    "2048",
    "3.14",
    "x_y",
    "snake_case",
    "CamelCase;",
    "quote:",
    '"a"',
]


def prompt_text(size: int, seed: int = 0) -> str:
    """About ``size`` characters of English-like text in lines and paragraphs."""
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        line = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 18)))
        line = line[:1].upper() + line[1:] + (".\n\n" if rng.random() < 0.2 else ".\n")
        parts.append(line)
        length += len(line)
    return "".join(parts)[:size]


def _tokenizers(hf: Path | None) -> list[tuple[str, dict[str, object]]]:
    cases: list[tuple[str, dict[str, object]]] = [("chars (default)", {"kind": "chars"})]
    for name in ("tekken_240911.json", "mistral_instruct_tokenizer_241114.model.v7"):
        path = str(mistral_common_file(name))
        cases.append((f"mistral {name}", {"kind": "mistral", "path": path}))
    if hf is not None:
        cases.append((f"hf {hf.name}", {"kind": "hf", "path": str(hf)}))
    return cases


def _scorer(tokenizer: dict[str, object]) -> tuple[PrecisePrefixCacheScorer, PrefixCacheState]:
    cache = PrefixCacheState(PoolView(POOL))
    context = PluginContext(
        inflight=InFlightView(POOL), rng=random.Random(0), prefix_cache=cache, precise_prefix=cache
    )
    params = PrecisePrefixCacheParameters.model_validate({"tokenizer": tokenizer})
    return PrecisePrefixCacheScorer.create("precise", params, context), cache


def _hold(cache: PrefixCacheState, ids: Sequence[int]) -> None:
    keys = token_block_keys(list(ids), BLOCK, key=PrefixKey.public_default())
    for address in ENDPOINTS:
        common = {"source": "bench", "pool": POOL, "address": address, "epoch": "run"}
        cache.apply_kv(KvCacheCleared(**common, seq=-1, reason="start"))
        cache.apply_kv(
            KvBlocksStored(**common, seq=0, block_size=BLOCK, block_keys=pack_hashes(keys))
        )


def _cpu_ms(action: Callable[[], object], repeat: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        action()
        samples.append((time.process_time() - start) * 1000)
    return samples


def _p90(samples: list[float]) -> float:
    return sorted(samples)[min(len(samples) - 1, int(0.9 * len(samples)))]


def _case(
    label: str, tokenizer: dict[str, object], prompt: PromptInput, repeat: int, warmup: int
) -> dict[str, object]:
    scorer, cache = _scorer(tokenizer)
    real = TokenizerParameters.model_validate(tokenizer).load()  # the scorer's, shared
    whole = real.encode(prompt)
    _hold(cache, whole)
    request = SchedulingRequest(request_id="r", model="m", prompt="", prompt_input=prompt)
    candidates = [EndpointState(Endpoint(address=a)) for a in ENDPOINTS]
    scores = scorer.score(request, candidates)
    if any(scores[a] != 1.0 for a in ENDPOINTS):  # not the longest lookup: a wrong setup
        raise RuntimeError(f"{label}: the endpoints do not hold the prompt: {scores}")
    limit = BLOCK * scorer.params.max_prefix_blocks_to_match
    tokenize = _cpu_ms(functools.partial(real.encode, prompt, max_tokens=limit), repeat, warmup)
    score = _cpu_ms(functools.partial(scorer.score, request, candidates), repeat, warmup)
    return {
        "tokenizer": label,
        "prompt_tokens": len(whole),
        "tokenize_ms_p50": statistics.median(tokenize),
        "tokenize_ms_p90": _p90(tokenize),
        "tokenize_and_score_ms_p50": statistics.median(score),
        "tokenize_and_score_ms_p90": _p90(score),
    }


def run(size: int, repeat: int, warmup: int, hf: Path | None) -> list[dict[str, object]]:
    """One row per tokenizer and prompt kind."""
    text = prompt_text(size)
    prompts = {
        "completion": PromptInput(text=text),
        "chat": PromptInput(
            messages=[
                {"role": "system", "content": text},
                {"role": "user", "content": "Summarise the document above."},
            ]
        ),
    }
    return [
        {"prompt": kind, "prompt_chars": size, **_case(label, tokenizer, prompt, repeat, warmup)}
        for label, tokenizer in _tokenizers(hf)
        for kind, prompt in prompts.items()
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tokenize_cost", description=__doc__)
    parser.add_argument("--size", type=int, default=200_000, help="Prompt characters.")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--hf", type=Path, default=None, help="A tokenizer.json to add.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the rows here.")
    args = parser.parse_args(argv)
    rows = run(args.size, args.repeat, args.warmup, args.hf)
    print(f"load average {os.getloadavg()[0]:.1f}; CPU ms per request, p50 / p90")
    print("| tokenizer | prompt | tokens | tokenize | tokenize + score (8 endpoints) |")
    print("|---|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['tokenizer']} | {row['prompt']} | {row['prompt_tokens']:,} | "
            f"{row['tokenize_ms_p50']:.1f} / {row['tokenize_ms_p90']:.1f} | "
            f"{row['tokenize_and_score_ms_p50']:.1f} / {row['tokenize_and_score_ms_p90']:.1f} |"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0
