"""Errors of the events package.

GieEventError
└── EventDecodeError   a payload is not a valid event (bad JSON, unknown type, bad field)
"""

from __future__ import annotations


class GieEventError(Exception):
    """Base of every error raised by :mod:`gie.events`."""


class EventDecodeError(GieEventError):
    """A payload could not be turned into a known event."""
