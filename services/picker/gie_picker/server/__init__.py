"""How the picker serves: the gRPC server, its health service, the worker processes.

:func:`build_grpc_server` puts the ext_proc servicer (:mod:`gie_picker.extproc`)
and :class:`GrpcHealth` (liveness, readiness, ext_proc; ready once the view
caught up) on one ``grpc.aio`` server, on the shared port and, with several
workers, the worker's own. :func:`supervise` runs ``--workers N`` copies of the
picker sharing that port (``SO_REUSEPORT``), each with the environment
:func:`worker_env` gives it.

Concurrency: the server and its health service run on the service's event
loop; the supervisor is a plain blocking process that only starts, watches and
signals its workers.
"""

from __future__ import annotations

from gie_picker.server.grpc_server import MESSAGE_OVERHEAD_BYTES, build_grpc_server
from gie_picker.server.health import GrpcHealth
from gie_picker.server.workers import prepare_worker_tls, supervise, worker_env

__all__ = [
    "MESSAGE_OVERHEAD_BYTES",
    "GrpcHealth",
    "build_grpc_server",
    "prepare_worker_tls",
    "supervise",
    "worker_env",
]
