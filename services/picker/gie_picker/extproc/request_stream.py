"""The ext_proc conversation for one HTTP request, as a state machine.

FULL_DUPLEX_STREAMED: the request-headers answer is held until the body's
end-of-stream (or trailers); then the routing headers answer is sent and the
(possibly rewritten) body is re-streamed in chunks. BUFFERED: headers are let
through at once and the routing decision rides on the body answer.

The response: when Envoy sends no response body (``response_body_mode: NONE``
announced in ``protocol_config``) and completion records are on, the gateway
reports the request's end in an access-log record (:mod:`gie_picker.completions`)
and this stream only names the request in the routing answer's metadata. When
the response does come through, the status, the served endpoint and the token
usage are read, the body is passed on unchanged, and the director records the
completion at its end (or when the stream ends early).
"""

from __future__ import annotations

import time
import uuid

import structlog
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb

from gie.epp_protocol import MODEL_REWRITE_HEADER, OBJECTIVE_HEADER, REQUEST_ID_HEADER
from gie.flowcontrol import DEFAULT_FAIRNESS_ID, FAIRNESS_ID_HEADER
from gie_picker.extproc import protocol
from gie_picker.extproc.routed_answers import RoutedAnswers, RouteNames
from gie_picker.requestcontrol.director import Director, RoutingDecision
from gie_picker.requestcontrol.request import (
    InferenceRequest,
    RequestError,
    parse_inference_request,
)
from gie_picker.requestcontrol.usage import UsageParser

# Gateway headers that configure routing; read, then never forwarded upstream.
_REMOVED_HEADERS = (FAIRNESS_ID_HEADER, OBJECTIVE_HEADER, MODEL_REWRITE_HEADER)
_RESPONSE_HEADERS_READ = frozenset((":status", "content-type"))
_ANSWERS = RoutedAnswers(remove=_REMOVED_HEADERS)

Responses = list[ext_pb.ProcessingResponse]


_log = structlog.get_logger("gie.picker")

_SUPPORTED_MODES = frozenset({protocol.FULL_DUPLEX_STREAMED, protocol.BUFFERED})
_MODES_LOGGED: set[int] = set()


def _unsupported_mode(mode: int) -> RequestError:
    """A 500 naming a request body mode the picker cannot route with (NONE sends no body;
    STREAMED and BUFFERED_PARTIAL would route on part of it), logged once per mode."""
    name = protocol.BodyMode.Name(mode) if mode in protocol.BodyMode.values() else str(mode)
    message = (
        f"the gateway sends request bodies in mode {name}; the endpoint picker needs "
        "FULL_DUPLEX_STREAMED or BUFFERED (ext_proc processing_mode.request_body_mode)"
    )
    if mode not in _MODES_LOGGED:
        _MODES_LOGGED.add(mode)
        _log.error("unsupported request body mode", mode=name)
    return RequestError(500, message)


class RequestStream:
    """Answers the messages of one ext_proc stream; ``done`` once it must end."""

    def __init__(
        self,
        director: Director,
        *,
        max_body_bytes: int,
        chunk_bytes: int,
        default_mode: protocol.BodyMode,
        completion_records: bool = False,
    ) -> None:
        self._director = director
        self._completion_records = completion_records
        self._records = False  # this request's end comes in a completion record
        self._max_body_bytes = max_body_bytes
        self._chunk_bytes = chunk_bytes
        self._request_mode = default_mode
        self._response_mode: protocol.BodyMode = protocol.BodyMode.NONE
        self._headers: dict[str, str] = {}
        self._subset: tuple[str, ...] | None = None
        self._request_id = ""
        self._body = bytearray()
        self._body_seen = False  # a request-body message arrived (it gets the answer)
        self._finished_request = False
        self._response_began = False
        self._started = 0.0
        self._usage: UsageParser | None = None
        self._served: str | None = None
        self.decision: RoutingDecision | None = None
        self.response_status: int | None = None
        self.completed = False
        self.done = False

    @property
    def request_finished(self) -> bool:
        """The request's headers and body are in (routed or refused), or the response
        began (the request path is over)."""
        return self._finished_request or self.done or self._response_began

    @property
    def request_id(self) -> str:
        return self._request_id

    @property
    def fairness_id(self) -> str:
        return self._headers.get(FAIRNESS_ID_HEADER) or DEFAULT_FAIRNESS_ID

    async def on_message(self, message: ext_pb.ProcessingRequest) -> Responses:
        if message.HasField("protocol_config"):
            self._request_mode = message.protocol_config.request_body_mode
            self._response_mode = message.protocol_config.response_body_mode
            self._records = self._completion_records and self._response_mode == protocol.NONE
            if self._request_mode not in _SUPPORTED_MODES and not self.done:
                return self._reject(None, _unsupported_mode(self._request_mode))
        kind = message.WhichOneof("request")
        if kind is not None and kind.startswith("response_"):
            self._response_began = True
        if kind == "request_headers":
            self._subset = protocol.subset_hint(message)
            return await self._on_request_headers(message.request_headers)
        if kind == "request_body":
            return await self._on_request_body(message.request_body)
        if kind == "request_trailers":
            routed = await self._finish_request(on_headers=not self._body_seen)
            return [*routed, protocol.continue_trailers(response=False)]
        if kind == "response_headers":
            return self._on_response_headers(message)
        if kind == "response_body":
            return [self._on_response_body(message.response_body)]
        if kind == "response_trailers":
            self._complete()
            return [protocol.continue_trailers(response=True)]
        return []

    def close(self) -> None:
        """The stream ended: record a routed request that never completed.

        When the response body was to come through this stream and its end did not,
        the response was cut short (the client left, the upstream reset): status 0.
        """
        self._complete(cut_short=self._response_mode != protocol.NONE)

    @property
    def _full_duplex(self) -> bool:
        return bool(self._request_mode == protocol.FULL_DUPLEX_STREAMED)

    # -- request path ----------------------------------------------------
    async def _on_request_headers(self, headers: ext_pb.HttpHeaders) -> Responses:
        self._headers = protocol.header_map(headers)
        self._request_id = self._headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        if headers.end_of_stream:
            return await self._finish_request(on_headers=True)
        if self._full_duplex:
            return []  # held until the body is complete
        return [protocol.continue_request_headers()]

    async def _on_request_body(self, body: ext_pb.HttpBody) -> Responses:
        if self._finished_request:
            return []
        self._body_seen = True
        if len(self._body) + len(body.body) > self._max_body_bytes:
            self._body.clear()
            return self._reject(
                None, RequestError(413, f"request body exceeds {self._max_body_bytes} bytes")
            )
        self._body += body.body
        # BUFFERED sends the whole body in one message, without end_of_stream when
        # trailers follow: that message still expects the body answer.
        if body.end_of_stream or self._request_mode == protocol.BUFFERED:
            return await self._finish_request()
        return []

    async def _finish_request(self, *, on_headers: bool = False) -> Responses:
        if self._finished_request or self.done:
            return []
        self._finished_request = True
        request: InferenceRequest | None = None
        try:
            request = parse_inference_request(
                request_id=self._request_id,
                path=self._headers.get(":path", ""),
                body=bytes(self._body),
                headers=self._headers,
                model_rewrite=self._headers.get(MODEL_REWRITE_HEADER, ""),
                rewrite_for=self._director.rewrite_for,
            )
            self.decision = await self._director.route(
                request,
                subset=self._subset,
                objective=self._headers.get(OBJECTIVE_HEADER, ""),
                fairness_id=self.fairness_id,
            )
        except RequestError as exc:
            return self._reject(request, exc)
        self._body.clear()
        self._started = time.monotonic()
        return self._routed_responses(self.decision, on_headers=on_headers)

    def _routed_responses(self, decision: RoutingDecision, *, on_headers: bool) -> Responses:
        request, destination = decision.request, decision.destination
        names = (
            RouteNames(request.request_id, request.model, request.target_model)
            if self._records
            else None
        )
        extra: dict[str, str] = {}  # set after the destination header
        if not self._headers.get(REQUEST_ID_HEADER):  # missing or empty: ours goes upstream
            extra[REQUEST_ID_HEADER] = request.request_id
        if request.body_changed:
            extra["content-length"] = str(len(request.body))
        if on_headers:  # headers-only request: route on the headers answer
            return [_ANSWERS.headers(destination, extra, names=names)]
        if not self._full_duplex:
            new_body = request.body if request.body_changed else None
            return [_ANSWERS.body(destination, extra, new_body=new_body, names=names)]
        return [
            _ANSWERS.headers(destination, extra, names=names),
            *protocol.streamed_body_chunks(request.body, self._chunk_bytes),
        ]

    def _reject(self, request: InferenceRequest | None, error: RequestError) -> Responses:
        self.done = True
        self._director.rejected(request, error)
        return [protocol.immediate_response(error.status, error.message)]

    # -- response path ---------------------------------------------------
    def _on_response_headers(self, message: ext_pb.ProcessingRequest) -> Responses:
        headers = protocol.header_values(message.response_headers, _RESPONSE_HEADERS_READ)
        status = headers.get(":status", "")
        # An HTTP status is three ASCII digits; anything else is no status at all.
        valid = len(status) == 3 and status.isascii() and status.isdigit()
        self.response_status = int(status) if valid else None
        self._served = protocol.served_endpoint(message)
        streaming = headers.get("content-type", "").startswith("text/event-stream")
        self._usage = UsageParser(streaming=streaming)
        if message.response_headers.end_of_stream:
            self._complete()
        return [protocol.continue_response_headers()]

    def _on_response_body(self, body: ext_pb.HttpBody) -> ext_pb.ProcessingResponse:
        if self._usage is not None:
            self._usage.feed(body.body)
        if body.end_of_stream:
            self._complete()
        if self._response_mode == protocol.FULL_DUPLEX_STREAMED:
            return protocol.streamed_response_body(body.body, end_of_stream=body.end_of_stream)
        return ext_pb.ProcessingResponse(response_body=ext_pb.BodyResponse())

    def _complete(self, *, cut_short: bool = False) -> None:
        if self.completed or self.decision is None or self._records:
            return
        self.completed = True
        usage = self._usage.finish() if self._usage is not None else None
        served = self._served if self._served in self.decision.endpoints else None
        self._director.completed(
            self.decision,
            served=served or self.decision.endpoints[0],
            status=0 if cut_short else self.response_status or 0,
            usage=usage,
            duration_s=time.monotonic() - self._started,
        )
