"""Builders and readers of Envoy ext_proc messages (one place for protobuf details)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from envoy.config.core.v3 import base_pb2
from envoy.extensions.filters.http.ext_proc.v3 import processing_mode_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from envoy.type.v3 import http_status_pb2
from google.protobuf import struct_pb2

from gie.epp_protocol import (
    DESTINATION_HEADER,
    LB_NAMESPACE,
    SERVED_KEY,
    SUBSET_KEY,
    SUBSET_NAMESPACE,
)

BodyMode = processing_mode_pb2.ProcessingMode.BodySendMode
FULL_DUPLEX_STREAMED = processing_mode_pb2.ProcessingMode.FULL_DUPLEX_STREAMED
BUFFERED = processing_mode_pb2.ProcessingMode.BUFFERED
NONE = processing_mode_pb2.ProcessingMode.NONE

_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD


def header_map(headers: ext_pb.HttpHeaders) -> dict[str, str]:
    """Headers as a dict of lower-case names (Envoy sends raw_value bytes)."""
    result: dict[str, str] = {}
    for header in headers.headers.headers:  # each attribute read costs: read each once
        raw = header.raw_value
        result[header.key.lower()] = raw.decode("utf-8", "replace") if raw else header.value
    return result


def header_values(headers: ext_pb.HttpHeaders, names: frozenset[str]) -> dict[str, str]:
    """Only the headers named in ``names`` (lower case), as ``header_map`` reads them."""
    result: dict[str, str] = {}
    for header in headers.headers.headers:
        key = header.key.lower()
        if key in names:
            raw = header.raw_value
            result[key] = raw.decode("utf-8", "replace") if raw else header.value
            if len(result) == len(names):
                break  # the rest is not read at all
    return result


def header_mutation(
    *, set_headers: dict[str, str], remove: tuple[str, ...] = ()
) -> ext_pb.HeaderMutation:
    return ext_pb.HeaderMutation(
        set_headers=[
            base_pb2.HeaderValueOption(
                header=base_pb2.HeaderValue(key=key, raw_value=value.encode()),
                append_action=_OVERWRITE,
            )
            for key, value in set_headers.items()
        ],
        remove_headers=list(remove),
    )


def _struct_strings(value: struct_pb2.Value) -> tuple[str, ...]:
    if value.HasField("list_value"):
        return tuple(v.string_value for v in value.list_value.values if v.string_value)
    if value.HasField("string_value"):
        return tuple(p.strip() for p in value.string_value.split(",") if p.strip())
    return ()


def subset_hint(message: ext_pb.ProcessingRequest) -> tuple[str, ...] | None:
    """The gateway's endpoint subset, or None when the key is absent."""
    namespace = message.metadata_context.filter_metadata.get(SUBSET_NAMESPACE)
    if namespace is None or SUBSET_KEY not in namespace.fields:
        return None
    return _struct_strings(namespace.fields[SUBSET_KEY])


def served_endpoint(message: ext_pb.ProcessingRequest) -> str | None:
    """The endpoint that actually served the request, when the gateway says."""
    namespace = message.metadata_context.filter_metadata.get(LB_NAMESPACE)
    if namespace is None or SERVED_KEY not in namespace.fields:
        return None
    values = _struct_strings(namespace.fields[SERVED_KEY])
    return values[0] if values else None


def destination_metadata(destination: str) -> struct_pb2.Struct:
    metadata = struct_pb2.Struct()  # filled field by field: Struct.update is slow Python
    metadata.fields[LB_NAMESPACE].struct_value.fields[DESTINATION_HEADER].string_value = destination
    return metadata


def routed_headers_response(
    mutation: ext_pb.HeaderMutation, destination: str
) -> ext_pb.ProcessingResponse:
    """The request-headers answer that routes the request (FULL_DUPLEX_STREAMED)."""
    return ext_pb.ProcessingResponse(
        request_headers=ext_pb.HeadersResponse(
            response=ext_pb.CommonResponse(header_mutation=mutation, clear_route_cache=True)
        ),
        dynamic_metadata=destination_metadata(destination),
    )


def routed_body_response(
    mutation: ext_pb.HeaderMutation, destination: str, *, body: bytes | None
) -> ext_pb.ProcessingResponse:
    """The request-body answer that routes the request (BUFFERED)."""
    common = ext_pb.CommonResponse(header_mutation=mutation, clear_route_cache=True)
    if body is not None:
        common.body_mutation.body = body
    return ext_pb.ProcessingResponse(
        request_body=ext_pb.BodyResponse(response=common),
        dynamic_metadata=destination_metadata(destination),
    )


def _streamed(body: bytes, *, end_of_stream: bool, request: bool) -> ext_pb.ProcessingResponse:
    answer = ext_pb.BodyResponse(
        response=ext_pb.CommonResponse(
            body_mutation=ext_pb.BodyMutation(
                streamed_response=ext_pb.StreamedBodyResponse(
                    body=body, end_of_stream=end_of_stream
                )
            )
        )
    )
    if request:
        return ext_pb.ProcessingResponse(request_body=answer)
    return ext_pb.ProcessingResponse(response_body=answer)


# Answers are copied from these and the varying fields set: building the nested
# messages field by field costs three to four times as much, on every chunk.
_REQUEST_CHUNK = _streamed(b"", end_of_stream=False, request=True)
_RESPONSE_CHUNK = _streamed(b"", end_of_stream=False, request=False)


def _chunk(body: bytes, end_of_stream: bool, *, request: bool) -> ext_pb.ProcessingResponse:
    answer = ext_pb.ProcessingResponse()
    answer.CopyFrom(_REQUEST_CHUNK if request else _RESPONSE_CHUNK)
    part = answer.request_body if request else answer.response_body
    streamed = part.response.body_mutation.streamed_response
    streamed.body = body
    streamed.end_of_stream = end_of_stream
    return answer


def streamed_body_chunks(body: bytes, chunk: int) -> Iterator[ext_pb.ProcessingResponse]:
    """Re-stream a request body in ``chunk``-byte pieces, end_of_stream on the last."""
    last = max(len(body) - 1, 0) // chunk * chunk
    for start in range(0, last + 1, chunk):
        yield _chunk(body[start : start + chunk], start == last, request=True)


def continue_request_headers() -> ext_pb.ProcessingResponse:
    return ext_pb.ProcessingResponse(request_headers=ext_pb.HeadersResponse())


def continue_response_headers() -> ext_pb.ProcessingResponse:
    return ext_pb.ProcessingResponse(response_headers=ext_pb.HeadersResponse())


def streamed_response_body(body: bytes, *, end_of_stream: bool) -> ext_pb.ProcessingResponse:
    return _chunk(body, end_of_stream, request=False)


def continue_trailers(*, response: bool) -> ext_pb.ProcessingResponse:
    if response:
        return ext_pb.ProcessingResponse(response_trailers=ext_pb.TrailersResponse())
    return ext_pb.ProcessingResponse(request_trailers=ext_pb.TrailersResponse())


def immediate_response(status: int, message: str) -> ext_pb.ProcessingResponse:
    """Answer the client directly with ``status`` and a JSON error body."""
    body = (
        b'{"error":{"message":'
        + orjson.dumps(message)
        + b',"type":"gateway_error","code":'
        + str(status).encode()
        + b"}}"
    )
    return ext_pb.ProcessingResponse(
        immediate_response=ext_pb.ImmediateResponse(
            status=http_status_pb2.HttpStatus(code=status),
            headers=header_mutation(set_headers={"content-type": "application/json"}),
            body=body,
            details=message[:200],
        )
    )
