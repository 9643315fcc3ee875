"""The load generator: asyncio + aiohttp, streaming, loopback only.

:mod:`~bench.loadgen.arrivals` (Poisson offsets), :mod:`~bench.loadgen.client` (one
streaming request, timed), :mod:`~bench.loadgen.driver` (a whole workload under a
:class:`Load`), :mod:`~bench.loadgen.side` (a second client straight to the servers).
Runs on the caller's event loop; bounded in request count and time.
"""

from __future__ import annotations

from bench.loadgen.arrivals import poisson_offsets
from bench.loadgen.client import RequestResult, send_streaming
from bench.loadgen.driver import Load, drive
from bench.loadgen.side import drive_side

__all__ = ["Load", "RequestResult", "drive", "drive_side", "poisson_offsets", "send_streaming"]
