"""The gRPC API: ``FlowControl.Admit`` and the health service."""

from __future__ import annotations

from gie_flow_controller.api.server import FlowControlServer
from gie_flow_controller.api.servicer import SERVICE_NAME, FlowControlServicer

__all__ = ["SERVICE_NAME", "FlowControlServer", "FlowControlServicer"]
