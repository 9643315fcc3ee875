"""Envoy ext_proc: the gRPC servicer and the per-request conversation.

One asyncio task per Envoy stream (grpc.aio). Routing decisions are made
synchronously from the in-memory view on the same loop, so a stream never
waits on I/O to be routed.
"""

from __future__ import annotations

from gie_picker.extproc.request_stream import RequestStream
from gie_picker.extproc.servicer import ExtProcServicer, add_servicer

__all__ = ["ExtProcServicer", "RequestStream", "add_servicer"]
