"""The simulated servers' own counters, scraped from their Prometheus ``/metrics``.

Hit rate and load spread are taken from what the servers counted, not from what the
client believes: ``vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total``
(tokens) and ``vllm:request_success_total`` per server, as deltas over a run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

__all__ = ["ServerCounters", "parse_counters", "scrape_all"]

_NAMES = {
    "vllm:prefix_cache_hits_total": "prefix_hits",
    "vllm:prefix_cache_queries_total": "prefix_queries",
    "vllm:request_success_total": "requests",
    "vllm:prompt_tokens_total": "prompt_tokens",
    "vllm:generation_tokens_total": "generation_tokens",
}


@dataclass(frozen=True, kw_only=True)
class ServerCounters:
    prefix_hits: float = 0.0
    prefix_queries: float = 0.0
    requests: float = 0.0
    prompt_tokens: float = 0.0
    generation_tokens: float = 0.0

    def minus(self, earlier: ServerCounters) -> ServerCounters:
        return ServerCounters(
            prefix_hits=self.prefix_hits - earlier.prefix_hits,
            prefix_queries=self.prefix_queries - earlier.prefix_queries,
            requests=self.requests - earlier.requests,
            prompt_tokens=self.prompt_tokens - earlier.prompt_tokens,
            generation_tokens=self.generation_tokens - earlier.generation_tokens,
        )


def parse_counters(text: str) -> ServerCounters:
    """Sum every sample of the counters we use (all label sets) from Prometheus text."""
    sums = dict.fromkeys(_NAMES.values(), 0.0)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        field = _NAMES.get(name)
        if field is not None:
            sums[field] += float(line.rsplit(" ", 1)[1])
    return ServerCounters(**sums)


async def scrape_all(client: httpx.AsyncClient, servers: Sequence[str]) -> list[ServerCounters]:
    """Counters of every ``ip:port`` in ``servers`` (raises if one does not answer)."""

    async def one(server: str) -> ServerCounters:
        response = await client.get(f"http://{server}/metrics")
        response.raise_for_status()
        return parse_counters(response.text)

    return list(await asyncio.gather(*(one(server) for server in servers)))
