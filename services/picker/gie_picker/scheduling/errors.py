"""Errors raised by the scheduling framework.

::

    SchedulingError                 scheduling could not produce a destination
    ├── NoEndpointError             the filters left no candidate (HTTP 503)
    └── DuplicatePluginTypeError    a plugin type was registered twice (a start-up bug)
"""

from __future__ import annotations


class SchedulingError(Exception):
    """Scheduling could not produce a destination."""


class NoEndpointError(SchedulingError):
    """No endpoint is left to route the request to."""


class DuplicatePluginTypeError(SchedulingError):
    """A plugin type name was registered twice."""
