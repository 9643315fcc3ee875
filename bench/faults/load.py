"""Steady closed-loop load through the gateway: every client sends a streamed
completion as soon as its previous one ended, and each request's outcome is kept.

Times are seconds on :func:`time.monotonic`. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp

from bench.workloads.model import COMPLETIONS, streaming_body

__all__ = ["Load", "Outcome"]

_DONE = b"data: [DONE]"


@dataclass(kw_only=True)
class Outcome:
    sent_at: float
    done_at: float | None = None
    status: str | None = None  # "200", "503", ..., "timeout", or the client error's type
    detail: str = ""  # a failure's body (its start) or error message
    served_by: str | None = None  # the model server that answered (x-served-by)

    @property
    def failed(self) -> bool:
        return self.status != "200"


class Load:
    """``clients`` loops sending to ``gateway`` until :meth:`stop`."""

    def __init__(
        self, gateway: str, *, clients: int, model: str, max_tokens: int, timeout_s: float
    ) -> None:
        self._url = gateway + COMPLETIONS
        self._clients = clients
        self._model = model
        self._max_tokens = max_tokens
        self._timeout_s = timeout_s
        self.outcomes: list[Outcome] = []
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None

    async def _one(self, session: aiohttp.ClientSession, client: int, index: int) -> None:
        body = streaming_body(
            self._model, self._max_tokens, prompt=f"client {client} request {index}: hello"
        )
        outcome = Outcome(sent_at=time.monotonic())
        self.outcomes.append(outcome)
        try:
            async with asyncio.timeout(self._timeout_s):
                async with session.post(self._url, json=body) as response:
                    outcome.served_by = response.headers.get("x-served-by")
                    if response.status != 200:
                        outcome.detail = (await response.read())[:300].decode(errors="replace")
                        outcome.status = str(response.status)
                        return
                    done = False
                    async for line in response.content:
                        done = done or line.strip() == _DONE
                    # A stream cut short (an upstream reset mid-response) did not succeed.
                    outcome.status = "200" if done else "truncated"
        except TimeoutError:
            outcome.status = "timeout"
        except aiohttp.ClientError as exc:
            outcome.status = type(exc).__name__
            outcome.detail = str(exc)[:300]
        finally:
            outcome.done_at = time.monotonic()

    async def _client(self, session: aiohttp.ClientSession, client: int) -> None:
        index = 0
        while not self._stopping.is_set():
            await self._one(session, client, index)
            index += 1

    def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        self._session = aiohttp.ClientSession(connector=connector)
        self._tasks = [
            asyncio.create_task(self._client(self._session, client))
            for client in range(self._clients)
        ]

    async def stop(self) -> None:
        """Stop sending; requests under way finish (or time out) first."""
        self._stopping.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
