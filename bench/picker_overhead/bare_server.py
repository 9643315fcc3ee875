"""The baseline: a bare ``grpc.aio`` ext_proc server that always answers one fixed endpoint.

It speaks ``FULL_DUPLEX_STREAMED`` the way the picker does, so Envoy sends it exactly the
messages it sends the picker under the shipped configuration: the request-headers answer
is held until the body's end-of-stream, then the headers answer (destination header,
``envoy.lb`` dynamic metadata, ``clear_route_cache``) is sent and the body re-streamed;
response headers, body and trailers pass straight through. It parses nothing and keeps
no view: whatever the picker costs above this is the picker's own work.

Run as a program, by path (``python bare_server.py --port P --stats-port S --destination
ip:port``): it imports only grpc and the Envoy stubs, nothing of the harness. Each
stream is counted; a TCP connection to ``--stats-port`` receives the count as one line.
SIGTERM or SIGINT stops it. One asyncio loop; the counter is only touched on it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ext_grpc
from google.protobuf import struct_pb2

from gie.epp_protocol import DESTINATION_HEADER, LB_NAMESPACE

CHUNK_BYTES = 62_000  # what the picker (and upstream) re-stream request bodies in

_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
Responses = list[ext_pb.ProcessingResponse]


def _routed_headers(destination: str) -> ext_pb.ProcessingResponse:
    mutation = ext_pb.HeaderMutation(
        set_headers=[
            base_pb2.HeaderValueOption(
                header=base_pb2.HeaderValue(key=DESTINATION_HEADER, raw_value=destination.encode()),
                append_action=_OVERWRITE,
            )
        ]
    )
    metadata = struct_pb2.Struct()
    metadata.update({LB_NAMESPACE: {DESTINATION_HEADER: destination}})
    return ext_pb.ProcessingResponse(
        request_headers=ext_pb.HeadersResponse(
            response=ext_pb.CommonResponse(header_mutation=mutation, clear_route_cache=True)
        ),
        dynamic_metadata=metadata,
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


class _Stream:
    """One request's conversation: hold headers, route at body end, echo the rest."""

    def __init__(self, destination: str) -> None:
        self._destination = destination
        self._body = bytearray()
        self._routed = False

    def on_message(self, message: ext_pb.ProcessingRequest) -> Responses:
        kind = message.WhichOneof("request")
        if kind == "request_headers":
            return self._route() if message.request_headers.end_of_stream else []
        if kind == "request_body":
            self._body += message.request_body.body
            return self._route() if message.request_body.end_of_stream else []
        if kind == "request_trailers":
            trailers = ext_pb.ProcessingResponse(request_trailers=ext_pb.TrailersResponse())
            return [*self._route(), trailers]
        if kind == "response_headers":
            return [ext_pb.ProcessingResponse(response_headers=ext_pb.HeadersResponse())]
        if kind == "response_body":
            body = message.response_body
            return [_streamed(body.body, end_of_stream=body.end_of_stream, request=False)]
        if kind == "response_trailers":
            return [ext_pb.ProcessingResponse(response_trailers=ext_pb.TrailersResponse())]
        return []

    def _route(self) -> Responses:
        if self._routed:
            return []
        self._routed = True
        body = bytes(self._body)
        pieces = [body[i : i + CHUNK_BYTES] for i in range(0, len(body), CHUNK_BYTES)] or [b""]
        last = len(pieces) - 1
        return [
            _routed_headers(self._destination),
            *(_streamed(p, end_of_stream=i == last, request=True) for i, p in enumerate(pieces)),
        ]


class FixedEndpointProcessor(ext_grpc.ExternalProcessorServicer):  # type: ignore[misc]
    """Routes every request to ``destination``; counts the streams it served."""

    def __init__(self, destination: str) -> None:
        self._destination = destination
        self.streams = 0

    async def Process(
        self,
        request_iterator: AsyncIterator[ext_pb.ProcessingRequest],
        context: grpc.aio.ServicerContext[ext_pb.ProcessingRequest, ext_pb.ProcessingResponse],
    ) -> AsyncIterator[ext_pb.ProcessingResponse]:
        self.streams += 1
        stream = _Stream(self._destination)
        async for message in request_iterator:
            for response in stream.on_message(message):
                yield response


async def _serve(*, port: int, stats_port: int, destination: str) -> None:
    processor = FixedEndpointProcessor(destination)
    server = grpc.aio.server()
    ext_grpc.add_ExternalProcessorServicer_to_server(processor, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()

    async def tell_count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"{processor.streams}\n".encode())
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    stats = await asyncio.start_server(tell_count, "127.0.0.1", stats_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        stats.close()
        await stats.wait_closed()
        await server.stop(grace=1.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Bare ext_proc server: one fixed endpoint.")
    parser.add_argument("--port", type=int, required=True, help="ext_proc gRPC port")
    parser.add_argument("--stats-port", type=int, required=True, help="stream-count port")
    parser.add_argument("--destination", required=True, help="ip:port every request goes to")
    args = parser.parse_args(argv)
    asyncio.run(_serve(port=args.port, stats_port=args.stats_port, destination=args.destination))


if __name__ == "__main__":
    main()
