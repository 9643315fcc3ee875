"""Settings of the flow-controller (environment, prefix ``GIE_``)."""

from __future__ import annotations

from pydantic import Field

from gie.config import ServiceSettings


class FlowControllerSettings(ServiceSettings):
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis URL.")
    redis_check_s: float = Field(default=2.0, gt=0, description="Redis health-check period.")
    admin_port: int = Field(default=9094, ge=0, le=65535)
