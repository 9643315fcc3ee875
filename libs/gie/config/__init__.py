"""Configuration: environment settings (``GIE_`` prefix) shared by services."""

from __future__ import annotations

from gie.config.settings import ServiceSettings

__all__ = ["ServiceSettings"]
