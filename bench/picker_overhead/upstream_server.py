"""Stand-in model servers: one aiohttp app answering on many loopback ports.

Every ``POST /v1/completions`` gets the same small JSON completion (one token, with
``usage``) and an ``x-served-by: 127.0.0.1:<port>`` header. One process serves every
port, so 100 endpoints cost one interpreter; no access log, no parsing of the request.

Run as a program, by path (``python upstream_server.py --ports 20001,20002,...``): it
imports only aiohttp, nothing of the harness. SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from aiohttp import web

_COMPLETION = json.dumps(
    {
        "id": "cmpl-bench",
        "object": "text_completion",
        "model": "m",
        "choices": [{"index": 0, "text": "ok", "finish_reason": "length"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    },
    separators=(",", ":"),
).encode()


async def _completion(request: web.Request) -> web.Response:
    await request.read()
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    served = f"127.0.0.1:{sockname[1]}" if sockname else "unknown"
    return web.Response(
        body=_COMPLETION, content_type="application/json", headers={"x-served-by": served}
    )


async def _serve(ports: list[int]) -> None:
    app = web.Application()
    app.router.add_post("/v1/completions", _completion)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for port in ports:
        await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fixed-completion upstreams on many ports.")
    parser.add_argument("--ports", required=True, help="comma-separated loopback ports")
    args = parser.parse_args(argv)
    asyncio.run(_serve([int(port) for port in args.ports.split(",")]))


if __name__ == "__main__":
    main()
