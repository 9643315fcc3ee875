"""One simulated model server: an aiohttp application in front of its own :class:`Engine`.

Besides the OpenAI API and ``/metrics`` it serves ``/sim/faults`` and ``/sim/overrides``
(:mod:`gie_sim.admin_api`) to change what ``/metrics`` answers while it runs, and
``/sim/api-faults`` to break the server itself (:mod:`gie_sim.api_faults`: refuse
connections, reset them, hang, answer 503), and ``/sim/kv-cache``
(:mod:`gie_sim.cache_api`) to read what its prefix cache holds.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Mapping

import orjson
from aiohttp import web

from gie.clock import Clock
from gie_sim.admin_api import add_admin_routes, add_api_fault_routes, add_kv_routes
from gie_sim.api_faults import ApiFaultMode, ApiFaults
from gie_sim.cache_api import add_cache_routes
from gie_sim.config import SimConfig
from gie_sim.engine import Engine
from gie_sim.faults import Faults, corrupt_page
from gie_sim.http_site import serve
from gie_sim.kv_cache import PrefixCache
from gie_sim.kv_publisher import KvPublisher
from gie_sim.metrics_page import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gie_sim.metrics_page import render_metrics
from gie_sim.openai_api import ApiError, ParsedRequest, parse_chat, parse_completion, parse_json
from gie_sim.openai_responses import SSE_DONE, ResponseContext, models_list, sse_frame, usage
from gie_sim.overrides import SimControls
from gie_sim.request import SimRequest
from gie_sim.scheduler import RequestRejected
from gie_sim.tokenizer import filler_text, filler_token

__all__ = ["SERVED_BY_HEADER", "SimServer", "format_address"]

SERVED_BY_HEADER = "x-served-by"
_MAX_BODY_BYTES = 64 * 1024 * 1024

_log = logging.getLogger(__name__)
_ids = itertools.count()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Parser = Callable[[Mapping[str, object], SimConfig], ParsedRequest]


def format_address(host: str, port: int) -> str:
    """``ip:port`` identity (IPv6 hosts in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


class SimServer:
    """A simulated model server listening on ``host:port`` (port 0 = ephemeral).

    ``faults`` and ``controls`` may be changed at any time (from the same event loop);
    the next ``/metrics`` answer follows them.
    """

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        index: int = 0,
    ) -> None:
        self.config = config if config is not None else SimConfig()
        self.host = host
        self.port = port
        self.engine = Engine(self.config, clock)
        self.kv_events = KvPublisher(self.config, host=host, offset=index)
        self._address: str | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._created = int(time.time())
        self.faults = Faults()
        self.controls = SimControls()
        self.requests_by_model: collections.Counter[str] = collections.Counter()
        self._site: web.TCPSite | None = None
        self._api_faults = ApiFaults()
        self._unhang = asyncio.Event()
        self._unhang.set()
        self._heal: asyncio.Task[None] | None = None
        # Requests each API fault mode broke (refuse: connections reset when it began).
        self.api_fault_counts: collections.Counter[str] = collections.Counter(
            {mode.value: 0 for mode in ApiFaultMode if mode is not ApiFaultMode.NONE}
        )

    # ----------------------------------------------------------------- identity
    @property
    def address(self) -> str:
        """``ip:port`` this server listens on (and reports in ``x-served-by``)."""
        if self._address is None:
            raise RuntimeError("server not started")
        return self._address

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def prefix_cache(self) -> PrefixCache:
        return self.engine.scheduler.cache

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        app = web.Application(middlewares=[self._errors], client_max_size=_MAX_BODY_BYTES)
        app.on_response_prepare.append(self._stamp)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        app.router.add_get("/metrics", self._metrics)
        add_admin_routes(app, self)
        add_kv_routes(app, self)
        add_api_fault_routes(app, self)
        add_cache_routes(app, self)
        self._runner, self._site, self.port = await serve(
            app, self.host, self.port, shutdown_timeout=2.0, handler_cancellation=True
        )
        self._address = format_address(self.host, self.port)
        self.engine.name = self._address
        self.kv_events.start()
        if self.kv_events.address:
            self.engine.scheduler.cache.events.sink = self.kv_events.publish
        self.engine.start()
        _log.info(
            "gie-sim server listening address=%s models=%s",
            self._address,
            ",".join(self.config.served_models),
        )

    async def stop(self) -> None:
        """Abort in-flight requests, stop the engine and close the listener."""
        self._closing = True
        if self._heal is not None:
            self._heal.cancel()
        self._unhang.set()
        await self.engine.stop()
        await self.kv_events.stop()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- API faults
    @property
    def api_faults(self) -> ApiFaults:
        """How the OpenAI API answers now (see :mod:`gie_sim.api_faults`)."""
        return self._api_faults

    async def set_api_faults(
        self, faults: ApiFaults, *, spare: asyncio.BaseTransport | None = None
    ) -> None:
        """Switch the API's fault mode; ``spare``: a connection ``refuse`` leaves open
        (the one that asked for it, to carry the answer)."""
        old, self._api_faults = self._api_faults, faults
        if self._heal is not None and self._heal is not asyncio.current_task():
            self._heal.cancel()
        self._heal = None
        if old.mode is ApiFaultMode.REFUSE and faults.mode is not ApiFaultMode.REFUSE:
            await self._listen()
        elif faults.mode is ApiFaultMode.REFUSE and old.mode is not ApiFaultMode.REFUSE:
            await self._refuse(spare)
        if faults.mode is ApiFaultMode.HANG:
            self._unhang.clear()
        else:
            self._unhang.set()
        if faults.for_s is not None and faults.mode is not ApiFaultMode.NONE:
            self._heal = asyncio.create_task(self._heal_after(faults.for_s))
        _log.warning(
            "gie-sim API fault address=%s mode=%s was=%s for_s=%s",
            self._address,
            faults.mode.value,
            old.mode.value,
            faults.for_s,
        )

    async def _heal_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.set_api_faults(ApiFaults())

    async def _refuse(self, spare: asyncio.BaseTransport | None) -> None:
        """Close the listener and reset every open connection (but ``spare``)."""
        site, self._site = self._site, None
        if site is not None:
            await site.stop()
        runner = self._runner
        handlers = list(runner.server.connections) if runner and runner.server else []
        for handler in handlers:
            transport = handler.transport
            if transport is not None and transport is not spare:
                _reset(transport)
                self.api_fault_counts[ApiFaultMode.REFUSE.value] += 1

    async def _listen(self) -> None:
        if self._runner is None or self._site is not None:
            return
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self._site = site

    async def _hold(self) -> None:
        """In ``hang`` mode: wait until the mode changes (every route but ``/sim/*``)."""
        if self._api_faults.mode is ApiFaultMode.HANG:
            self.api_fault_counts[ApiFaultMode.HANG.value] += 1
            await self._unhang.wait()

    def _resets_now(self, request: web.Request, chunks: int | None) -> bool:
        """In ``reset`` mode, once ``chunks`` streamed reached the limit (None: not a
        stream, at once): reset the connection."""
        faults = self._api_faults
        if faults.mode is not ApiFaultMode.RESET:
            return False
        if chunks is not None and chunks < faults.reset_after_chunks:
            return False
        self.api_fault_counts[ApiFaultMode.RESET.value] += 1
        if request.transport is not None:
            _reset(request.transport)
        return True

    # ----------------------------------------------------------------- plumbing
    async def _stamp(self, _request: web.Request, response: web.StreamResponse) -> None:
        response.headers[SERVED_BY_HEADER] = self._address or ""

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return _json(exc.body(), exc.status)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return _json(ApiError(exc.status, exc.reason).body(), exc.status)

    # ----------------------------------------------------------------- routes
    async def _health(self, _request: web.Request) -> web.Response:
        await self._hold()
        return web.Response(status=200)

    async def _models(self, _request: web.Request) -> web.Response:
        await self._hold()
        config = self.config
        return _json(
            models_list(config.served_models, config.model, config.max_model_len, self._created)
        )

    async def _metrics(self, _request: web.Request) -> web.Response:
        await self._hold()
        faults = self.faults
        if faults.delay_s:
            await asyncio.sleep(faults.delay_s)
        snap = self.controls.overrides.apply(self.engine.snapshot())
        page = render_metrics(
            self.config,
            snap,
            self.controls.lora,
            self.requests_by_model,
            self.api_fault_counts,
        )
        status, body = corrupt_page(page, faults)
        return web.Response(
            status=status, body=body, headers={"Content-Type": METRICS_CONTENT_TYPE}
        )

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, parse_completion, "cmpl")

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, parse_chat, "chatcmpl")

    async def _generate(
        self, request: web.Request, parse: Parser, prefix: str
    ) -> web.StreamResponse:
        await self._hold()
        parsed = parse(parse_json(await request.read()), self.config)
        if self._closing:
            raise ApiError(503, "The server is shutting down.")
        if self._api_faults.mode is ApiFaultMode.HTTP503:
            self.api_fault_counts[ApiFaultMode.HTTP503.value] += 1
            raise ApiError(503, "The server is unavailable (simulated fault).")
        if not parsed.stream and self._resets_now(request, None):
            return web.Response(status=503)  # never sent: the connection is gone
        request_id = f"{prefix}-{os.getpid():x}{next(_ids):08x}"
        try:
            req = self.engine.submit(parsed.prompt_tokens, parsed.max_tokens, request_id)
        except RequestRejected as exc:
            raise ApiError(400, str(exc), "max_tokens") from None
        self.requests_by_model[parsed.model] += 1
        ctx = ResponseContext(parsed.kind, request_id, int(time.time()), parsed.model)
        try:
            if parsed.stream:
                return await self._stream(request, req, ctx, parsed.include_usage)
            await req.wait_finished()
            if req.finish_reason != "length":
                raise ApiError(503, "The request was aborted because the server is shutting down.")
            text = filler_text(req.generated)
            return _json(ctx.full(text, req.finish_reason, _usage(req)))
        finally:
            if not req.finished:
                self.engine.abort(req)

    async def _stream(
        self, request: web.Request, req: SimRequest, ctx: ResponseContext, include_usage: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        last = req.max_tokens - 1
        sent = 0
        if self._resets_now(request, sent):
            return response
        try:
            while True:
                await req.wait_progress(sent)
                produced = req.generated
                if produced > sent:
                    frames = [
                        sse_frame(
                            ctx.token_chunk(i, filler_token(i), "length" if i == last else None)
                        )
                        for i in range(sent, produced)
                    ]
                    await response.write(b"".join(frames))
                    sent = produced
                    if self._resets_now(request, sent):
                        return response
                if req.finished:
                    break
            tail = sse_frame(ctx.usage_chunk(_usage(req))) if include_usage else b""
            await response.write(tail + SSE_DONE)
            await response.write_eof()
        except ConnectionResetError:
            _log.debug("client went away request_id=%s", req.request_id)
        return response


def _reset(transport: asyncio.BaseTransport) -> None:
    """Close a connection with a TCP RST (linger 0), as a crashing server's kernel may."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if isinstance(transport, asyncio.WriteTransport):
        transport.abort()
    else:  # pragma: no cover - aiohttp's connections are TCP transports
        transport.close()


def _usage(req: SimRequest) -> dict[str, object]:
    return usage(req.prompt_len, req.generated, req.cached_tokens)
