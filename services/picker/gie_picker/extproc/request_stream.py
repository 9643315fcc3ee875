"""The ext_proc conversation for one HTTP request, as a state machine.

FULL_DUPLEX_STREAMED: the request-headers answer is held until the body's
end-of-stream (or trailers); then the routing headers answer is sent and the
body is re-streamed in chunks. BUFFERED: headers are let through at once and
the routing decision rides on the body answer. The response path is passed on
unchanged; its status is recorded.
"""

from __future__ import annotations

import uuid

from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb

from gie_picker.extproc import protocol
from gie_picker.request import RequestError, parse_inference_request
from gie_picker.routing import Router

# Gateway headers that configure routing; read, then never forwarded upstream.
FAIRNESS_HEADER = "x-gateway-inference-fairness-id"
OBJECTIVE_HEADER = "x-gateway-inference-objective"
MODEL_REWRITE_HEADER = "x-gateway-model-name-rewrite"
_REMOVED_HEADERS = (FAIRNESS_HEADER, OBJECTIVE_HEADER, MODEL_REWRITE_HEADER)

Responses = list[ext_pb.ProcessingResponse]


class RequestStream:
    """Answers the messages of one ext_proc stream; ``done`` once it must end."""

    def __init__(
        self,
        router: Router,
        *,
        max_body_bytes: int,
        chunk_bytes: int,
        default_mode: protocol.BodyMode,
    ) -> None:
        self._router = router
        self._max_body_bytes = max_body_bytes
        self._chunk_bytes = chunk_bytes
        self._request_mode = default_mode
        self._response_mode: protocol.BodyMode = protocol.BodyMode.NONE
        self._headers: dict[str, str] = {}
        self._request_id = ""
        self._body = bytearray()
        self._routed = False
        self.destination: str | None = None
        self.response_status: int | None = None
        self.done = False

    def on_message(self, message: ext_pb.ProcessingRequest) -> Responses:
        if message.HasField("protocol_config"):
            self._request_mode = message.protocol_config.request_body_mode
            self._response_mode = message.protocol_config.response_body_mode
        kind = message.WhichOneof("request")
        if kind == "request_headers":
            return self._on_request_headers(message.request_headers)
        if kind == "request_body":
            return self._on_request_body(message.request_body)
        if kind == "request_trailers":
            return [*self._finish_request(), protocol.continue_trailers(response=False)]
        if kind == "response_headers":
            status = protocol.header_map(message.response_headers).get(":status", "")
            self.response_status = int(status) if status.isdigit() else None
            return [protocol.continue_response_headers()]
        if kind == "response_body":
            return [self._on_response_body(message.response_body)]
        if kind == "response_trailers":
            return [protocol.continue_trailers(response=True)]
        return []

    @property
    def _full_duplex(self) -> bool:
        return bool(self._request_mode == protocol.FULL_DUPLEX_STREAMED)

    def _on_request_headers(self, headers: ext_pb.HttpHeaders) -> Responses:
        self._headers = protocol.header_map(headers)
        self._request_id = self._headers.get("x-request-id") or uuid.uuid4().hex
        if headers.end_of_stream:
            return self._finish_request()
        if self._full_duplex:
            return []  # held until the body is complete
        return [protocol.continue_request_headers()]

    def _on_request_body(self, body: ext_pb.HttpBody) -> Responses:
        if self._routed:
            return []
        self._body += body.body
        if len(self._body) > self._max_body_bytes:
            return self._reject(
                RequestError(413, f"request body exceeds {self._max_body_bytes} bytes")
            )
        if body.end_of_stream:
            return self._finish_request()
        return []

    def _finish_request(self) -> Responses:
        if self._routed or self.done:
            return []
        self._routed = True
        body = bytes(self._body)
        try:
            request = parse_inference_request(
                request_id=self._request_id, path=self._headers.get(":path", ""), body=body
            )
            self.destination = self._router.route(request)
        except RequestError as exc:
            return self._reject(exc)
        set_headers = {protocol.DESTINATION_HEADER: self.destination}
        if "x-request-id" not in self._headers:
            set_headers["x-request-id"] = self._request_id
        mutation = protocol.header_mutation(set_headers=set_headers, remove=_REMOVED_HEADERS)
        if not self._full_duplex:
            if not body:  # headers-only request: route on the headers answer
                return [protocol.routed_headers_response(mutation, self.destination)]
            return [protocol.routed_body_response(mutation, self.destination, body=None)]
        responses = [protocol.routed_headers_response(mutation, self.destination)]
        if body:
            responses.extend(protocol.streamed_body_chunks(body, self._chunk_bytes))
        return responses

    def _on_response_body(self, body: ext_pb.HttpBody) -> ext_pb.ProcessingResponse:
        if self._response_mode == protocol.FULL_DUPLEX_STREAMED:
            return protocol.streamed_response_body(body.body, end_of_stream=body.end_of_stream)
        return ext_pb.ProcessingResponse(response_body=ext_pb.BodyResponse())

    def _reject(self, error: RequestError) -> Responses:
        self.done = True
        self._router.metrics.rejected.labels(str(error.status)).inc()
        return [protocol.immediate_response(error.status, error.message)]
