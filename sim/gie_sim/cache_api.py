"""``/sim/kv-cache``: what a simulated server's prefix cache truly holds.

* ``GET /sim/kv-cache`` -> the cache's geometry and the hashes (hex) of every block it
  holds, in no particular order: ``{"block_size", "num_gpu_blocks", "in_use_blocks",
  "cached_blocks", "block_hashes"}``.
* ``POST /sim/kv-cache/match`` with a completion body (``prompt``) or a chat body
  (``messages``) -> how much of that prompt the cache holds right now, and the engine's
  load: ``{"prompt_tokens", "prompt_blocks", "cached_blocks", "cached_tokens",
  "waiting", "running", "kv_cache_usage"}``. ``cached_tokens`` is what the request would
  hit if admitted now (the last prompt token is always recomputed). Nothing changes: the
  lookup neither pins nor refreshes blocks.

Routers that read this are cheating on purpose: the benchmark's ``oracle`` arm routes on
it to show the limit any prefix-aware router can reach.
"""

from __future__ import annotations

from typing import Protocol

import orjson
from aiohttp import web

from gie_sim.config import SimConfig
from gie_sim.engine import Engine
from gie_sim.kv_cache import hash_blocks
from gie_sim.openai_api import parse_chat, parse_completion, parse_json

__all__ = ["CacheView", "add_cache_routes"]


class CacheView(Protocol):
    """What the cache routes read from a server."""

    config: SimConfig
    engine: Engine


def _reply(body: object) -> web.Response:
    return web.Response(body=orjson.dumps(body), content_type="application/json")


def add_cache_routes(app: web.Application, target: CacheView) -> None:
    """Register ``/sim/kv-cache`` and ``/sim/kv-cache/match`` of ``target`` on ``app``."""

    async def contents(_request: web.Request) -> web.Response:
        cache = target.engine.scheduler.cache
        return _reply(
            {
                "block_size": cache.block_size,
                "num_gpu_blocks": cache.num_blocks,
                "in_use_blocks": cache.num_in_use,
                "cached_blocks": cache.num_cached,
                "block_hashes": [block.hex() for block in cache.held_hashes()],
            }
        )

    async def match(request: web.Request) -> web.Response:
        body = parse_json(await request.read())
        parse = parse_chat if "messages" in body else parse_completion
        tokens = parse(body, target.config).prompt_tokens
        cache = target.engine.scheduler.cache
        size = cache.block_size
        hashes = hash_blocks(tokens, size)
        held = len(cache.match(hashes))
        usable = min(held, max(0, len(tokens) - 1) // size)
        snap = target.engine.snapshot()
        return _reply(
            {
                "prompt_tokens": len(tokens),
                "prompt_blocks": len(hashes),
                "cached_blocks": held,
                "cached_tokens": usable * size,
                "waiting": snap.num_waiting,
                "running": snap.num_running,
                "kv_cache_usage": snap.kv_cache_usage,
            }
        )

    app.router.add_get("/sim/kv-cache", contents)
    app.router.add_post("/sim/kv-cache/match", match)
