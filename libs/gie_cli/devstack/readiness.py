"""Health probes and waiting for a part to become ready.

A part's health URL is either ``http://...`` (healthy when it answers 200) or
``redis://host:port`` (healthy when ``PING`` answers ``+PONG``), or
``rediss://host:port/?ca=<CA file>`` (the same over TLS verified against that CA; an
answer asking for credentials counts too). :func:`wait_until_ready`
polls a check until it passes, failing fast when the process exits and with a
:class:`~gie_cli.devstack.errors.PartStartError` naming the part and quoting the tail of its
log when the deadline passes. HTTP clients here ignore proxy settings from the
environment: every probe goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from gie_cli.devstack.errors import PartStartError

__all__ = ["local_http_client", "log_tail", "probe", "redis_ping", "wait_until_ready"]

_POLL_S = 0.1


def local_http_client(*, timeout_s: float = 2.0) -> httpx.AsyncClient:
    """An HTTP client for loopback URLs (no proxies from the environment)."""
    return httpx.AsyncClient(timeout=timeout_s, trust_env=False)


async def redis_ping(
    host: str, port: int, *, timeout_s: float = 1.0, tls_ca: str | None = None
) -> bool:
    """True when a Redis-protocol server at ``host:port`` answers PING with PONG. With
    ``tls_ca`` over TLS, verified against that CA; there the server's refusal for want of
    credentials (``-NOAUTH``: the default user is off) also means it is up."""
    context = ssl.create_default_context(cafile=tls_ca) if tls_ca else None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port, ssl=context)
            try:
                writer.write(b"*1\r\n$4\r\nPING\r\n")
                await writer.drain()
                reply = await reader.readline()
            finally:
                writer.close()
                await writer.wait_closed()
    except (OSError, TimeoutError):
        return False
    if tls_ca and reply.startswith(b"-NOAUTH"):
        return True
    return reply.strip() == b"+PONG"


async def probe(client: httpx.AsyncClient, url: str, *, timeout_s: float = 1.0) -> bool:
    """True when the health URL says healthy (HTTP 200, or Redis PONG)."""
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss"):
        ca = parse_qs(parts.query).get("ca", [None])[0] if parts.scheme == "rediss" else None
        return await redis_ping(
            parts.hostname or "127.0.0.1", parts.port or 6379, timeout_s=timeout_s, tls_ca=ca
        )
    try:
        response = await client.get(url, timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def log_tail(path: Path, *, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file ('' when it does not exist)."""
    try:
        with open(path, "rb") as log:
            log.seek(0, 2)
            size = log.tell()
            log.seek(max(0, size - 16_384))
            data = log.read()
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


async def wait_until_ready(
    *,
    part: str,
    check: Callable[[], Awaitable[bool]],
    child: subprocess.Popen[bytes],
    log_path: Path,
    timeout_s: float,
) -> None:
    """Poll ``check`` until it returns True; raise :class:`PartStartError` otherwise.

    Fails at once when ``child`` exits, and after ``timeout_s`` seconds otherwise.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        code = child.poll()
        if code is not None:
            raise PartStartError(
                part,
                f"exited with code {code} before it was ready",
                log_path=log_path,
                log_tail=log_tail(log_path),
            )
        if await check():
            return
        if time.monotonic() >= deadline:
            raise PartStartError(
                part,
                f"not ready after {timeout_s:g}s",
                log_path=log_path,
                log_tail=log_tail(log_path),
            )
        await asyncio.sleep(_POLL_S)


async def cluster_hosts_healthy(client: httpx.AsyncClient, admin_url: str, cluster: str) -> bool:
    """Whether Envoy (admin at ``admin_url``) has judged every host of ``cluster`` healthy:
    until its first health checks pass, a gateway would fail streams to the others."""
    try:
        response = await client.get(f"{admin_url}/clusters")
    except httpx.HTTPError:
        return False
    flags = [
        line.rsplit("::", 1)[-1]
        for line in response.text.splitlines()
        if line.startswith(f"{cluster}::") and "::health_flags::" in line
    ]
    return bool(flags) and all(flag == "healthy" for flag in flags)
