"""Completion records: the end of each routed request, reported by the gateway.

By default responses do not pass through the picker (Envoy's ext_proc filter
skips the response phases): the gateway reads the usage out of the response into
dynamic metadata and sends an access-log record per request, in batches, over
the gRPC access-log service on the picker's ext_proc port.

* :mod:`~gie_picker.completions.records` reads one record
  (:class:`CompletionRecord`, or None for a request no picker routed);
* :mod:`~gie_picker.completions.record_service` is the gRPC service: it counts
  batches, records and lost streams and hands each completion to the director.

Concurrency: the service runs on the event loop that feeds the view, like the
ext_proc streams; reading a record is a pure function.
"""

from __future__ import annotations

from gie_picker.completions.metrics import RecordMetrics
from gie_picker.completions.record_service import (
    CompletionRecordService,
    add_record_service,
)
from gie_picker.completions.records import CompletionRecord, RecordError, read_record

__all__ = [
    "CompletionRecord",
    "CompletionRecordService",
    "RecordError",
    "RecordMetrics",
    "add_record_service",
    "read_record",
]
