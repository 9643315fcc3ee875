"""The picker's routing decision for one endpoint, asked over ext_proc as Envoy would.

Each probe is one ``envoy.service.ext_proc.v3`` stream: request headers (body mode
``FULL_DUPLEX_STREAMED``) carrying the gateway's subset hint that names a single
``ip:port``, then a completion body with a model and a prompt. While that endpoint is in
the picker's view the picker routes the request to it; once it has left, the picker
answers an immediate 503 (no endpoint of the pool is in the subset). Any other answer
is a :class:`RoutingProbeError`.

:meth:`RoutingProbe.first` polls one request at a time, at most one start every
:data:`MIN_INTERVAL_S`, and returns the start time of the first request whose decision
is the one awaited. Runs on the caller's event loop.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Self

import grpc
import orjson
from envoy.config.core.v3 import base_pb2
from envoy.extensions.filters.http.ext_proc.v3 import processing_mode_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ext_grpc

from gie.epp_protocol import DESTINATION_HEADER, LB_NAMESPACE, SUBSET_KEY, SUBSET_NAMESPACE

__all__ = ["MIN_INTERVAL_S", "RoutingProbe", "RoutingProbeError"]

MIN_INTERVAL_S = 0.0005  # at most ~2,000 probe requests a second
NO_ENDPOINT = 503
_HEADERS = {":method": "POST", ":path": "/v1/completions", "content-type": "application/json"}
_BODY = orjson.dumps({"model": "llama", "prompt": "Where is my request going?", "max_tokens": 1})


class RoutingProbeError(RuntimeError):
    """The picker answered something other than a route or "no endpoint"."""


def _messages(address: str) -> tuple[ext_pb.ProcessingRequest, ext_pb.ProcessingRequest]:
    headers = ext_pb.ProcessingRequest(
        request_headers=ext_pb.HttpHeaders(
            headers=base_pb2.HeaderMap(
                headers=[
                    base_pb2.HeaderValue(key=key, raw_value=value.encode())
                    for key, value in _HEADERS.items()
                ]
            ),
            end_of_stream=False,
        )
    )
    headers.protocol_config.request_body_mode = (
        processing_mode_pb2.ProcessingMode.FULL_DUPLEX_STREAMED
    )
    hint = headers.metadata_context.filter_metadata[SUBSET_NAMESPACE]
    hint.fields[SUBSET_KEY].list_value.values.add().string_value = address
    body = ext_pb.ProcessingRequest(request_body=ext_pb.HttpBody(body=_BODY, end_of_stream=True))
    return headers, body


class RoutingProbe:
    """A gRPC channel to the picker's ext_proc port (``host:port``); ``async with``
    opens it (waiting until it connects) and closes it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.intervals: list[float] = []  # between request starts, while polling
        self._channel: grpc.aio.Channel | None = None
        self._stub: ext_grpc.ExternalProcessorStub | None = None
        self._messages: dict[str, tuple[ext_pb.ProcessingRequest, ...]] = {}

    async def __aenter__(self) -> Self:
        self._channel = grpc.aio.insecure_channel(self.target)
        await asyncio.wait_for(self._channel.channel_ready(), 30)
        self._stub = ext_grpc.ExternalProcessorStub(self._channel)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._channel is not None:
            await self._channel.close()

    async def decide(self, address: str) -> str | None:
        """The endpoint the picker routes a request restricted to ``address`` to,
        or None when it answers that no endpoint is available."""
        if self._stub is None:
            raise RoutingProbeError("the probe is not open (use `async with`)")
        messages = self._messages.get(address)
        if messages is None:
            messages = self._messages[address] = _messages(address)
        decision: str | None = None
        answered = False
        async for response in self._stub.Process(iter(messages)):
            kind = response.WhichOneof("response")
            if kind == "immediate_response" and not answered:
                status = response.immediate_response.status.code
                if status != NO_ENDPOINT:
                    raise RoutingProbeError(
                        f"picker answered {status}: {response.immediate_response.details}"
                    )
                answered = True
            elif kind == "request_headers" and not answered:
                lb = response.dynamic_metadata.fields[LB_NAMESPACE].struct_value
                decision = lb.fields[DESTINATION_HEADER].string_value.split(",")[0]
                answered = True
        if not answered:
            raise RoutingProbeError("picker closed the stream without a decision")
        return decision

    async def first(self, address: str, *, routed: bool, timeout_s: float) -> float:
        """Poll until the decision for ``address`` is ``routed`` (to it) or not (503);
        the ``time.perf_counter()`` at the start of the first request that says so."""
        deadline = time.perf_counter() + timeout_s
        previous: float | None = None
        while True:
            now = time.perf_counter()
            if previous is not None:
                if now - previous < MIN_INTERVAL_S:
                    await asyncio.sleep(MIN_INTERVAL_S - (now - previous))
                    now = time.perf_counter()
                self.intervals.append(now - previous)
            if now > deadline:
                raise TimeoutError(f"routing for {address} not {routed=} within {timeout_s}s")
            previous = now
            decision = await self.decide(address)
            if decision is not None and decision != address:
                raise RoutingProbeError(f"routed to {decision}, outside the subset {address}")
            if (decision == address) == routed:
                return now
