"""Settings of the ingest service (environment, prefix ``GIE_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from gie.config import ServiceSettings


class IngestSettings(ServiceSettings):
    pool_file: Path = Field(description="YAML pool file: pool name and endpoints.")
    pool_file_poll_s: float = Field(
        default=2.0, gt=0, description="How often the pool file is checked for changes."
    )
    admin_port: int = Field(default=9093, ge=0, le=65535)
