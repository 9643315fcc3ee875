"""Errors of the bus package.

GieBusError
├── BusConnectError   the message bus could not be reached in time
└── BusPublishError   an event was not acknowledged by the bus
"""

from __future__ import annotations


class GieBusError(Exception):
    """Base of every error raised by :mod:`gie.bus`."""


class BusConnectError(GieBusError):
    """The bus could not be reached before the deadline."""


class BusPublishError(GieBusError):
    """An event was not stored by the bus."""
