"""Serve an aiohttp application on one address, cleaning up if the bind fails."""

from __future__ import annotations

from aiohttp import web

__all__ = ["serve"]


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    shutdown_timeout: float,
    handler_cancellation: bool = False,
) -> tuple[web.AppRunner, web.TCPSite, int]:
    """The runner, the site and the bound port (``port`` 0: an ephemeral one)."""
    runner = web.AppRunner(
        app,
        access_log=None,
        shutdown_timeout=shutdown_timeout,
        handler_cancellation=handler_cancellation,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, site, int(runner.addresses[0][1])
