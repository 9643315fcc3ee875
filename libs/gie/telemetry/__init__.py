"""Telemetry shared by services: structured logs, health checks, the admin app."""

from __future__ import annotations

from gie.telemetry.admin import AdminApp, AdminServer, build_admin_app
from gie.telemetry.health import Health
from gie.telemetry.logging import configure_logging

__all__ = ["AdminApp", "AdminServer", "Health", "build_admin_app", "configure_logging"]
