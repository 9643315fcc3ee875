"""The oracle router: routes on the simulated servers' true cache contents.

``python -m bench.arms.oracle_router --port P --servers ip:port,ip:port`` serves the
OpenAI routes on ``127.0.0.1:P``. For every request it asks each server, with the very
request body, how many of the prompt's leading blocks its cache holds at this instant
and how loaded it is (``POST /sim/kv-cache/match``), then scores the servers as gie's
default profile does, with the truth in place of any index:

    3 x held blocks / prompt blocks + 2 x queue score + 2 x (1 - KV-cache usage)

(queue score: (max - waiting) / (max - min) over the servers, 1 when all are equal),
picks the best (ties at random, seeded) and streams the request to it unchanged. It is
the limit a prefix-aware router with gie's weights can reach: no index lag, no guess.
It only works with the simulator, which is the point.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from collections.abc import Sequence

import aiohttp
from aiohttp import web

__all__ = ["OracleRouter", "Reading", "choose", "main"]

PREFIX_WEIGHT = 3.0
QUEUE_WEIGHT = 2.0
KV_WEIGHT = 2.0
_PASSED_HEADERS = ("Content-Type", "x-served-by", "Cache-Control")


class Reading:
    """One server's answer to ``/sim/kv-cache/match``."""

    __slots__ = ("held", "kv_usage", "server", "total", "waiting")

    def __init__(self, server: str, body: dict[str, object]) -> None:
        self.server = server
        self.total = _number(body, "prompt_blocks")
        self.held = _number(body, "cached_blocks")
        self.waiting = _number(body, "waiting")
        self.kv_usage = _number(body, "kv_cache_usage")


def _number(body: dict[str, object], key: str) -> float:
    value = body.get(key)
    if not isinstance(value, int | float):
        raise ValueError(f"/sim/kv-cache/match answered without a number for {key!r}")
    return float(value)


def choose(readings: Sequence[Reading], rng: random.Random) -> str:
    """The server with the best score (see the module docstring); ties at random."""
    low = min(r.waiting for r in readings)
    high = max(r.waiting for r in readings)

    def score(reading: Reading) -> float:
        prefix = reading.held / reading.total if reading.total else 0.0
        queue = (high - reading.waiting) / (high - low) if high > low else 1.0
        return PREFIX_WEIGHT * prefix + QUEUE_WEIGHT * queue + KV_WEIGHT * (1 - reading.kv_usage)

    scored = [(score(r), r.server) for r in readings]
    best = max(s for s, _ in scored)
    return rng.choice([server for s, server in scored if s >= best - 1e-9])


class OracleRouter:
    def __init__(self, servers: Sequence[str], *, seed: int = 0) -> None:
        if not servers:
            raise ValueError("the oracle router needs at least one server")
        self.servers = list(servers)
        self._rng = random.Random(seed)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the oracle router is not running")
        return self._session

    async def _read(self, server: str, body: bytes) -> Reading | None:
        """The server's reading, or None when it cannot give one (it is left out)."""
        try:
            async with self.session.post(
                f"http://{server}/sim/kv-cache/match",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as response:
                if response.status != 200:
                    return None
                return Reading(server, await response.json())
        except (aiohttp.ClientError, ValueError):
            return None

    async def route(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        readings = await asyncio.gather(*(self._read(s, body) for s in self.servers))
        known = [r for r in readings if r is not None]
        # A body the servers refuse (bad JSON, no prompt) goes to one of them, which
        # answers the client with its own error.
        target = choose(known, self._rng) if known else self._rng.choice(self.servers)
        return await self._forward(request, target, body)

    async def _forward(self, request: web.Request, server: str, body: bytes) -> web.StreamResponse:
        async with self.session.request(
            request.method,
            f"http://{server}{request.path_qs}",
            data=body or None,
            headers={"Content-Type": request.headers.get("Content-Type", "application/json")},
        ) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for name in _PASSED_HEADERS:
                if name in upstream.headers:
                    response.headers[name] = upstream.headers[name]
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    async def models(self, request: web.Request) -> web.StreamResponse:
        return await self._forward(request, self.servers[0], b"")

    async def health(self, _request: web.Request) -> web.Response:
        return web.Response(status=200)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/completions", self.route)
        app.router.add_post("/v1/chat/completions", self.route)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/health", self.health)
        app.on_startup.append(self._open)
        app.on_cleanup.append(self._close)
        return app

    async def _open(self, _app: web.Application) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5.0),
        )

    async def _close(self, _app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.arms.oracle_router")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--servers", required=True, help="ip:port,ip:port,...")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if not servers:
        parser.error("--servers: give at least one ip:port")
    router = OracleRouter(servers, seed=args.seed)
    web.run_app(router.app(), host="127.0.0.1", port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
