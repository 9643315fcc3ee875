"""The picker's gRPC server: ext_proc, the completion-record service, health."""

from __future__ import annotations

import grpc
import structlog

from gie.tls import ReloadingServerCredentials
from gie_picker.completions import CompletionRecordService, add_record_service
from gie_picker.extproc import ExtProcServicer, add_servicer
from gie_picker.extproc.protocol import BUFFERED, FULL_DUPLEX_STREAMED
from gie_picker.requestcontrol.director import Director
from gie_picker.server.health import GrpcHealth
from gie_picker.settings import PickerSettings

_log = structlog.get_logger("gie.picker")

# Room for an ext_proc message's headers, attributes and metadata around the body.
MESSAGE_OVERHEAD_BYTES = 1 << 20


def build_grpc_server(
    settings: PickerSettings,
    director: Director,
    *,
    records: CompletionRecordService | None = None,
    tls: ReloadingServerCredentials | None = None,
) -> tuple[grpc.aio.Server, GrpcHealth]:
    """ext_proc on the shared port (and the worker's own port, if any), plus health.

    With ``records``, the gateway's access-log service (completion records) is served
    on the same ports and streams whose response Envoy does not send wait for them.
    With ``tls``, every port serves TLS only, with certificates reloaded on change.
    """
    # SO_REUSEPORT lets several worker processes serve one port. A BUFFERED body comes
    # in one message: gRPC's default 4 MiB cap would refuse bodies below our own limit
    # before they reach the handler (no 413, nothing logged); above the limit plus the
    # message's other fields it still does.
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 1),
            ("grpc.max_receive_message_length", settings.max_body_bytes + MESSAGE_OVERHEAD_BYTES),
        ]
    )
    mode = BUFFERED if settings.default_body_mode == "BUFFERED" else FULL_DUPLEX_STREAMED
    add_servicer(
        server,
        ExtProcServicer(
            director,
            max_body_bytes=settings.max_body_bytes,
            chunk_bytes=settings.body_chunk_bytes,
            default_mode=mode,
            completion_records=records is not None,
        ),
    )
    if records is not None:
        add_record_service(server, records)
    health = GrpcHealth(server)
    addresses = [f"{settings.grpc_host}:{settings.grpc_port}"]
    if settings.worker_port_base:
        addresses.append(
            f"{settings.grpc_host}:{settings.worker_port_base + settings.worker_index}"
        )
    for address in addresses:
        if tls is None:
            server.add_insecure_port(address)
        else:
            server.add_secure_port(address, tls.credentials())
    _log.info(
        "ext_proc listening",
        addresses=addresses,
        tls="off" if tls is None else "on",
        client_certificates="required" if tls and tls.files.client_ca else "not requested",
    )
    return server, health
