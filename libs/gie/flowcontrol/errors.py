"""Errors of the flow-control contract (client, messages, configuration).

GieFlowControlError
├── InvalidAdmitRequestError     an Admit request is malformed (also a ValueError)
└── FlowControlCallError         an Admit call ended without an outcome
    ├── FlowControlUnavailableError   no flow-controller replica answered, after retries
    ├── FlowControlTimeoutError       the call's deadline passed before an outcome
    └── FlowControlStateLostError     the flow state lost the queued request (Redis restart)

Configuration problems are pydantic ``ValidationError``s naming the field.
"""

from __future__ import annotations


class GieFlowControlError(Exception):
    """Base of every error raised by :mod:`gie.flowcontrol`."""


class InvalidAdmitRequestError(GieFlowControlError, ValueError):
    """An Admit request cannot be served as given (bad id, flow, size or endpoint)."""


class FlowControlCallError(GieFlowControlError):
    """An Admit call ended without an outcome."""


class FlowControlUnavailableError(FlowControlCallError):
    """No flow-controller replica could serve the call."""


class FlowControlTimeoutError(FlowControlCallError):
    """The call's deadline passed before the flow-controller answered."""


class FlowControlStateLostError(FlowControlCallError):
    """The request was queued, then lost from the flow state (Redis restarted without
    it): it will never be dispatched; the caller may send it again."""
