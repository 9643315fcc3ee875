"""The answers that route a request, copied from templates.

Every routed request gets the same answer but for the destination (header and
``envoy.lb`` metadata), sometimes ``x-request-id`` and ``content-length``, and in
``BUFFERED`` mode a rewritten body; and, when the gateway reports completions in
access-log records, the request's names in the ``gie.route`` metadata namespace.
Copying a prebuilt answer and setting those fields costs about a third of
building the nested messages field by field; the answer is the same message
either way (``protocol.routed_headers_response`` and
``protocol.routed_body_response`` remain the reference).
"""

from __future__ import annotations

from dataclasses import dataclass

from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb

from gie import completion_records, epp_protocol
from gie_picker.extproc import protocol

_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD


class RoutedAnswers:
    """Routing answers that set the destination first and remove ``remove``."""

    def __init__(self, *, remove: tuple[str, ...]) -> None:
        mutation = protocol.header_mutation(
            set_headers={epp_protocol.DESTINATION_HEADER: ""}, remove=remove
        )
        self._headers = protocol.routed_headers_response(mutation, "")
        self._body = protocol.routed_body_response(mutation, "", body=None)

    def headers(
        self, destination: str, extra: dict[str, str], *, names: RouteNames | None = None
    ) -> ext_pb.ProcessingResponse:
        """The request-headers answer (FULL_DUPLEX_STREAMED, or a headers-only request)."""
        answer = ext_pb.ProcessingResponse()
        answer.CopyFrom(self._headers)
        _route(answer, answer.request_headers.response, destination, extra, names)
        return answer

    def body(
        self,
        destination: str,
        extra: dict[str, str],
        *,
        new_body: bytes | None,
        names: RouteNames | None = None,
    ) -> ext_pb.ProcessingResponse:
        """The request-body answer (BUFFERED), with the rewritten body if any."""
        answer = ext_pb.ProcessingResponse()
        answer.CopyFrom(self._body)
        common = answer.request_body.response
        _route(answer, common, destination, extra, names)
        if new_body is not None:
            common.body_mutation.body = new_body
        return answer


@dataclass(frozen=True, slots=True)
class RouteNames:
    """What a completion record needs to name the request it ends."""

    request_id: str
    model: str
    target_model: str


def _route(
    answer: ext_pb.ProcessingResponse,
    common: ext_pb.CommonResponse,
    destination: str,
    extra: dict[str, str],
    names: RouteNames | None,
) -> None:
    set_headers = common.header_mutation.set_headers
    set_headers[0].header.raw_value = destination.encode()
    for key, value in extra.items():
        option = set_headers.add()
        option.header.key = key
        option.header.raw_value = value.encode()
        option.append_action = _OVERWRITE
    lb = answer.dynamic_metadata.fields[epp_protocol.LB_NAMESPACE].struct_value
    lb.fields[epp_protocol.DESTINATION_HEADER].string_value = destination
    if names is not None:
        route = answer.dynamic_metadata.fields[completion_records.ROUTE_NAMESPACE].struct_value
        route.fields[completion_records.REQUEST_ID_KEY].string_value = names.request_id
        route.fields[completion_records.MODEL_KEY].string_value = names.model
        route.fields[completion_records.TARGET_MODEL_KEY].string_value = names.target_model
